package reconcile

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/restart"
	"github.com/drover-sh/drover/agent/store"
)

// nextStatus, case by case: since, updated_at, attempts and the retry time.
func TestNextStatus(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	now := t0.Add(time.Minute)
	running := store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, Since: t0, UpdatedAt: t0, CreatedAt: t0}
	failed := store.DaemonStatus{Key: "a/m/d", Status: StatusFailed, Reason: "boom", Attempts: 2, NextRetry: t0.Add(4 * time.Second), Since: t0, UpdatedAt: t0, CreatedAt: t0}
	obsRunning := observation{status: StatusRunning, pids: []int{7}}
	obsFailed := observation{status: StatusFailed, reason: "boom"}
	tests := []struct {
		name        string
		prev        store.DaemonStatus
		had         bool
		learned     learned
		wantChanged bool
		want        store.DaemonStatus
	}{
		{"new daemon", store.DaemonStatus{Key: "a/m/d"}, false, learned{obs: obsRunning},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, Since: now, UpdatedAt: now, CreatedAt: now}},
		{"nothing new", running, true, learned{obs: obsRunning, attempt: true},
			false, running},
		{"touched, same state", running, true, learned{obs: obsRunning, touched: true},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, Since: t0, UpdatedAt: now, CreatedAt: t0}},
		{"new pid", running, true, learned{obs: observation{status: StatusRunning, pids: []int{8}}},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{8}, Since: t0, UpdatedAt: now, CreatedAt: t0}},
		{"starts failing", running, true, learned{obs: obsFailed},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusFailed, Reason: "boom", Attempts: 1, NextRetry: now.Add(2 * time.Second), Since: now, UpdatedAt: now, CreatedAt: t0}},
		{"fails again after an attempt", failed, true, learned{obs: obsFailed, attempt: true},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusFailed, Reason: "boom", Attempts: 3, NextRetry: now.Add(8 * time.Second), Since: t0, UpdatedAt: t0, CreatedAt: t0}},
		{"the same failure seen again", failed, true, learned{obs: obsFailed},
			false, failed},
		{"fails otherwise", failed, true, learned{obs: observation{status: StatusFailed, reason: "other"}},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusFailed, Reason: "other", Attempts: 3, NextRetry: now.Add(8 * time.Second), Since: t0, UpdatedAt: now, CreatedAt: t0}},
		{"recovers", failed, true, learned{obs: obsRunning},
			true, store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, Since: now, UpdatedAt: now, CreatedAt: t0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, changed := nextStatus(tt.prev, tt.had, tt.learned, now)
			if changed != tt.wantChanged || !statusEqual(got, tt.want) || !got.CreatedAt.Equal(tt.want.CreatedAt) {
				t.Errorf("nextStatus = %+v, changed %t\nwant          %+v, changed %t", got, changed, tt.want, tt.wantChanged)
			}
		})
	}
}

// A process that keeps failing: every new exit is one more failed run,
// the wait before the next start doubles, the third makes the daemon
// crash-looping; the same exit seen twice counts once; a clean exit is
// started again at once, or left stopped with restart = "on-failure".
func TestNextStatusAfterExits(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	st := store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, PIDs: []int{7}, CreatedAt: t0}
	exitAt := func(started, stopped time.Time, status int) learned {
		e := restart.Exit{State: "EXITED", Status: status, Started: started, Stopped: stopped}
		return learned{obs: observation{status: statusExited, exit: &e, stderr: "boot\nError: Cannot find module 'x'"}, policy: restart.Always}
	}
	now := t0
	var waits []time.Duration
	var statuses []string
	for i := range 4 {
		started := now
		now = now.Add(2 * time.Second)
		next, changed := nextStatus(st, true, exitAt(started, now, 1), now)
		if !changed || next.Attempts != i+1 || next.LastExit == nil || next.LastExit.Status != 1 {
			t.Fatalf("exit %d: %+v", i+1, next)
		}
		if !strings.Contains(next.Reason, "exit status 1 after 2s") || !strings.Contains(next.Reason, "Cannot find module 'x'") {
			t.Errorf("exit %d: reason %q", i+1, next.Reason)
		}
		again, changed := nextStatus(next, true, exitAt(started, now, 1), now.Add(time.Second))
		if changed || again.Attempts != next.Attempts {
			t.Errorf("exit %d seen again counted: %+v", i+1, again)
		}
		waits = append(waits, next.NextRetry.Sub(now))
		statuses = append(statuses, next.Status)
		now = next.NextRetry
		st = next
	}
	if fmt.Sprint(waits) != "[2s 4s 8s 16s]" || strings.Join(statuses, ",") != "provisioning,provisioning,crash-looping,crash-looping" {
		t.Errorf("waits %v, statuses %v", waits, statuses)
	}
	// Running again: still counted, said so.
	running, _ := nextStatus(st, true, learned{obs: observation{status: StatusRunning, pids: []int{9}}}, now.Add(time.Second))
	if running.Status != StatusRunning || running.Attempts != 4 || !strings.Contains(running.Reason, "running again after 4 failed runs") {
		t.Errorf("running again: %+v", running)
	}
	// A clean exit after an hour: at once, the series over; on-failure:
	// stopped.
	clean := exitAt(now, now.Add(time.Hour), 0)
	next, _ := nextStatus(running, true, clean, now.Add(time.Hour))
	if next.Status != StatusProvisioning || !next.NextRetry.Equal(now.Add(time.Hour)) || next.Attempts != 0 {
		t.Errorf("clean exit, always: %+v", next)
	}
	clean.policy = restart.OnFailure
	next, _ = nextStatus(running, true, clean, now.Add(time.Hour))
	if next.Status != StatusStopped || !next.NextRetry.IsZero() || !strings.Contains(next.Reason, `restart = "on-failure" leaves it stopped`) {
		t.Errorf("clean exit, on-failure: %+v", next)
	}
}

// A death by signal is an OOM kill when the process's memory cgroup
// counted one more than the status recorded; a later signal that is not
// one says so.
func TestNextStatusNamesOOMKills(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	killed := func(at time.Time, kills int) learned {
		e := restart.Exit{State: "EXITED", Status: -1, Started: at.Add(-3 * time.Second), Stopped: at}
		return learned{obs: observation{status: statusExited, exit: &e, oomKills: kills}, policy: restart.Always}
	}
	st := store.DaemonStatus{Key: "a/m/d", Status: StatusRunning, CreatedAt: t0}
	st, _ = nextStatus(st, true, killed(t0, 1), t0)
	if !strings.Contains(st.LastExit.Text, "over its memory limit") || st.OOMKills != 1 {
		t.Errorf("OOM kill: %+v %+v", st, st.LastExit)
	}
	st.Status, st.NextRetry = StatusRunning, time.Time{}
	st, _ = nextStatus(st, true, killed(t0.Add(time.Minute), 1), t0.Add(time.Minute))
	if st.LastExit.Text != "killed by a signal after 3s" {
		t.Errorf("a signal that is not an OOM kill: %q", st.LastExit.Text)
	}
	// The cgroup made again (supervisord restarted under systemd): its
	// count starts over, below the recorded one.
	st.OOMKills = 4
	st.Status, st.NextRetry = StatusRunning, time.Time{}
	st, _ = nextStatus(st, true, killed(t0.Add(2*time.Minute), 2), t0.Add(2*time.Minute))
	if !strings.Contains(st.LastExit.Text, "over its memory limit") || st.OOMKills != 2 {
		t.Errorf("OOM kill in a cgroup made again: %+v %+v", st, st.LastExit)
	}
}
