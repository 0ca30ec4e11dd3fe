package reconcile

import (
	"context"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/store"
)

// crashLoading runs a pass in which loading rev "kills the agent" (a
// panic through the test hook, which the guard does not clear), then
// starts a new agent on the same store, as a restart would.
func crashLoading(h *harness, rev string) {
	h.t.Helper()
	h.loading = func(r string) {
		if r == rev {
			panic("killed while loading")
		}
	}
	defer func() {
		h.loading = nil
		if recover() == nil {
			h.t.Fatal("the pass did not reach the load")
		}
		h.newReconciler()
	}()
	h.rec.Reconcile(context.Background(), false)
}

// TestRevisionKillingTheLoadIsRejected: a revision during whose load the
// agent dies twice in a row is rejected after the restart, with the reason,
// like an invalid revision; the node keeps the last good one, and the next
// commit is loaded normally.
func TestRevisionKillingTheLoadIsRejected(t *testing.T) {
	h := newHarness(t)
	good := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	snap := h.sup.Snapshot()
	poison := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws")))

	crashLoading(h, poison)
	if v, _ := h.store.Meta(store.MetaLoading); v != poison+" 1" {
		t.Fatalf("after one crash the store holds %q", v)
	}
	crashLoading(h, poison)
	res := h.reconcile(OutcomeRejected)
	if !strings.Contains(res.Err.Error(), "stopped 2 times in a row while loading revision") ||
		!strings.Contains(res.Err.Error(), "Push a fixed commit") {
		t.Errorf("rejection does not say why: %v", res.Err)
	}
	if rej, ok, _ := h.store.Rejection(poison); !ok || !strings.Contains(rej.Diagnostics, "stopped 2 times") {
		t.Errorf("rejection not recorded: %+v %v", rej, ok)
	}
	if st, err := h.rec.Status(); err != nil || st.Rejected == nil || st.Rejected.Revision != poison {
		t.Errorf("status does not report the rejection: %+v %v", st, err)
	}
	if applied, _, _ := h.store.Applied(); applied != good || h.sup.Snapshot() != snap {
		t.Errorf("applied %s, want still %s; supervisord:\n%s", applied, good, h.sup.Snapshot())
	}
	// A restarted agent still rejects it, without loading it.
	h.loading = func(string) { t.Error("a rejected revision was loaded") }
	h.newReconciler()
	h.reconcile(OutcomeRejected)
	h.loading = nil

	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws2", "/ws")))
	h.reconcile(OutcomeApplied)
	if v, _ := h.store.Meta(store.MetaLoading); v != "" {
		t.Errorf("the guard is still armed after a load: %q", v)
	}
}

// TestOneCrashIsForgiven: one death while loading (a kill -9, a reboot)
// does not reject a good revision; a load that returns disarms the guard.
func TestOneCrashIsForgiven(t *testing.T) {
	h := newHarness(t)
	rev := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	crashLoading(h, rev)
	h.reconcile(OutcomeApplied)
	if v, _ := h.store.Meta(store.MetaLoading); v != "" {
		t.Errorf("the guard is still armed after a load: %q", v)
	}
	// A death loading another revision does not count for this one.
	if err := h.store.SetMeta(store.MetaLoading, "0123456789abcdef 1"); err != nil {
		t.Fatal(err)
	}
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws")))
	h.reconcile(OutcomeApplied)
}
