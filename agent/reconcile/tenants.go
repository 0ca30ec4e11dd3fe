package reconcile

import (
	"cmp"
	"fmt"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/netplan"
)

// A tenant is who it says: the config repository accepts pull requests from
// people less trusted than root, and a tenant's uid decides whose files its
// daemons can touch. The agent therefore runs a tenant's daemons only when
// its uid lies in the configured range (tenants.uid_min..uid_max) and the
// uid's local passwd entry carries the tenant's name; otherwise nothing of
// the tenant is installed on the node (no program, no exec spec, no
// address) and its daemons are failed with the reason. `drover exec` checks
// the passwd entry again before it starts anything.

// readPasswd is the real account database: the local passwd file, read
// once per check; a local read needs no deadline.
func readPasswd() (launch.Accounts, error) { return launch.ReadPasswd(launch.PasswdFile) }

// refusedReason prefixes every refusal in daemon statuses.
const refusedReason = "tenant refused: "

// tenantRefusals checks the tenants of a plan (those with an address or a
// program on the node) and returns why each refused one is refused, by
// tenant name.
func tenantRefusals(plan *netplan.NodePlan, bounds config.Tenants, accounts launch.Accounts) map[string]string {
	out := map[string]string{}
	// A tenant checked twice gets the same answer (its uid is the same
	// everywhere in a plan): the shard's tens of thousands of tenants are
	// not remembered, only the last program's, whose neighbours in name
	// order are mostly the same tenant's.
	check := func(tenant string, uid uint32) {
		if _, refused := out[tenant]; refused {
			return
		}
		if uid < bounds.UIDMin || uid > bounds.UIDMax {
			out[tenant] = fmt.Sprintf("%suid %d of tenant %q is outside the agent's tenant uid range %d..%d (tenants.uid_min, tenants.uid_max)",
				refusedReason, uid, tenant, bounds.UIDMin, bounds.UIDMax)
			return
		}
		if _, err := launch.CheckTenant(accounts, tenant, uid); err != nil {
			out[tenant] = refusedReason + err.Error()
		}
	}
	for _, t := range plan.Addresses {
		check(t.Tenant, t.UID)
	}
	last := ""
	for _, d := range plan.Programs {
		if d.Tenant != last {
			check(d.Tenant, d.UID)
			last = d.Tenant
		}
	}
	return out
}

// refusedTenants checks the plan's tenants against the configured range and
// the accounts (see tenantRefusals). Accounts that cannot be read refuse
// every tenant: the check fails closed.
func (a *Reconciler) refusedTenants(plan *netplan.NodePlan) map[string]string {
	if plan == nil {
		return nil
	}
	return tenantRefusals(plan, a.cfg.Tenants, a.readAccounts())
}

// readAccounts reads the account database (a.mu held): once per pass
// within one (a.passAccounts, see inPass), so the desired state and the
// apply of a pass judge its tenants alike, and a node of 33,000 tenants
// parses its passwd once per commit, not twice.
func (a *Reconciler) readAccounts() launch.Accounts {
	if a.inPass && a.passAccounts != nil {
		return a.passAccounts
	}
	read := a.accounts
	if read == nil {
		read = readPasswd
	}
	accounts, err := read()
	if err != nil {
		accounts = unreadable{err}
	}
	if a.inPass {
		a.passAccounts = accounts
	}
	return accounts
}

// inPassFor marks a.mu's holder as a pass until the returned func runs:
// what is read once per pass is read afresh by the next (a.mu held).
func (a *Reconciler) inPassFor() func() {
	a.inPass, a.passAccounts = true, nil
	return func() { a.inPass, a.passAccounts = false, nil }
}

// unreadable is the account database when it cannot be read.
type unreadable struct{ err error }

func (u unreadable) LookupUID(uint32) (launch.Account, error) { return launch.Account{}, u.err }

// admitted is plan without the refused tenants' programs and addresses,
// and without the programs whose encrypted values do not open here
// (secrets.go): what the node installs (see desiredOf). plan itself is
// not changed.
func (a *Reconciler) admitted(plan *netplan.NodePlan) *netplan.NodePlan {
	return admit(plan, a.refusedTenants(plan), a.secrets.refusals(plan))
}

// admit is plan without the refused tenants and programs (reasons by
// tenant and by program).
func admit(plan *netplan.NodePlan, refused, programs map[string]string) *netplan.NodePlan {
	if len(refused) == 0 && len(programs) == 0 {
		return plan
	}
	p := *plan
	p.Programs, p.Addresses = nil, nil
	for _, d := range plan.Programs {
		if refused[d.Tenant] == "" && programs[d.Program] == "" {
			p.Programs = append(p.Programs, d)
		}
	}
	for _, t := range plan.Addresses {
		if refused[t.Tenant] == "" {
			p.Addresses = append(p.Addresses, t)
		}
	}
	return &p
}

// admission is what the check does to an apply pass: the plan without the
// refused tenants and programs, which the steps apply, and their daemons
// failed with the reason, merged once the steps are done.
type admission struct {
	stepResult
	plan *netplan.NodePlan
}

// admitTenants checks the plan's tenants, and the encrypted values of its
// programs (nil plan: nothing to check).
func (a *Reconciler) admitTenants(plan *netplan.NodePlan) admission {
	adm := admission{plan: plan}
	if plan == nil {
		return adm
	}
	refused, programs := a.refusedTenants(plan), a.secrets.refusals(plan)
	if len(refused) == 0 && len(programs) == 0 {
		return adm
	}
	adm.plan = admit(plan, refused, programs)
	for _, d := range plan.Programs {
		if reason := cmp.Or(refused[d.Tenant], programs[d.Program]); reason != "" {
			adm.failProgram(d.Program, reason)
		}
	}
	return adm
}
