package reconcile

import (
	"context"
	"strings"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/restart"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// ProcessEvents updates the status of the daemons supervisord events are
// about, asking supervisord (getProcessInfo) only about those programs: the
// event says something changed, supervisord says what is true now (events
// arrive late, e.g. STOPPED after drover restarted a program).
func (a *Reconciler) ProcessEvents(ctx context.Context, events []localapi.Event) {
	a.rollout.Poke()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.plan == nil {
		return
	}
	groups := map[string]bool{}
	for _, ev := range events {
		if strings.HasPrefix(ev.Group, "daemon-") {
			groups[ev.Group] = true
		}
	}
	statuses, err := a.daemonStatuses()
	if err != nil {
		return
	}
	var daemons []*netplan.Daemon
	for _, d := range a.plan.Programs {
		if st, ok := statuses[d.Key]; ok && groups[d.Program] && d.Enabled &&
			(st.Status != StatusFailed || processFailure(st.Reason)) {
			// An apply failure (nginx, a write) is not the process's to
			// clear: the retry of the apply will.
			daemons = append(daemons, d)
		}
	}
	a.updateStatuses(ctx, daemons, nil)
}

// updateStatuses asks supervisord about the daemons in one request and
// records the statuses that changed. failed holds failures by program that
// win over what supervisord says (a restart that could not be done);
// disabled daemons are stopped.
func (a *Reconciler) updateStatuses(ctx context.Context, daemons []*netplan.Daemon, failed map[string]string) {
	if len(daemons) == 0 {
		return
	}
	statuses, err := a.daemonStatuses()
	if err != nil {
		return
	}
	var ask []*netplan.Daemon
	for _, d := range daemons {
		if d.Enabled && failed[d.Program] == "" && a.held[d.Program] == "" {
			ask = append(ask, d)
		}
	}
	now := a.now()
	observed := a.observe(ctx, ask, now.Add(a.settle))
	change := store.Change{At: now}
	for _, d := range daemons {
		st, ok := statuses[d.Key]
		if !ok {
			continue
		}
		o, seen := observed[d.Key]
		switch {
		case failed[d.Program] != "":
			o = observation{status: StatusFailed, reason: failed[d.Program]}
		case !d.Enabled:
			o = observation{status: StatusStopped, reason: "disabled"}
		case a.held[d.Program] != "":
			o, _ = a.heldObservation(d)
		case !seen || processFailure(o.reason):
			continue // supervisord did not answer (shutting down): nothing learned
		}
		next, changed := nextStatus(st, true, learned{obs: o, policy: restart.Policy(d.Restart)}, now)
		if !changed {
			continue
		}
		if next.Status != st.Status {
			a.log.Info("daemon status changed", "daemon", d.Key, "from", st.Status, "to", next.Status, "reason", next.Reason)
		}
		st = next
		if st.Status == StatusFailed && (a.retryAt.IsZero() || st.NextRetry.Before(a.retryAt)) {
			a.retryAt = st.NextRetry
		}
		change.Daemons = append(change.Daemons, st)
	}
	if len(change.Daemons) == 0 {
		return
	}
	if err := a.record(change); err != nil {
		a.log.Error("record daemon statuses", "error", err)
	}
	a.updateGauges()
	a.startDue(ctx, a.plan, false)
	a.wake() // wake the loop: a new retry time may be due earlier
}
