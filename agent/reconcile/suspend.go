package reconcile

import (
	"context"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/store"
)

// Suspension (design.md §6.14): an operator's hold on the node. While it
// lasts a pass learns the branch head and reports it, but never fetches
// nor loads it; the node converges to the suspension's revision instead,
// with everything a pass does besides (retries of failed daemons, repairs
// of files and network, statuses, events, failover re-placement). The
// hold is kept in the store (store.MetaSuspension), so an agent restarted
// comes back suspended; drover rollback (rollback.go) is a hold at an
// earlier revision.

// loadSuspension takes the stored hold at start (in New). A stored value
// that cannot be read holds the node at its applied revision: applying the
// head could undo what the operator held it for.
func (a *Reconciler) loadSuspension() {
	if a.store == nil {
		return
	}
	s, err := a.store.Suspension()
	if err != nil {
		rev, _, _ := a.store.Applied()
		a.log.Error("the stored suspension cannot be read; holding the node at its applied revision until drover resume", "error", err, "revision", short(rev))
		if rev == "" {
			return
		}
		s = &store.Suspension{Revision: rev, Since: a.now(), Reason: "the stored suspension could not be read: " + err.Error()}
	}
	if s != nil {
		a.log.Warn("suspended: no new revision is applied until drover resume", "revision", short(s.Revision),
			"since", s.Since, "reason", s.Reason)
	}
	a.state.Suspension = s
	a.metrics.suspended.Set(gauge(s != nil))
}

// hold records s as the node's hold, nil lifting it (a.mu held).
func (a *Reconciler) hold(s *store.Suspension) error {
	if err := a.store.SetSuspension(s); err != nil {
		return err
	}
	a.state.Suspension = s
	a.metrics.suspended.Set(gauge(s != nil))
	return nil
}

// Suspend holds the node at the revision it runs (drover suspend) until
// Resume. A hold already in force is kept as it is; already says so.
func (a *Reconciler) Suspend(reason string) (s store.Suspension, already bool, err error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	if cur := a.state.Suspension; cur != nil {
		return *cur, true, nil
	}
	rev := a.planRev
	if rev == "" { // before Restore
		if rev, _, err = a.store.Applied(); err != nil {
			return s, false, err
		}
	}
	if rev == "" {
		return s, false, refusal{errNothingApplied}
	}
	s = store.Suspension{Revision: rev, Since: a.now(), Reason: reason}
	if err := a.hold(&s); err != nil {
		return store.Suspension{}, false, err
	}
	a.log.Warn("suspended: no new revision is applied until drover resume", "revision", short(rev), "reason", reason)
	return s, false, nil
}

// Resume lifts the hold (drover resume) and returns it, nil when the node
// was not suspended. The next pass treats the head as new, so it applies
// the head even when it came while the node was held.
func (a *Reconciler) Resume() (*store.Suspension, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	s := a.state.Suspension
	if s == nil {
		return nil, nil
	}
	if err := a.hold(nil); err != nil {
		return nil, err
	}
	a.lastHead = ""
	a.log.Info("resumed: new revisions are applied again", "was_at", short(s.Revision))
	return s, nil
}

// holdPass is the pass of a held node after it learned the head (a.mu
// held): the node stays at, or goes back to, the hold's revision.
func (a *Reconciler) holdPass(ctx context.Context, force bool, head string) *Result {
	s := a.state.Suspension
	if head != a.state.Head && head != s.Revision {
		a.log.Info("new head not applied: the node is suspended", "head", short(head), "suspended_at", short(s.Revision))
	}
	a.state.Head = head
	if a.state.Rejected != head { // no longer the head: nothing to report
		a.state.Rejected, a.state.RejectedDiags = "", ""
	}
	switch {
	case s.Revision != a.planRev:
		// The agent stopped in the middle of a rollback, after the hold
		// was recorded: the node goes to its revision, from the cache.
		plan, desired, err := a.loadCached(ctx, s.Revision)
		if err != nil {
			return &Result{Revision: a.planRev, Outcome: OutcomeFailed, Err: &FailedError{Step: "load", Err: err}}
		}
		res := a.apply(ctx, s.Revision, plan, desired, applyOpts{})
		a.plan, a.planRev = plan, s.Revision
		return res
	case force || a.dirty():
		// Retries and repairs of the running revision, as for a
		// rejected head.
		return a.apply(ctx, a.planRev, a.plan, a.running(), applyOpts{trustStore: !force})
	}
	return &Result{Revision: s.Revision, Outcome: OutcomeUnchanged}
}

// APISuspension is a hold as the API shows it.
func APISuspension(s *store.Suspension) *localapi.Suspension {
	return &localapi.Suspension{Revision: s.Revision, Since: s.Since, Reason: s.Reason, RolledBackFrom: s.From}
}

// refusal is a request refused with nothing changed (localapi.ErrRefused).
type refusal struct{ err error }

func (r refusal) Error() string   { return r.err.Error() }
func (r refusal) Unwrap() []error { return []error{r.err, localapi.ErrRefused} }

func gauge(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
