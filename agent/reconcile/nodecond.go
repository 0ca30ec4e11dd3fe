package reconcile

import (
	"context"
	"fmt"
	"slices"

	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/nodecheck"
)

// CheckNode looks for the node's conditions — supervisord that does not
// answer, a network state not applied, nginx not running or its workers
// blocked by the bind isolation (see nodecheck) — and publishes them: in
// the status, in drover_node_condition, and as a log line when one
// appears or clears. It takes neither passMu nor mu, so a supervisord
// that hangs a pass shows while the pass waits for it; its own calls are
// bounded by the supervisord call timeout and a read of /proc.
func (a *Reconciler) CheckNode(ctx context.Context) []nodecheck.Condition {
	a.nodeMu.Lock()
	defer a.nodeMu.Unlock()
	conds := nodecheck.Conditions(a.nodeFacts(ctx))
	var prev []nodecheck.Condition
	if p := a.nodeConds.Swap(&conds); p != nil {
		prev = *p
	}
	a.logConditionChanges(prev, conds)
	a.metrics.setConditions(conds)
	return conds
}

// nodeFacts gathers what nodecheck.Conditions judges: supervisord's
// state, the network error and plan of the published snapshot, whether
// the bind isolation is applied (a network block and a stored network
// state), and, when nginx proxies a daemon, its processes from /proc.
func (a *Reconciler) nodeFacts(ctx context.Context) nodecheck.Facts {
	f := nodecheck.Facts{SupervisorSocket: a.cfg.Supervisor.Socket}
	if state, err := a.sup.State(ctx); err != nil {
		f.SupervisorErr = err
	} else if state != "RUNNING" {
		f.SupervisorErr = fmt.Errorf("its state is %s", state)
	}
	snap := a.snap.Load()
	f.NetworkErr = snap.state.NetworkError
	if snap.plan != nil {
		for _, w := range snap.plan.Webroots {
			f.Proxied += len(w.Locations)
		}
	}
	if a.net != nil {
		_, ok, err := a.store.Network()
		f.Isolation = ok && err == nil
	}
	if f.Proxied > 0 {
		if a.nginxScan == nil || a.nginxScan.ProcRoot != a.procRoot {
			a.nginxScan = &nodecheck.Scanner{ProcRoot: a.procRoot}
		}
		f.Nginx = a.nginxScan.Nginx(a.userNames())
	}
	return f
}

// userNames names a uid from the account database, read once, at the
// first uid asked about ("" when it cannot be read or lacks the uid).
func (a *Reconciler) userNames() func(uint32) string {
	var accounts launch.Accounts
	return func(uid uint32) string {
		if accounts == nil {
			read := a.accounts
			if read == nil {
				read = readPasswd
			}
			var err error
			if accounts, err = read(); err != nil {
				accounts = unreadable{err}
			}
		}
		acct, err := accounts.LookupUID(uid)
		if err != nil {
			return ""
		}
		return acct.Name
	}
}

// logConditionChanges logs the conditions that appeared (with what to
// do) and those that cleared since the last check, not those that stay.
func (a *Reconciler) logConditionChanges(prev, cur []nodecheck.Condition) {
	has := func(cs []nodecheck.Condition, name string) bool {
		return slices.ContainsFunc(cs, func(c nodecheck.Condition) bool { return c.Name == name })
	}
	for _, c := range cur {
		if !has(prev, c.Name) {
			a.log.Error("node condition", "condition", c.Name, "problem", c.Problem, "fix", c.Fix)
		}
	}
	for _, c := range prev {
		if !has(cur, c.Name) {
			a.log.Info("node condition cleared", "condition", c.Name)
		}
	}
}

// apiConditions are the conditions of the last check, for the status
// API: never nil.
func (a *Reconciler) apiConditions() []localapi.Condition {
	out := []localapi.Condition{}
	if p := a.nodeConds.Load(); p != nil {
		for _, c := range *p {
			out = append(out, localapi.Condition{Name: c.Name, Problem: c.Problem, Fix: c.Fix})
		}
	}
	return out
}
