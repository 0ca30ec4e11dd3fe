package reconcile

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/failover"
	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/spec"
)

var poolSettings = failover.Settings{FailoverAfter: 10 * time.Second, FailbackAfter: 60 * time.Second, QuorumWindow: 3 * time.Second}

// withPool rebuilds the harness's reconciler with a pool timeline of web-1a
// that sees web-1b alive.
func withPool(h *harness) *failover.Timeline {
	h.live = failover.New("web-1a", poolSettings, failover.Resume{})
	h.live.Observe([]failover.Observation{{Name: "web-1b", Since: h.clock}}, h.clock)
	h.newReconciler()
	return h.live
}

func (h *harness) replan(want Outcome) *Result {
	h.t.Helper()
	res := h.rec.Replan(context.Background())
	h.rec.Settle(context.Background(), res)
	if res.Outcome != want {
		h.t.Fatalf("replan: outcome %s (err %v, failed %v), want %s", res.Outcome, res.Err, res.Failed, want)
	}
	return res
}

func (h *harness) wantSupervisor(want string) {
	h.t.Helper()
	if got := h.sup.Snapshot(); got != want {
		h.t.Fatalf("supervisord:\n%s\nwant:\n%s", got, want)
	}
}

// A singleton runs only while the gate is open: quorum held for
// failback_after + fence. Without it the program is installed, stopped and
// standby with the reason; the lease names it either way.
func TestSingletonRunsOnlyWhenTheGateOpens(t *testing.T) {
	h := newHarness(t)
	tl := withPool(h)
	h.src.Commit(fake.Repo(fake.Daemon("cron", "      singleton = true"), fake.Daemon("web", "")))
	h.reconcile(OutcomeApplied)
	h.wantSupervisor("daemon-acme-cron:daemon-acme-cron STOPPED\ndaemon-acme-web:daemon-acme-web RUNNING pid=1001\n")
	st := h.statuses()["acme/main/cron"]
	if st.Status != StatusStandby || !strings.Contains(st.Reason, "majority") {
		t.Fatalf("cron without quorum: %s (%s), want standby for lack of a majority", st.Status, st.Reason)
	}
	if got := h.rec.SingletonPrograms(); !slices.Equal(got, []string{"daemon-acme-cron"}) {
		t.Errorf("lease programs %v", got)
	}

	// Quorum: the gate waits, and the reason says so.
	tl.ObserveQuorum(true, h.clock)
	h.replan(OutcomeApplied)
	h.wantSupervisor("daemon-acme-cron:daemon-acme-cron STOPPED\ndaemon-acme-web:daemon-acme-web RUNNING pid=1001\n")
	if st := h.statuses()["acme/main/cron"]; st.Status != StatusStandby || !strings.Contains(st.Reason, "sees a majority again") {
		t.Fatalf("cron with quorum, the gate waiting: %s (%s), want standby waiting for failback_after + fence", st.Status, st.Reason)
	}
	fence := poolSettings.Fence(&spec.Daemon{StopWaitSecs: spec.DefaultStopWaitSecs})
	h.clock = h.clock.Add(poolSettings.FailbackAfter + fence - time.Second)
	h.replan(OutcomeUnchanged)
	if st := h.statuses()["acme/main/cron"]; st.Status != StatusStandby {
		t.Fatalf("cron 1 s before the gate opens: %s", st.Status)
	}
	h.clock = h.clock.Add(time.Second)
	h.replan(OutcomeApplied)
	h.wantSupervisor("daemon-acme-cron:daemon-acme-cron RUNNING pid=1002\ndaemon-acme-web:daemon-acme-web RUNNING pid=1001\n")
	if st := h.statuses()["acme/main/cron"]; st.Status != StatusRunning {
		t.Fatalf("cron with the gate open: %s (%s)", st.Status, st.Reason)
	}

	// Quorum lost: stopped at once, standby again; web is untouched.
	tl.ObserveQuorum(false, h.clock)
	h.replan(OutcomeApplied)
	h.wantSupervisor("daemon-acme-cron:daemon-acme-cron STOPPED\ndaemon-acme-web:daemon-acme-web RUNNING pid=1001\n")
	if st := h.statuses()["acme/main/cron"]; st.Status != StatusStandby {
		t.Fatalf("cron after quorum lost: %s", st.Status)
	}
	// A process that ends is not started again while held.
	h.clock = h.clock.Add(time.Hour)
	h.rec.StartDue(context.Background())
	h.wantSupervisor("daemon-acme-cron:daemon-acme-cron STOPPED\ndaemon-acme-web:daemon-acme-web RUNNING pid=1001\n")
}

// Without a pool a singleton runs where it is configured, started by the
// agent although supervisord does not autostart it.
func TestSingletonWithoutPoolRuns(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Daemon("cron", "      singleton = true")))
	h.reconcile(OutcomeApplied)
	h.wantSupervisor("daemon-acme-cron:daemon-acme-cron RUNNING pid=1001\n")
	if st := h.statuses()["acme/main/cron"]; st.Status != StatusRunning {
		t.Fatalf("cron: %s (%s)", st.Status, st.Reason)
	}
}

// pinnedToB is a proxied daemon configured on web-1b.
const pinnedToB = "    daemon \"ws\" {\n      command = \"serve --port=$PORT\"\n      node = \"web-1b\"\n      proxy_path = \"/ws\"\n    }"

// A daemon of a node dead for failover_after comes here, nginx follows,
// and it goes back after the node has been alive for failback_after; a
// replan neither fetches nor parses.
func TestFailoverMovesDaemonsHereAndBack(t *testing.T) {
	h := newHarness(t)
	tl := withPool(h)
	h.src.Commit(fake.Repo(fake.Daemon("web", ""), pinnedToB))
	h.reconcile(OutcomeApplied)
	h.wantSupervisor("daemon-acme-web:daemon-acme-web RUNNING pid=1001\n")
	loc := func() string {
		b, _, _ := h.fs.ReadFile("/etc/nginx/drover/locations/acme_main.conf")
		return string(b)
	}
	before := loc()
	fetches := h.src.Fetches

	died := h.clock
	tl.Observe([]failover.Observation{{Name: "web-1b", Down: true, Since: died}}, h.clock)
	h.clock = died.Add(poolSettings.FailoverAfter - time.Second)
	h.replan(OutcomeUnchanged)
	h.clock = died.Add(poolSettings.FailoverAfter)
	res := h.replan(OutcomeApplied)
	h.wantSupervisor("daemon-acme-web:daemon-acme-web RUNNING pid=1001\ndaemon-acme-ws:daemon-acme-ws RUNNING pid=1002\n")
	if loc() == before {
		t.Errorf("nginx does not follow the failover:\n%s", loc())
	}
	st := h.statuses()["acme/main/ws"]
	if st.Status != StatusRunning {
		t.Fatalf("ws after failover: %s (%s); changes %v", st.Status, st.Reason, res.Changes)
	}
	ds, _ := h.rec.Daemons()
	for _, d := range ds {
		if d.Key == "acme/main/ws" && d.FailoverFrom != "web-1b" {
			t.Errorf("API: ws failover_from %q, want web-1b", d.FailoverFrom)
		}
	}

	back := h.clock.Add(5 * time.Second)
	h.clock = back
	tl.Observe([]failover.Observation{{Name: "web-1b", Since: back}}, h.clock)
	h.replan(OutcomeUnchanged)
	h.clock = back.Add(poolSettings.FailbackAfter)
	h.replan(OutcomeApplied)
	h.wantSupervisor("daemon-acme-web:daemon-acme-web RUNNING pid=1001\n")
	if loc() != before {
		t.Errorf("nginx after failback:\n%s\nwant:\n%s", loc(), before)
	}
	if _, ok := h.statuses()["acme/main/ws"]; ok {
		t.Error("ws keeps a status here after failback")
	}
	if h.src.Fetches != fetches {
		t.Errorf("replans fetched %d times", h.src.Fetches-fetches)
	}
}

// A failover does not wait for a pass that waits for a hung Git server.
func TestReplanDoesNotWaitForAHungSource(t *testing.T) {
	h := newHarness(t)
	tl := withPool(h)
	h.src.Commit(fake.Repo(fake.Daemon("web", ""), pinnedToB))
	h.reconcile(OutcomeApplied)
	hang := make(chan struct{})
	h.src.Hang = hang
	passDone := make(chan struct{})
	go func() {
		h.rec.Reconcile(context.Background(), true)
		close(passDone)
	}()
	time.Sleep(50 * time.Millisecond) // the pass is asking the source
	tl.Observe([]failover.Observation{{Name: "web-1b", Down: true, Since: h.clock}}, h.clock)
	h.clock = h.clock.Add(poolSettings.FailoverAfter)
	replanned := make(chan *Result, 1)
	go func() { replanned <- h.rec.Replan(context.Background()) }()
	select {
	case res := <-replanned:
		if res.Outcome != OutcomeApplied {
			t.Errorf("replan: %s (%v)", res.Outcome, res.Err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the failover waits for the pass that waits for the Git server")
	}
	close(hang)
	<-passDone
	h.rec.Settle(context.Background(), &Result{})
	h.wantSupervisor("daemon-acme-web:daemon-acme-web RUNNING pid=1001\ndaemon-acme-ws:daemon-acme-ws RUNNING pid=1002\n")
}
