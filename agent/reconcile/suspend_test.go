package reconcile

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/restart"
	"github.com/drover-sh/drover/agent/store"
)

// suspend holds h's node and fails the test if it cannot.
func (h *harness) suspend(reason string) store.Suspension {
	h.t.Helper()
	s, already, err := h.rec.Suspend(reason)
	if err != nil || already {
		h.t.Fatalf("suspend: %+v, already %t, %v", s, already, err)
	}
	return s
}

// applied is the store's applied revision.
func (h *harness) applied() string {
	h.t.Helper()
	rev, _, err := h.store.Applied()
	if err != nil {
		h.t.Fatal(err)
	}
	return rev
}

// programs lists the programs supervisord knows.
func (h *harness) programs() string { return h.sup.Snapshot() }

// TestSuspendHoldsTheRevision: a suspended node reports the new head but
// neither fetches nor applies it; drift repair goes on; a forced pass
// (drover reconcile) re-applies the held revision and says it is held;
// resume applies the head.
func TestSuspendHoldsTheRevision(t *testing.T) {
	h := newHarness(t)
	a := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	s := h.suspend("incident 42")
	if s.Revision != a || s.Reason != "incident 42" || !s.Since.Equal(h.clock) || s.From != "" {
		t.Errorf("suspension %+v", s)
	}
	if again, already, err := h.rec.Suspend("other"); !already || err != nil || again != s {
		t.Errorf("a second suspend: %+v, already %t, %v; want the first kept", again, already, err)
	}
	fetches := h.src.Fetches
	b := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "")))
	res := h.reconcile(OutcomeUnchanged)
	if res.Revision != a || res.Head != b || res.Suspension == nil || strings.Contains(h.programs(), "queue") ||
		h.applied() != a || h.src.Fetches != fetches {
		t.Fatalf("a suspended pass: %+v; supervisord:\n%s\napplied %s, %d fetches", res, h.programs(), h.applied(), h.src.Fetches-fetches)
	}
	st, _ := h.rec.Status()
	if st.Head != b || st.Suspension == nil || st.Suspension.Revision != a || st.Suspension.Reason != "incident 42" {
		t.Errorf("status: head %s, suspension %+v", st.Head, st.Suspension)
	}

	// A managed file deleted by hand is repaired.
	h.fs.Remove("/etc/nginx/drover/locations/acme_main.conf")
	h.rec.Repair(context.Background(), []string{"/etc/nginx/drover/locations/acme_main.conf"})
	if _, _, err := h.fs.ReadFile("/etc/nginx/drover/locations/acme_main.conf"); err != nil {
		t.Errorf("a suspended node did not repair a deleted file: %v", err)
	}

	// drover reconcile: the held revision again, not the head.
	res = h.rec.Reconcile(context.Background(), true)
	rep := res.Report()
	if !rep.Converged() || rep.Revision != a || rep.Head != b || rep.Suspension == nil || rep.Suspension.Revision != a ||
		strings.Contains(h.programs(), "queue") || h.src.Fetches != fetches {
		t.Errorf("a forced pass while suspended: %+v", rep)
	}

	lifted, err := h.rec.Resume()
	if err != nil || lifted == nil || lifted.Revision != a {
		t.Fatalf("resume: %+v, %v", lifted, err)
	}
	if again, err := h.rec.Resume(); again != nil || err != nil {
		t.Errorf("a second resume: %+v, %v", again, err)
	}
	res = h.reconcile(OutcomeApplied)
	if res.Revision != b || res.Suspension != nil || !strings.Contains(h.programs(), "daemon-acme-queue RUNNING") || h.applied() != b {
		t.Errorf("after resume: %+v\n%s", res, h.programs())
	}
}

// TestSuspendedNodeRetriesItsDaemons: a daemon of the held revision that
// failed is retried after its backoff, and the head stays unapplied.
func TestSuspendedNodeRetriesItsDaemons(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	h.nginx.Broken = "nginx: [emerg] unknown directive"
	a := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws")))
	h.reconcile(OutcomeFailed)
	h.suspend("")
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws"), fake.Daemon("queue", "")))
	h.nginx.Broken = ""
	h.reconcile(OutcomeUnchanged) // not due yet
	h.clock = h.clock.Add(restart.Backoff(1))
	res := h.reconcile(OutcomeApplied)
	if res.Revision != a || h.statuses()["acme/main/ws"].Status != StatusRunning || strings.Contains(h.programs(), "queue") {
		t.Errorf("the retry of a suspended node: %+v, ws %+v\n%s", res, h.statuses()["acme/main/ws"], h.programs())
	}
}

// TestSuspensionSurvivesARestart: an agent started again finds the hold in
// the store and keeps it: the head is not applied, and the metric says
// so.
func TestSuspensionSurvivesARestart(t *testing.T) {
	h := newHarness(t)
	a := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	h.suspend("hold")
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "")))
	h.newReconciler()
	h.rec.Restore(context.Background())
	h.reconcile(OutcomeUnchanged)
	if h.applied() != a || strings.Contains(h.programs(), "queue") {
		t.Errorf("a restarted agent applied the head:\n%s", h.programs())
	}
	if st, _ := h.rec.Status(); st.Suspension == nil || st.Suspension.Reason != "hold" {
		t.Errorf("status after a restart: %+v", st.Suspension)
	}
	if m := metricsOf(h); !strings.Contains(m, "drover_suspended 1\n") {
		t.Errorf("metrics lack drover_suspended 1:\n%s", m)
	}
	h.rec.Resume()
	if m := metricsOf(h); !strings.Contains(m, "drover_suspended 0\n") {
		t.Errorf("metrics lack drover_suspended 0 after resume")
	}
}

// TestSuspendRefusedBeforeAnyApply: there is no revision to stay at.
func TestSuspendRefusedBeforeAnyApply(t *testing.T) {
	h := newHarness(t)
	if _, _, err := h.rec.Suspend(""); !errors.Is(err, localapi.ErrRefused) {
		t.Errorf("suspend of a bare node: %v, want a refusal", err)
	}
}

// TestRejectedHeadWhileSuspended: an invalid head that comes while the
// node is held is neither loaded nor recorded as rejected; after resume it
// is rejected and the node keeps the held revision.
func TestRejectedHeadWhileSuspended(t *testing.T) {
	h := newHarness(t)
	a := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	h.suspend("")
	bad := h.src.Commit(fake.Repo(fake.Daemon("reverb", "bogus = 1")))
	h.reconcile(OutcomeUnchanged)
	if _, ok, _ := h.store.Rejection(bad); ok {
		t.Error("a suspended node loaded and rejected the head")
	}
	h.rec.Resume()
	res := h.reconcile(OutcomeRejected)
	if res.Revision != bad || h.applied() != a || !strings.Contains(h.programs(), "daemon-acme-reverb RUNNING") {
		t.Errorf("after resume: %+v, applied %s\n%s", res, h.applied(), h.programs())
	}
}

func metricsOf(h *harness) string {
	rec := httptest.NewRecorder()
	h.rec.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// TestUnreadableSuspensionHolds: a stored hold that cannot be read holds
// the node at its applied revision rather than applying the head.
func TestUnreadableSuspensionHolds(t *testing.T) {
	h := newHarness(t)
	a := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	if err := h.store.SetMeta(store.MetaSuspension, "{torn"); err != nil {
		t.Fatal(err)
	}
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "")))
	h.newReconciler()
	h.rec.Restore(context.Background())
	h.reconcile(OutcomeUnchanged)
	st, _ := h.rec.Status()
	if h.applied() != a || st.Suspension == nil || !strings.Contains(st.Suspension.Reason, "could not be read") {
		t.Errorf("applied %s, suspension %+v", h.applied(), st.Suspension)
	}
}

// TestUninstallLiftsTheHold: a node drover was removed from has nothing
// to hold; set up again, it follows its branch.
func TestUninstallLiftsTheHold(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	h.suspend("")
	if res := h.rec.Uninstall(context.Background()); res.Outcome != OutcomeUninstalled {
		t.Fatalf("uninstall: %+v", res)
	}
	if s, err := h.store.Suspension(); s != nil || err != nil {
		t.Errorf("the hold outlived the uninstall: %+v, %v", s, err)
	}
}
