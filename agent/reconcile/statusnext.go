package reconcile

import (
	"fmt"
	"slices"
	"time"

	"github.com/drover-sh/drover/agent/restart"
	"github.com/drover-sh/drover/agent/store"
)

// learned is what a pass or an event learned about one daemon.
type learned struct {
	// obs is the daemon's state now: observed in supervisord, or decided
	// by the pass (an apply failure, disabled, a restart queued).
	obs observation
	// policy is the daemon's restart attribute.
	policy restart.Policy
	// touched: drover just acted on the daemon (added, restarted), so
	// its record is fresh even if its state is the same.
	touched bool
	// attempt: the state is the outcome of an attempt (a pass, a retry),
	// so a failure that goes on counts as one more failed attempt and
	// the backoff grows; a mere observation of the same failure does not.
	attempt bool
}

// nextStatus is the one place that turns what was learned about a daemon
// into its status: since when it is in its state, when the record was
// updated, how many attempts or runs in a row failed and when it is tried
// or started again. It is pure: prev (had says whether there was one),
// what was learned and the time in, the next status out, and whether it
// differs from prev.
func nextStatus(prev store.DaemonStatus, had bool, l learned, now time.Time) (store.DaemonStatus, bool) {
	st := prev
	if !had {
		st.CreatedAt, st.Status = now, StatusProvisioning
	}
	old := st
	if l.obs.status == statusExited {
		st = afterExit(st, l, now)
	} else {
		st.Status, st.Reason, st.PIDs = l.obs.status, l.obs.reason, l.obs.pids
		if l.obs.hint != "" {
			st.Reason += "; " + l.obs.hint
		}
		switch {
		case (st.Status == StatusRunning || st.Status == StatusProvisioning) && st.Attempts > 0 && st.LastExit != nil && old.Status != StatusFailed:
			// Starting or running again after failed runs: the series
			// goes on until a run lasts restart.StableRun (see
			// restart.Decide).
			st.NextRetry = time.Time{}
			if st.Status == StatusRunning {
				st.Reason = fmt.Sprintf("running again after %s in a row; last: %s", runs(st.Attempts), st.LastExit.Text)
			}
		case st.Status != StatusFailed:
			st.Attempts, st.NextRetry = 0, time.Time{}
		case old.Status != StatusFailed || !had:
			st.Attempts = 1
		case l.attempt || st.Reason != old.Reason:
			st.Attempts++
		}
		if st.Status == StatusFailed && (st.Attempts != old.Attempts || st.NextRetry.IsZero()) {
			st.NextRetry = now.Add(restart.Backoff(st.Attempts))
		}
	}
	stateChanged := st.Status != old.Status || st.Reason != old.Reason || !slices.Equal(st.PIDs, old.PIDs)
	if st.Status != old.Status || !had {
		st.Since = now
	}
	if l.touched || stateChanged || !had {
		st.UpdatedAt = now
	}
	return st, !had || !statusEqual(st, prev)
}

// afterExit is the status of a daemon whose process ended: started again
// by its restart policy after the backoff (NextRetry), or left stopped.
// The same exit seen again changes nothing.
func afterExit(st store.DaemonStatus, l learned, now time.Time) store.DaemonStatus {
	e := *l.obs.exit
	// The cgroup's count below the recorded one: the cgroup was made
	// again (on systemd, stopping supervisor.service removes its
	// delegated subtree), so any count is new kills.
	e.OOMKilled = l.obs.oomKills > st.OOMKills || (l.obs.oomKills > 0 && l.obs.oomKills < st.OOMKills)
	// The exit recorded, seen again before drover started the process
	// (the start clears NextRetry). supervisord's times are whole seconds,
	// so a start that fails within the second of the last exit has the
	// same times: only the start tells the two exits apart.
	if x := st.LastExit; x != nil && x.At.Equal(e.Stopped) && x.Started.Equal(e.Started) &&
		(waitingStart(st) || st.Status == StatusStopped) {
		return st
	}
	d := restart.Decide(l.policy, st.Attempts, e, now)
	st.PIDs = nil
	st.Attempts = d.Failures
	st.LastExit = &store.Exit{Started: e.Started, At: e.Stopped, Status: e.Status, Text: e.String()}
	st.Stderr = l.obs.stderr
	if l.obs.oomKills > 0 {
		st.OOMKills = l.obs.oomKills
	}
	if !d.Start {
		st.Status, st.NextRetry = StatusStopped, time.Time{}
		st.Reason = fmt.Sprintf("%s; restart = %q leaves it stopped", e, l.policy)
		return st
	}
	st.Status, st.NextRetry = StatusProvisioning, d.At
	if d.CrashLooping() {
		st.Status = StatusCrashLooping
	}
	st.Reason = e.String()
	if d.Failures > 0 {
		st.Reason += fmt.Sprintf(" (%s in a row)", runs(d.Failures))
	}
	if line := restart.LastLine(l.obs.stderr); line != "" && e.Failed() {
		st.Reason += ": " + line
	}
	if l.obs.hint != "" {
		st.Reason += "; " + l.obs.hint
	}
	if d.At.After(now) {
		st.Reason += fmt.Sprintf("; starting again in %s", d.At.Sub(now).Round(time.Second))
	} else {
		st.Reason += "; starting again"
	}
	return st
}

// runs is "1 failed run", "3 failed runs".
func runs(n int) string {
	if n == 1 {
		return "1 failed run"
	}
	return fmt.Sprintf("%d failed runs", n)
}
