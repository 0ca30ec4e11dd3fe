package reconcile

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/restart"
)

// tenantWith is a tenant of shard web-1 with one daemon "d" on web-1a.
func tenantWith(name string, uid uint32) string {
	return fmt.Sprintf(`tenant %q {
  uid   = %d
  shard = "web-1"
  webroot "main" {
%s
  }
}
`, name, uid, fake.Daemon("d", ""))
}

// TestRefusedTenantsGetNothingInstalled: a pull request that gives a tenant
// the uid of the first admin account, of another user, or of nobody, or a
// uid outside the agent's range, gets no program, no exec spec and no
// address; its daemons fail with a reason naming the uid, the passwd name
// and the tenant, while the honest tenant runs. Once the account is right,
// the retry installs the daemon.
func TestRefusedTenantsGetNothingInstalled(t *testing.T) {
	h := newHarness(t)
	net := withNetwork(h)
	h.accounts = fake.Accounts{10042: "acme", 1000: "admin", 20000: "bob", 60000: "big"}
	files := fake.Repo(fake.Daemon("reverb", ""))
	files["admin.hcl"] = tenantWith("admin", 1000)      // right name, below uid_min
	files["mallory.hcl"] = tenantWith("mallory", 20000) // bob's uid
	files["ghost.hcl"] = tenantWith("ghost", 30000)     // no account
	files["big.hcl"] = tenantWith("big", 60000)         // right name, above uid_max
	h.src.Commit(files)
	res := h.reconcile(OutcomeFailed)

	want := map[string]string{
		"admin/main/d":   `tenant refused: uid 1000 of tenant "admin" is outside the agent's tenant uid range 10000..59999 (tenants.uid_min, tenants.uid_max)`,
		"mallory/main/d": `tenant refused: uid 20000 belongs to user "bob", not to tenant "mallory"; a tenant runs only as its own user`,
		"ghost/main/d":   `tenant refused: uid 30000 has no passwd entry; create the tenant's user first (useradd --uid 30000 ghost)`,
		"big/main/d":     `tenant refused: uid 60000 of tenant "big" is outside the agent's tenant uid range 10000..59999 (tenants.uid_min, tenants.uid_max)`,
	}
	statuses := h.statuses()
	for key, reason := range want {
		if st := statuses[key]; st.Status != StatusFailed || st.Reason != reason || res.Failed[key] != reason {
			t.Errorf("%s: status %s %q (result %q), want failed %q", key, st.Status, st.Reason, res.Failed[key], reason)
		}
	}
	if st := statuses["acme/main/reverb"]; st.Status != StatusRunning {
		t.Errorf("acme/main/reverb: %+v, want running", st)
	}
	if got := h.sup.Snapshot(); got != "daemon-acme-reverb:daemon-acme-reverb RUNNING pid=1001\n" {
		t.Errorf("supervisord runs:\n%s", got)
	}
	snap := h.fs.Snapshot()
	for _, tenant := range []string{"admin", "mallory", "ghost", "big"} {
		if strings.Contains(snap, "daemon-"+tenant) {
			t.Errorf("files of refused tenant %s installed:\n%s", tenant, snap)
		}
	}
	if addrs := net.Snapshot(); !strings.Contains(addrs, "::273a/128") || strings.Contains(addrs, "::4e20/128") || strings.Contains(addrs, "::3e8/128") {
		t.Errorf("network: want acme's address only among tenants:\n%s", addrs)
	}

	// The operator fixes the accounts: the next retry installs mallory's
	// daemon and the others stay refused.
	h.accounts[20000] = "mallory"
	h.clock = h.clock.Add(restart.Backoff(1))
	res = h.reconcile(OutcomeFailed)
	for _, c := range res.Changes {
		if strings.Contains(c, "restarted program daemon-") && !strings.Contains(c, "daemon-mallory-") {
			t.Errorf("the retry restarted a refused tenant's program (supervisord has none): %s", c)
		}
	}
	if st := h.statuses()["mallory/main/d"]; st.Status != StatusRunning {
		t.Errorf("mallory after the fix: %+v, want running", st)
	}
	if st := h.statuses()["ghost/main/d"]; st.Status != StatusFailed || !strings.Contains(st.Reason, "no passwd entry") {
		t.Errorf("ghost after the fix: %+v", st)
	}
}

// TestUnreadableAccountsRefuseEveryTenant: the check fails closed.
func TestUnreadableAccountsRefuseEveryTenant(t *testing.T) {
	h := newHarness(t)
	h.rec.accounts = func() (launch.Accounts, error) {
		return nil, fmt.Errorf("read accounts: open /etc/passwd: permission denied")
	}
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "")))
	h.reconcile(OutcomeFailed)
	if st := h.statuses()["acme/main/reverb"]; st.Status != StatusFailed || st.Reason != "tenant refused: read accounts: open /etc/passwd: permission denied" {
		t.Errorf("status %+v", st)
	}
	if got := h.sup.Snapshot(); strings.TrimSpace(got) != "" {
		t.Errorf("supervisord runs %q", got)
	}
}

// TestAccountsReadOncePerPass: a pass reads the account database once for
// its desired state and its apply alike, and the next pass reads it again:
// an account removed between two passes refuses its tenant in the second.
func TestAccountsReadOncePerPass(t *testing.T) {
	h := newHarness(t)
	h.accounts = fake.Accounts{10042: "acme"}
	reads := 0
	h.rec.accounts = func() (launch.Accounts, error) { reads++; return h.accounts, nil }
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "")))
	h.reconcile(OutcomeApplied)
	if reads != 1 {
		t.Fatalf("the pass read the accounts %d times, want once", reads)
	}
	h.accounts = fake.Accounts{}
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "      stop_wait_secs = 7")))
	res := h.reconcile(OutcomeFailed)
	if reads != 2 {
		t.Errorf("two passes read the accounts %d times, want twice", reads)
	}
	if !strings.Contains(res.Failed["acme/main/reverb"], "no passwd entry") {
		t.Errorf("acme's account gone: failed %v, want its tenant refused", res.Failed)
	}
}
