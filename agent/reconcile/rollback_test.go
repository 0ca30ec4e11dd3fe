package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/store"
)

// rollback rolls h's node back and fails the test if it is refused.
func (h *harness) rollback(rev, reason string) *Result {
	h.t.Helper()
	res, err := h.rec.Rollback(context.Background(), rev, reason)
	if err != nil {
		h.t.Fatalf("rollback to %q: %v", rev, err)
	}
	h.rec.Settle(context.Background(), res)
	return res
}

// refused checks that rolling back to rev is refused with want in the
// reason.
func (h *harness) refused(rev, want string) {
	h.t.Helper()
	res, err := h.rec.Rollback(context.Background(), rev, "")
	if !errors.Is(err, localapi.ErrRefused) || !strings.Contains(err.Error(), want) {
		h.t.Errorf("rollback to %q: %+v, %v; want a refusal saying %q", rev, res, err, want)
	}
}

// TestRollback: the previous revision's daemons come back from the cache
// with no fetch, the node is held there against the next pass and a
// restart, and resume applies the head again.
func TestRollback(t *testing.T) {
	h := newHarness(t)
	a := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	b := h.src.Commit(fake.Repo(fake.Proxied("ws", "/ws")))
	h.reconcile(OutcomeApplied)
	fetches := h.src.Fetches

	// The Git server is not needed: the cache has the revision.
	h.src.Unreachable = true
	res := h.rollback("", "bad deploy")
	h.src.Unreachable = false
	rep := res.Report()
	if !rep.Converged() || rep.Revision != a || rep.Suspension == nil || rep.Suspension.RolledBackFrom != b ||
		rep.Suspension.Reason != "bad deploy" || rep.Head != b {
		t.Errorf("rollback: %+v", rep)
	}
	if got := h.programs(); !strings.Contains(got, "daemon-acme-reverb RUNNING") || strings.Contains(got, "ws") {
		t.Errorf("supervisord after rollback:\n%s", got)
	}
	if h.applied() != a || h.src.Fetches != fetches {
		t.Errorf("applied %s after rollback, %d fetches", h.applied(), h.src.Fetches-fetches)
	}
	h.reconcile(OutcomeUnchanged)
	h.newReconciler()
	h.rec.Restore(context.Background())
	h.reconcile(OutcomeUnchanged)
	if h.applied() != a || strings.Contains(h.programs(), "ws") {
		t.Errorf("the next pass or a restart undid the rollback:\n%s", h.programs())
	}
	h.rec.Resume()
	h.reconcile(OutcomeApplied)
	if h.applied() != b || !strings.Contains(h.programs(), "daemon-acme-ws RUNNING") {
		t.Errorf("resume after rollback did not apply the head:\n%s", h.programs())
	}
}

// TestRollbackWhenSuspended: a rollback replaces the hold, and a second
// one goes further back, not forward to the revision the first one left.
func TestRollbackWhenSuspended(t *testing.T) {
	h := newHarness(t)
	a := h.src.Commit(fake.Repo(fake.Proxied("one", "/one")))
	h.reconcile(OutcomeApplied)
	b := h.src.Commit(fake.Repo(fake.Proxied("two", "/two")))
	h.reconcile(OutcomeApplied)
	c := h.src.Commit(fake.Repo(fake.Proxied("three", "/three")))
	h.reconcile(OutcomeApplied)
	h.suspend("first")

	if rep := h.rollback("", "").Report(); rep.Revision != b || rep.Suspension.RolledBackFrom != c || rep.Suspension.Reason != "" {
		t.Errorf("rollback of a suspended node: %+v", rep.Suspension)
	}
	if rep := h.rollback("", "again").Report(); rep.Revision != a || rep.Suspension.RolledBackFrom != b {
		t.Errorf("a second rollback: revision %s, %+v; want %s", rep.Revision, rep.Suspension, a)
	}
	if !strings.Contains(h.programs(), "daemon-acme-one RUNNING") || strings.Contains(h.programs(), "two") {
		t.Errorf("supervisord:\n%s", h.programs())
	}
	// Forward again by name, still held; a prefix must name one.
	h.refused("0000", "names more than one revision this node applied")
	if rep := h.rollback(c, "").Report(); rep.Revision != c || rep.Suspension == nil {
		t.Errorf("rollback to %s: %+v", c, rep)
	}
}

// TestRollbackRefusals: a rollback that cannot be done changes nothing
// and says why.
func TestRollbackRefusals(t *testing.T) {
	h := newHarness(t)
	h.refused("", "nothing has been applied on this node yet")
	a := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	h.refused("", "holds no revision applied before")
	b := h.src.Commit(fake.Repo(fake.Proxied("ws", "/ws")))
	h.reconcile(OutcomeApplied)
	bad := h.src.Commit(fake.Repo(fake.Daemon("x", "bogus = 1")))
	h.reconcile(OutcomeRejected)
	never := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws")))

	h.refused(never, "is not one this node applied")
	h.refused("abc", "is not one this node applied") // too short a prefix
	h.refused(bad, "was rejected on this node, never applied")
	h.refused(b, "the node runs "+b[:12]+" already")
	// The plan of a is invalid under this binary (a newer drover reads
	// the old commit otherwise).
	files := fake.Repo(fake.Proxied("reverb", "/app"))
	h.src.Rewrite(a, fake.Repo(fake.Daemon("reverb", "bogus = 1")))
	h.refused(a, "this drover cannot load revision "+a[:12]+": it is invalid")
	h.src.Rewrite(a, files)
	h.src.Forget(a)
	h.refused(a, "is not in this node's Git cache")
	if h.applied() != b || h.rec.state.Suspension != nil || !strings.Contains(h.programs(), "daemon-acme-ws RUNNING") {
		t.Errorf("a refused rollback changed the node: applied %s, %+v\n%s", h.applied(), h.rec.state.Suspension, h.programs())
	}
}

// TestRollbackInterrupted: an agent stopped after the hold was recorded
// but before the rollback applied goes to the held revision at its first
// pass.
func TestRollbackInterrupted(t *testing.T) {
	h := newHarness(t)
	a := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	b := h.src.Commit(fake.Repo(fake.Proxied("ws", "/ws")))
	h.reconcile(OutcomeApplied)
	h.store.SetSuspension(&store.Suspension{Revision: a, Since: h.clock, From: b})
	h.newReconciler()
	h.rec.Restore(context.Background())
	res := h.reconcile(OutcomeApplied)
	if res.Revision != a || h.applied() != a || !strings.Contains(h.programs(), "daemon-acme-reverb RUNNING") || strings.Contains(h.programs(), "ws") {
		t.Errorf("after an interrupted rollback: %+v\n%s", res, h.programs())
	}
}

// TestResumeAfterRollbackAppliesTheHead: the head the node rolled back
// from is applied by the next pass after resume, forced or not, though it
// is the head the node saw before.
func TestResumeAfterRollbackAppliesTheHead(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	b := h.src.Commit(fake.Repo(fake.Proxied("ws", "/ws")))
	h.reconcile(OutcomeApplied)
	h.rollback("", "")
	h.reconcile(OutcomeUnchanged)
	h.rec.Resume()
	if res := h.reconcile(OutcomeApplied); res.Revision != b || h.applied() != b {
		t.Errorf("the pass after resume: %+v", res)
	}
}
