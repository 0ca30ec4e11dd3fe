package reconcile

import (
	"context"
	"time"

	"github.com/drover-sh/drover/agent/restart"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
)

// Processes that ended are started again by the agent (design.md §6.7):
// nextStatus sets when (NextRetry of a daemon with a LastExit, waiting in
// provisioning or crash-looping), startDue starts them when that time has
// come — after every status update and when the loop's timer fires — one
// startProcess per process, without a pass.

// waitingStart reports whether a status waits for its processes to be
// started again.
func waitingStart(st store.DaemonStatus) bool {
	return st.LastExit != nil && !st.NextRetry.IsZero() &&
		(st.Status == StatusProvisioning || st.Status == StatusCrashLooping)
}

// StartDue starts the processes whose restart time has come; the loop
// calls it when NextRetry fires.
func (a *Reconciler) StartDue(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	a.startDue(ctx, a.plan, false)
}

// startDue starts what is due (with all, everything waiting: drover agent
// --once is run by an operator who wants the outcome now), sets startAt to
// the next start and returns the daemons it started (a.mu held). A
// program the rollout is restarting is left to it.
func (a *Reconciler) startDue(ctx context.Context, plan *netplan.NodePlan, all bool) []*netplan.Daemon {
	a.startAt = time.Time{}
	if plan == nil {
		return nil
	}
	statuses, err := a.daemonStatuses()
	if err != nil {
		return nil
	}
	now := a.now()
	pending := a.rollout.Pending()
	var due []*netplan.Daemon
	var names []string
	for _, d := range plan.Programs {
		st, ok := statuses[d.Key]
		if !ok || !d.Enabled || !waitingStart(st) || pending[d.Program] || a.held[d.Program] != "" {
			continue
		}
		if st.NextRetry.After(now) && !all {
			if a.startAt.IsZero() || st.NextRetry.Before(a.startAt) {
				a.startAt = st.NextRetry
			}
			continue
		}
		due = append(due, d)
		names = append(names, processNames(d)...)
	}
	if len(due) == 0 {
		return nil
	}
	errs := a.sup.StartProcesses(ctx, names)
	change := store.Change{At: now}
	i := 0
	for _, d := range due {
		st := statuses[d.Key]
		var failure error
		for range processNames(d) {
			if err := errs[i]; err != nil && !supervisor.IsFault(err, supervisor.FaultAlreadyStarted) {
				failure = err
			}
			i++
		}
		if failure != nil {
			// supervisord did not take it (shutting down, or the program is
			// being replaced): try again after the first backoff.
			a.log.Warn("starting a daemon again failed", "daemon", d.Key, "error", failure)
			st.NextRetry = now.Add(restart.Backoff(1))
			if a.startAt.IsZero() || st.NextRetry.Before(a.startAt) {
				a.startAt = st.NextRetry
			}
		} else {
			a.log.Info("daemon started again", "daemon", d.Key, "after", st.LastExit.Text, "failed_runs_in_a_row", st.Attempts)
			st.Restarts++
			st.NextRetry = time.Time{}
			st.Reason = reasonStartingAgain + st.LastExit.Text
			a.metrics.processRestarts.Inc()
		}
		st.UpdatedAt = now
		change.Daemons = append(change.Daemons, st)
	}
	if err := a.record(change); err != nil {
		a.log.Error("record daemon statuses", "error", err)
	}
	return due
}

// failing reports whether a status stands for a daemon that does not run
// as applied: failed, crash-looping, or waiting to start after a failed run.
func failing(st store.DaemonStatus) bool {
	return st.Status == StatusFailed || st.Status == StatusCrashLooping || waitingStart(st) && st.Attempts > 0
}

// settleStarts is drover agent --once after a pass: the daemons the pass
// started again are observed until they leave STARTING (settleTime), and
// the pass's report says what they came to (a.mu held).
func (a *Reconciler) settleStarts(ctx context.Context, started []*netplan.Daemon, res *Result) {
	a.updateStatuses(ctx, started, nil)
	statuses, err := a.daemonStatuses()
	if err != nil {
		return
	}
	for _, d := range started {
		if st := statuses[d.Key]; failing(st) {
			res.Failed[d.Key] = st.Reason
		} else {
			delete(res.Failed, d.Key)
		}
	}
	if res.Outcome == OutcomeFailed && res.Err == nil && len(res.Failed) == 0 {
		res.Outcome = OutcomeApplied
	}
}

// RetryDue reports whether a pass is due (a failed daemon's or a failed
// pass's retry, or one asked for), as opposed to process starts only.
func (a *Reconciler) RetryDue() bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.retryDue()
}
