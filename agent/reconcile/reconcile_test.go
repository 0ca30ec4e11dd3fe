package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/restart"
	"github.com/drover-sh/drover/render"
)

func TestFirstApplyInstallsEverything(t *testing.T) {
	h := newHarness(t)
	rev := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "num_procs = 2")))
	res := h.reconcile(OutcomeApplied)
	if !res.Converged() {
		t.Fatalf("not converged: %+v", res)
	}
	if got, want := h.sup.Snapshot(), "daemon-acme-queue:daemon-acme-queue_00 RUNNING pid=1001\ndaemon-acme-queue:daemon-acme-queue_01 RUNNING pid=1002\ndaemon-acme-reverb:daemon-acme-reverb RUNNING pid=1003\n"; got != want {
		t.Errorf("supervisord:\n%s\nwant:\n%s", got, want)
	}
	snap := h.fs.Snapshot()
	for _, want := range []string{
		"/var/lib/drover/exec/daemon-acme-queue.json 0600",
		"/var/lib/drover/exec/daemon-acme-reverb.json 0600",
		"/etc/nginx/drover/locations/acme_main.conf 0644",
		"/etc/nginx/drover/servers/acme_main.conf 0644",
		"/etc/supervisor/conf.d/drover-events.conf 0644",
	} {
		if !strings.Contains(snap, want) {
			t.Errorf("files lack %q:\n%s", want, snap)
		}
	}
	if h.nginx.Tests != 1 || h.nginx.Reloads != 1 {
		t.Errorf("nginx tested %d, reloaded %d times; want 1, 1", h.nginx.Tests, h.nginx.Reloads)
	}
	st := h.statuses()
	if st["acme/main/reverb"].Status != StatusRunning || st["acme/main/queue"].Status != StatusRunning {
		t.Errorf("statuses: %+v", st)
	}
	if applied, _, _ := h.store.Applied(); applied != rev {
		t.Errorf("applied revision %q, want %q", applied, rev)
	}
}

func TestNothingNewChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	writes, calls, fetches, tests := h.fs.Writes, h.sup.Calls(), h.src.Fetches, h.nginx.Tests
	snap := h.sup.Snapshot()
	h.reconcile(OutcomeUnchanged)
	if h.fs.Writes != writes || h.src.Fetches != fetches || h.nginx.Tests != tests || fmt.Sprint(h.sup.Calls()) != fmt.Sprint(calls) || h.sup.Snapshot() != snap {
		t.Errorf("a pass with nothing new changed something: writes %d→%d, fetches %d→%d, nginx tests %d→%d, supervisord calls %v→%v",
			writes, h.fs.Writes, fetches, h.src.Fetches, tests, h.nginx.Tests, calls, h.sup.Calls())
	}
	// A forced pass compares everything again and still changes nothing.
	res := h.rec.Reconcile(context.Background(), true)
	if len(res.Changes) != 0 || h.fs.Writes != writes || fmt.Sprint(h.sup.Calls()) != fmt.Sprint(calls) || h.nginx.Tests != tests {
		t.Errorf("forced pass changed %v", res.Changes)
	}
}

func TestEditRestartsOnlyThatProgram(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "")))
	h.reconcile(OutcomeApplied)
	// An environment change only touches the exec spec: the program must
	// restart although its supervisord section is the same.
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", `environment = { A = "1" }`)))
	res := h.reconcile(OutcomeApplied)
	want := "daemon-acme-queue:daemon-acme-queue RUNNING pid=1003\ndaemon-acme-reverb:daemon-acme-reverb RUNNING pid=1002\n"
	if got := h.sup.Snapshot(); got != want {
		t.Errorf("after env edit:\n%s\nwant only queue restarted:\n%s\nchanges: %v", got, want, res.Changes)
	}
	// A section change (stop_wait_secs) updates the group.
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "environment = { A = \"1\" }\nstop_wait_secs = 5")))
	h.reconcile(OutcomeApplied)
	want = "daemon-acme-queue:daemon-acme-queue RUNNING pid=1004\ndaemon-acme-reverb:daemon-acme-reverb RUNNING pid=1002\n"
	if got := h.sup.Snapshot(); got != want {
		t.Errorf("after section edit:\n%s\nwant:\n%s", got, want)
	}
}

func TestDisableStopsAndAnswers503(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "proxy_path = \"/app\"\nenabled = false")))
	h.reconcile(OutcomeApplied)
	if got := h.sup.Snapshot(); got != "daemon-acme-reverb:daemon-acme-reverb STOPPED\n" {
		t.Errorf("supervisord after disable:\n%s", got)
	}
	loc, _, _ := h.fs.ReadFile("/etc/nginx/drover/locations/acme_main.conf")
	if !strings.Contains(string(loc), "return 503;") {
		t.Errorf("disabled location:\n%s", loc)
	}
	if st := h.statuses()["acme/main/reverb"]; st.Status != StatusStopped {
		t.Errorf("status %+v, want stopped", st)
	}
}

func TestDeleteRemovesOnlyDroversFiles(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "")))
	h.reconcile(OutcomeApplied)
	h.fs.WriteFile("/etc/nginx/drover/locations/foreign.conf", []byte("# not drover's\n"), 0o644)
	h.fs.WriteFile("/etc/supervisor/conf.d/other.conf", []byte("[program:other]\ncommand=/bin/true\n"), 0o644)
	h.src.Commit(fake.Repo(fake.Daemon("queue", "")))
	h.reconcile(OutcomeApplied)
	snap := h.fs.Snapshot()
	for _, gone := range []string{"exec/daemon-acme-reverb.json", "locations/acme_main.conf"} {
		if strings.Contains(snap, gone) {
			t.Errorf("%s still installed:\n%s", gone, snap)
		}
	}
	for _, kept := range []string{"locations/foreign.conf", "conf.d/other.conf", "servers/acme_main.conf"} {
		if !strings.Contains(snap, kept) {
			t.Errorf("%s was removed:\n%s", kept, snap)
		}
	}
	if strings.Contains(h.sup.Snapshot(), "reverb") {
		t.Errorf("reverb still in supervisord:\n%s", h.sup.Snapshot())
	}
	if _, ok := h.statuses()["acme/main/reverb"]; ok {
		t.Error("status of a deleted daemon kept")
	}
}

func TestInvalidRevisionIsNeverApplied(t *testing.T) {
	h := newHarness(t)
	good := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	writes, snap := h.fs.Writes, h.sup.Snapshot()
	files := fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws"))
	files["broken.hcl"] = `tenant "x" { uid = 5 }`
	bad := h.src.Commit(files)
	res := h.reconcile(OutcomeRejected)
	if !strings.Contains(res.Err.Error(), "broken.hcl") {
		t.Errorf("rejection does not name the file: %v", res.Err)
	}
	if h.fs.Writes != writes || h.sup.Snapshot() != snap {
		t.Error("an invalid revision changed the node")
	}
	if applied, _, _ := h.store.Applied(); applied != good {
		t.Errorf("applied %s, want still %s", applied, good)
	}
	if _, ok, _ := h.store.Rejection(bad); !ok {
		t.Error("rejection not recorded")
	}
	st, err := h.rec.Status()
	if err != nil || st.Rejected == nil || st.Rejected.Revision != bad {
		t.Errorf("status does not report the rejection: %+v %v", st, err)
	}
	again := h.reconcile(OutcomeRejected) // stays rejected, without refetching
	// The error is typed and says "rejected" once, on the first pass and
	// on the ones after it (it used to repeat itself).
	for _, r := range []*Result{res, again} {
		var rej *RejectedError
		if !errors.As(r.Err, &rej) || rej.Revision != bad || strings.Count(r.Err.Error(), "rejected") != 1 ||
			!strings.HasPrefix(r.Err.Error(), "revision "+bad[:12]+" rejected: it is invalid:") {
			t.Errorf("rejection error %T: %v", r.Err, r.Err)
		}
	}
	if st.Rejected != nil && strings.Contains(st.Rejected.Diagnostics, "rejected") {
		t.Errorf("status diagnostics repeat the verdict: %q", st.Rejected.Diagnostics)
	}
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws")))
	h.reconcile(OutcomeApplied)
	if !strings.Contains(h.sup.Snapshot(), "daemon-acme-ws") {
		t.Error("the next good revision was not applied")
	}
	if st, _ := h.rec.Status(); st.Rejected != nil {
		t.Errorf("rejection still reported after a good revision: %+v", st.Rejected)
	}
}

func TestNginxFailureRollsBackAndRetries(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	before, _, _ := h.fs.ReadFile("/etc/nginx/drover/locations/acme_main.conf")
	h.nginx.Broken = "nginx: [emerg] unknown directive \"bogus\" in /etc/nginx/conf.d/other.conf:1"
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws")))
	res := h.reconcile(OutcomeFailed)
	after, _, _ := h.fs.ReadFile("/etc/nginx/drover/locations/acme_main.conf")
	if string(after) != string(before) {
		t.Errorf("nginx file not restored:\n%s", after)
	}
	st := h.statuses()["acme/main/ws"]
	if st.Status != StatusFailed || !strings.Contains(st.Reason, "unknown directive") {
		t.Errorf("ws status %+v, want failed with nginx's message", st)
	}
	if h.nginx.Reloads != 1 {
		t.Errorf("nginx reloaded %d times; a failed test must not reload", h.nginx.Reloads)
	}
	// The step that went wrong is named in a typed error.
	var failed *FailedError
	if !errors.As(res.Err, &failed) || failed.Step != "nginx" || outcomeOf(res.Err) != OutcomeFailed {
		t.Errorf("pass error %v (%T), want a *FailedError of step nginx", res.Err, res.Err)
	}
	// Fixed: the retry is due after the backoff and converges.
	h.nginx.Broken = ""
	h.reconcile(OutcomeUnchanged) // not due yet
	h.clock = h.clock.Add(restart.Backoff(1))
	res = h.reconcile(OutcomeApplied)
	if !res.Converged() || h.statuses()["acme/main/ws"].Status != StatusRunning {
		t.Errorf("retry did not converge: %+v %+v", res, h.statuses()["acme/main/ws"])
	}
	now, _, _ := h.fs.ReadFile("/etc/nginx/drover/locations/acme_main.conf")
	if !strings.Contains(string(now), "location = /ws") {
		t.Error("retry did not install the new location")
	}
}

func TestFailedProgramReportsSupervisordState(t *testing.T) {
	h := newHarness(t)
	h.sup.SetFailing("daemon-acme-reverb", "FATAL")
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	res := h.reconcile(OutcomeFailed)
	st := h.statuses()["acme/main/reverb"]
	if st.Status != StatusProvisioning || !strings.Contains(st.Reason, "Exited too quickly") || st.NextRetry.IsZero() ||
		st.LastExit == nil || res.Failed["acme/main/reverb"] == "" {
		t.Errorf("status %+v", st)
	}
	h.sup.SetFailing("daemon-acme-reverb", "")
	if ok, err := h.rec.Retry("acme/main/reverb"); !ok || err != nil {
		t.Fatalf("retry: %v %v", ok, err)
	}
	h.reconcile(OutcomeApplied)
	if st := h.statuses()["acme/main/reverb"]; st.Status != StatusRunning {
		t.Errorf("after retry: %+v", st)
	}
}

func TestRepairRestoresHandEditedFiles(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	fetches := h.src.Fetches
	h.fs.Remove("/etc/nginx/drover/locations/acme_main.conf")
	h.fs.WriteFile("/var/lib/drover/exec/daemon-acme-reverb.json", []byte("{}"), 0o644)
	h.rec.Repair(context.Background(), []string{"/etc/nginx/drover/locations/acme_main.conf",
		"/var/lib/drover/exec/daemon-acme-reverb.json", "/etc/nginx/drover/locations/not-drovers.conf"})
	loc, _, err := h.fs.ReadFile("/etc/nginx/drover/locations/acme_main.conf")
	if err != nil || !strings.Contains(string(loc), "location = /app") {
		t.Errorf("locations file not restored: %v", err)
	}
	spec, mode, _ := h.fs.ReadFile("/var/lib/drover/exec/daemon-acme-reverb.json")
	if mode != 0o600 || !strings.Contains(string(spec), "serve --port") {
		t.Errorf("exec spec not restored: %04o %s", mode, spec)
	}
	if h.src.Fetches != fetches {
		t.Error("repair fetched")
	}
}

func TestRestartReappliesFromStoreWithSourceUnreachable(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	// Reboot: managed files are gone, supervisord boots with what is left,
	// Git is down.
	h.fs.Remove("/etc/nginx/drover/locations/acme_main.conf")
	h.fs.Remove("/etc/supervisor/conf.d/" + render.SupervisorFile("daemon-acme-reverb"))
	h.sup = supervisorFakeWith(h)
	if strings.Contains(h.sup.Snapshot(), "reverb") {
		t.Fatal("test setup: the program survived the reboot")
	}
	h.src.Unreachable = true
	h.newReconciler()
	res := h.rec.Restore(context.Background())
	if res.Err != nil {
		t.Fatalf("restore: %v", res.Err)
	}
	if _, _, err := h.fs.ReadFile("/etc/nginx/drover/locations/acme_main.conf"); err != nil {
		t.Error("restore did not reinstall the locations file")
	}
	if !strings.Contains(h.sup.Snapshot(), "daemon-acme-reverb RUNNING") {
		t.Errorf("restore did not bring the program back:\n%s", h.sup.Snapshot())
	}
	res = h.rec.Reconcile(context.Background(), false)
	var unreachable *UnreachableError
	if res.Outcome != OutcomeUnreachable || !errors.As(res.Err, &unreachable) {
		t.Errorf("outcome %s (error %T), want %s", res.Outcome, res.Err, OutcomeUnreachable)
	}
	if st, _ := h.rec.Status(); !strings.Contains(st.SourceError, "connection refused") {
		t.Errorf("status does not say the source is unreachable: %+v", st)
	}
}

func TestDueRetryIsConsumedWhenSourceIsDown(t *testing.T) {
	h := newHarness(t)
	h.nginx.Broken = "nginx: [emerg] broken"
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeFailed)
	h.clock = h.clock.Add(time.Hour)
	h.src.Unreachable = true
	h.reconcile(OutcomeUnreachable)
	// The retry ran without the source (it re-applies the running
	// revision) and failed again: its next time is in the future. A retry
	// time left in the past would wake the loop at once, forever.
	if h.rec.retryDue() || h.nginx.Tests != 2 {
		t.Errorf("retry due %v after a pass; nginx tested %d times, want 2", h.rec.retryDue(), h.nginx.Tests)
	}
	h.nginx.Broken = ""
	h.clock = h.clock.Add(time.Hour)
	if res := h.reconcile(OutcomeUnreachable); len(res.Failed) != 0 {
		t.Errorf("retry with the source down did not converge: %v", res.Failed)
	}
}

func TestEventsUpdateStatusesInOneBatch(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", "")))
	h.reconcile(OutcomeApplied)
	ctx := context.Background()
	// The queue crashes for good; supervisord pushes events.
	h.sup.SetFailing("daemon-acme-queue", "FATAL")
	h.sup.StopProcessGroup(ctx, "daemon-acme-queue", true)
	h.sup.StartProcessGroup(ctx, "daemon-acme-queue", false)
	h.rec.ProcessEvents(ctx, []localapi.Event{
		{Group: "daemon-acme-queue", Process: "daemon-acme-queue", State: "STOPPED"},
		{Group: "daemon-acme-queue", Process: "daemon-acme-queue", State: "FATAL"},
		{Group: "drover-events", Process: "drover-events", State: "RUNNING"},
	})
	st := h.statuses()
	if q := st["acme/main/queue"]; q.Status != StatusProvisioning || !strings.Contains(q.Reason, "Exited too quickly") || q.NextRetry.IsZero() {
		t.Errorf("queue after FATAL event: %+v", q)
	}
	if st["acme/main/reverb"].Status != StatusRunning {
		t.Errorf("reverb changed: %+v", st["acme/main/reverb"])
	}
	// It is started again when its backoff has passed, without a pass.
	h.sup.SetFailing("daemon-acme-queue", "")
	h.clock = h.clock.Add(time.Minute)
	h.rec.StartDue(ctx)
	if q := h.statuses()["acme/main/queue"]; q.Restarts != 1 || !q.NextRetry.IsZero() {
		t.Errorf("queue not started again: %+v", q)
	}
	h.rec.ProcessEvents(ctx, []localapi.Event{{Group: "daemon-acme-queue", Process: "daemon-acme-queue", State: "RUNNING"}})
	if q := h.statuses()["acme/main/queue"]; q.Status != StatusRunning {
		t.Errorf("queue after retry: %+v", q)
	}
	// An apply failure is not cleared by a process event.
	h.nginx.Broken = "nginx: [emerg] broken"
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app2"), fake.Daemon("queue", "")))
	h.reconcile(OutcomeFailed)
	h.rec.ProcessEvents(ctx, []localapi.Event{{Group: "daemon-acme-reverb", Process: "daemon-acme-reverb", State: "RUNNING"}})
	if r := h.statuses()["acme/main/reverb"]; r.Status != StatusFailed || !strings.Contains(r.Reason, "broken") {
		t.Errorf("nginx failure cleared by a process event: %+v", r)
	}
}

func TestRebuiltStoreAdoptsEarlierFiles(t *testing.T) {
	h := newHarness(t)
	header := []byte(render.Header + "\n")
	// Left by an earlier drover whose store was lost: a program file, an
	// exec spec and a locations file nobody wants any more; and others'.
	h.fs.WriteFile("/etc/supervisor/conf.d/drover-0f.conf", append(header, "[program:daemon-gone-x]\ncommand=/bin/true\n"...), 0o644)
	h.fs.WriteFile("/var/lib/drover/exec/daemon-gone-x.json", []byte("{}"), 0o600)
	h.fs.WriteFile("/etc/nginx/drover/locations/gone_main.conf", header, 0o644)
	h.fs.WriteFile("/etc/nginx/drover/locations/platform.conf", []byte("# the platform's\n"), 0o644)
	h.fs.WriteFile("/etc/supervisor/conf.d/drover-notes.conf", []byte("[program:notes]\ncommand=/bin/true\n"), 0o644)
	h.rec.adoptOrphans = true
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	snap := h.fs.Snapshot()
	for _, gone := range []string{"drover-0f.conf", "daemon-gone-x.json", "gone_main.conf"} {
		if strings.Contains(snap, gone) {
			t.Errorf("%s from an earlier drover was not removed:\n%s", gone, snap)
		}
	}
	for _, kept := range []string{"platform.conf", "drover-notes.conf", "acme_main.conf"} {
		if !strings.Contains(snap, kept) {
			t.Errorf("%s was removed:\n%s", kept, snap)
		}
	}
}

// A worker that exits 0 is started again at once and reported running,
// in the store and in what the API answers.
func TestCleanExitStartsAgainAndRuns(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Daemon("queue", "")))
	h.reconcile(OutcomeApplied)
	ctx := context.Background()
	h.sup.Exit("daemon-acme-queue:daemon-acme-queue", 0, "")
	h.rec.ProcessEvents(ctx, []localapi.Event{{Group: "daemon-acme-queue", Process: "daemon-acme-queue", State: "EXITED"}})
	q := h.statuses()["acme/main/queue"]
	if q.Restarts != 1 || q.LastExit == nil || q.LastExit.Status != 0 {
		t.Fatalf("after a clean exit: %+v", q)
	}
	h.rec.ProcessEvents(ctx, []localapi.Event{{Group: "daemon-acme-queue", Process: "daemon-acme-queue", State: "RUNNING"}})
	if q := h.statuses()["acme/main/queue"]; q.Status != StatusRunning {
		t.Errorf("store: %+v", q)
	}
	// Again: the count grows.
	h.sup.Exit("daemon-acme-queue:daemon-acme-queue", 0, "")
	h.rec.ProcessEvents(ctx, []localapi.Event{{Group: "daemon-acme-queue", Process: "daemon-acme-queue", State: "EXITED"}})
	h.rec.ProcessEvents(ctx, []localapi.Event{{Group: "daemon-acme-queue", Process: "daemon-acme-queue", State: "RUNNING"}})
	api, _ := h.rec.Daemons()
	if len(api) != 1 || api[0].Status != StatusRunning || api[0].Restarts != 2 {
		t.Errorf("API: %+v", api)
	}
}

// TestRestoreGivesItsMemoryBack: restoring at start decodes the whole
// repository, and the pass after it reuses that and allocates little, so
// Restore itself schedules the memory's return when it allocated much.
func TestRestoreGivesItsMemoryBack(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "")))
	h.reconcile(OutcomeApplied)
	h.newReconciler()
	defer func(old uint64) { freeAfterBytes = old }(freeAfterBytes)
	freeAfterBytes = 1 // any allocation is large here
	h.rec.Restore(context.Background())
	h.rec.mu.Lock()
	scheduled := h.rec.freeTimer != nil
	h.rec.mu.Unlock()
	if !scheduled {
		t.Error("Restore did not schedule giving its memory back")
	}
}
