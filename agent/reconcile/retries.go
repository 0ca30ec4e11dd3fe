package reconcile

import (
	"context"
	"time"

	"github.com/drover-sh/drover/agent/restart"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// Retries of apply failures and of failed passes (design.md §6.7); the
// starts of processes that ended are starts.go's.

// scheduleNodeRetry makes a pass that failed as a whole (supervisord or
// nginx did not answer, a write failed) try again with backoff, like a
// failed daemon; one that did not fail resets the backoff (a.mu held).
func (a *Reconciler) scheduleNodeRetry(res *Result) {
	if res.Outcome != OutcomeFailed || res.Err == nil {
		if res.Outcome == OutcomeApplied || res.Outcome == OutcomeFailed {
			a.nodeAttempts = 0
		}
		return
	}
	a.nodeAttempts++
	at := a.now().Add(restart.Backoff(a.nodeAttempts))
	if a.retryAt.IsZero() || at.Before(a.retryAt) {
		a.retryAt = at
	}
}

// retryDue reports whether a failed daemon's retry time has come, or a
// retry was asked for.
func (a *Reconciler) retryDue() bool {
	return a.forceNext || !a.retryAt.IsZero() && !a.now().Before(a.retryAt)
}

// ResumeRetries sets the next retry time from the stored statuses: the
// long-running agent calls it at start, so daemons that failed before a
// restart are retried when their backoff says.
func (a *Reconciler) ResumeRetries() {
	a.mu.Lock()
	defer a.mu.Unlock()
	daemons, err := a.daemonStatuses()
	if err != nil {
		return
	}
	a.retryAt = time.Time{}
	for _, st := range daemons {
		if st.Status == StatusFailed && !st.NextRetry.IsZero() && (a.retryAt.IsZero() || st.NextRetry.Before(a.retryAt)) {
			a.retryAt = st.NextRetry
		}
	}
}

// NextRetry is the earliest time a failed daemon or a failed pass is to be
// tried again, or an ended process started again; zero when nothing is.
func (a *Reconciler) NextRetry() time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.startAt.IsZero() || !a.retryAt.IsZero() && a.retryAt.Before(a.startAt) {
		return a.retryAt
	}
	return a.startAt
}

// Retry retries a daemon now (drover retry): the next pass compares and
// applies everything again. It reports false when the daemon is not on this
// node.
func (a *Reconciler) Retry(key string) (bool, error) {
	a.mu.Lock()
	daemons, err := a.daemonStatuses()
	if err != nil {
		a.mu.Unlock()
		return false, err
	}
	st, ok := daemons[key]
	if !ok {
		a.mu.Unlock()
		return false, nil
	}
	if waitingStart(st) {
		// Its processes are started by the pass, now.
		st.NextRetry = a.now()
		if err := a.record(store.Change{At: st.NextRetry, Daemons: []store.DaemonStatus{st}}); err != nil {
			a.mu.Unlock()
			return false, err
		}
	}
	a.forceNext = true
	a.mu.Unlock()
	a.wake()
	return true, nil
}

// dueRestarts are the failed programs whose retry is due (or forced) and
// that supervisord does not run: a retry starts them again.
func (a *Reconciler) dueRestarts(ctx context.Context, plan *netplan.NodePlan) []string {
	if plan == nil {
		return nil
	}
	statuses, err := a.daemonStatuses()
	if err != nil {
		return nil
	}
	var failed []*netplan.Daemon
	for _, d := range plan.Programs {
		if st, ok := statuses[d.Key]; ok && st.Status == StatusFailed && d.Enabled {
			failed = append(failed, d)
		}
	}
	observed := a.observe(ctx, failed, a.now())
	var out []string
	for _, d := range failed {
		if observed[d.Key].status != StatusRunning {
			out = append(out, d.Program)
		}
	}
	return out
}

// RequestPass makes the next pass a full one (as a retry) and wakes the
// loop for it.
func (a *Reconciler) RequestPass() {
	a.mu.Lock()
	a.forceNext = true
	a.mu.Unlock()
	a.wake()
}
