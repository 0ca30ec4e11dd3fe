package reconcile

import (
	"slices"
	"time"

	"github.com/drover-sh/drover/agent/store"
)

// learned is what a pass or an event learned about one daemon.
type learned struct {
	// obs is the daemon's state now: observed in supervisord, or decided
	// by the pass (an apply failure, disabled, a restart queued).
	obs observation
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
// updated, how many attempts in a row failed and when it is retried. It
// is pure: prev (had says whether there was one), what was learned and the
// time in, the next status out, and whether it differs from prev.
func nextStatus(prev store.DaemonStatus, had bool, l learned, now time.Time) (store.DaemonStatus, bool) {
	st := prev
	if !had {
		st.CreatedAt, st.Status = now, StatusProvisioning
	}
	old := st
	st.Status, st.Reason, st.PIDs = l.obs.status, l.obs.reason, l.obs.pids
	stateChanged := st.Status != old.Status || st.Reason != old.Reason || !slices.Equal(st.PIDs, old.PIDs)
	switch {
	case st.Status != StatusFailed:
		st.Attempts, st.NextRetry = 0, time.Time{}
	case old.Status != StatusFailed || !had:
		st.Attempts = 1
	case l.attempt || st.Reason != old.Reason:
		st.Attempts++
	}
	if st.Status == StatusFailed && (st.Attempts != old.Attempts || st.NextRetry.IsZero()) {
		st.NextRetry = now.Add(backoff(st.Attempts))
	}
	if st.Status != old.Status || !had {
		st.Since = now
	}
	if l.touched || stateChanged || !had {
		st.UpdatedAt = now
	}
	return st, !had || !statusEqual(st, prev)
}
