package reconcile

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/localapi"
)

// drover restart restarts that daemon only: a new PID for it, the others'
// unchanged; its status says an operator restarted it.
func TestRestartOnlyThatDaemon(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Daemon("web", ""), fake.Daemon("ws", "")))
	h.reconcile(OutcomeApplied)
	h.wantSupervisor("daemon-acme-web:daemon-acme-web RUNNING pid=1001\ndaemon-acme-ws:daemon-acme-ws RUNNING pid=1002\n")
	ok, err := h.rec.Restart("acme/main/ws")
	if !ok || err != nil {
		t.Fatalf("Restart: %v, %v", ok, err)
	}
	if st := h.statuses()["acme/main/ws"]; st.Reason != reasonOperator || !settling(st) || st.OperatorRestartAt != h.clock {
		t.Errorf("ws while restarting: %+v, want settling with %q", st, reasonOperator)
	}
	h.rec.Settle(context.Background(), &Result{})
	h.wantSupervisor("daemon-acme-web:daemon-acme-web RUNNING pid=1001\ndaemon-acme-ws:daemon-acme-ws RUNNING pid=1003\n")
	st := h.statuses()["acme/main/ws"]
	if st.Status != StatusRunning || st.Reason != "" || len(st.PIDs) != 1 || st.PIDs[0] != 1003 {
		t.Errorf("ws after the restart: %+v", st)
	}
	if ds, _ := h.rec.Daemons(); ds[1].Key != "acme/main/ws" || ds[1].RestartedByOperator == nil {
		t.Errorf("API: %+v, want restarted_by_operator", ds[1])
	}
	if ok, _ := h.rec.Restart("acme/main/nope"); ok {
		t.Error("Restart of a daemon not on this node: found")
	}
}

// A singleton in standby is not restarted: the refusal says why.
func TestRestartRefusesStandby(t *testing.T) {
	h := newHarness(t)
	withPool(h)
	h.src.Commit(fake.Repo(fake.Daemon("cron", "      singleton = true")))
	h.reconcile(OutcomeApplied)
	_, err := h.rec.Restart("acme/main/cron")
	if !errors.Is(err, localapi.ErrRefused) || !strings.Contains(err.Error(), "standby") || !strings.Contains(err.Error(), "majority") {
		t.Fatalf("Restart of a singleton in standby: %v", err)
	}
	h.wantSupervisor("daemon-acme-cron:daemon-acme-cron STOPPED\n")
}

// drover logs reads each process's stdout or stderr, the last bytes and
// then only what came since.
func TestLogsFollow(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Daemon("web", "      num_procs = 2")))
	h.reconcile(OutcomeApplied)
	h.sup.Output("daemon-acme-web:daemon-acme-web_00", "zero\n", "err0\n")
	h.sup.Output("daemon-acme-web:daemon-acme-web_01", "one\n", "")
	ctx := context.Background()
	l, ok, err := h.rec.Logs(ctx, "acme/main/web", localapi.LogQuery{Stream: "stdout", Bytes: 100})
	if !ok || err != nil || len(l.Procs) != 2 || l.Procs[0].Process != "daemon-acme-web_00" || l.Procs[0].Data != "zero\n" || l.Procs[1].Data != "one\n" {
		t.Fatalf("Logs: %+v, %v, %v", l, ok, err)
	}
	h.sup.Output("daemon-acme-web:daemon-acme-web_01", "two\n", "")
	from := map[string]int{"daemon-acme-web_00": l.Procs[0].Offset, "daemon-acme-web_01": l.Procs[1].Offset}
	l, _, _ = h.rec.Logs(ctx, "acme/main/web", localapi.LogQuery{Stream: "stdout", Bytes: 100, From: from})
	if l.Procs[0].Data != "" || l.Procs[1].Data != "two\n" {
		t.Errorf("Logs since the offsets: %+v, want only two", l)
	}
	if l, _, _ = h.rec.Logs(ctx, "acme/main/web", localapi.LogQuery{Stream: "stderr", Bytes: 100}); l.Procs[0].Data != "err0\n" {
		t.Errorf("stderr: %+v", l)
	}
	if _, ok, _ := h.rec.Logs(ctx, "acme/main/nope", localapi.LogQuery{Stream: "stdout", Bytes: 1}); ok {
		t.Error("Logs of a daemon not on this node: found")
	}
}
