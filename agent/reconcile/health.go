package reconcile

import (
	"context"
	"net/netip"
	"time"

	"github.com/drover-sh/drover/agent/health"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/netplan"
)

// Health checks (agent/health probes and decides): the reconciler hands
// the checker the proxied daemons of its plan that have a health block,
// tells it which of them run, restarts the ones it finds unhealthy through
// the rollout — with their stop signal, like any restart, reported as
// "unhealthy" — and shows what it found in the API. A health block is not
// part of the supervisord program: changing it restarts nothing.

// whyUnhealthy is the change line and metric label of a health restart.
const whyUnhealthy = "unhealthy"

// reasonUnhealthy starts the reason of a daemon whose health restart is
// queued or in flight.
const reasonUnhealthy = "restarted: unhealthy: "

// newHealth builds the checker and registers its metrics.
func (a *Reconciler) newHealth() {
	a.health = health.NewChecker(health.Options{Daemons: healthDaemons{a}, Log: a.log})
	a.metrics.registry.MustRegister(a.health.Collectors()...)
}

// RunHealth probes the daemons' health checks until ctx ends.
func (a *Reconciler) RunHealth(ctx context.Context) { a.health.Run(ctx) }

// setHealthTargets gives the checker the daemons of plan with a health
// check, when the plan changed (a.mu held).
func (a *Reconciler) setHealthTargets(plan *netplan.NodePlan) {
	if plan == a.healthPlan && plan != nil {
		return
	}
	a.healthPlan = plan
	a.health.Set(healthTargets(plan))
}

// healthTargets are the proxied daemons of plan with a health block: each
// probed at its $HOST:$PORT, with its webroot's first server name as Host.
func healthTargets(plan *netplan.NodePlan) []health.Target {
	if plan == nil {
		return nil
	}
	// The first server names of the checked daemons' webroots only: a
	// shard has tens of thousands of webroots, most nodes few checks.
	type webroot struct{ tenant, name string }
	hosts := map[webroot]string{}
	checked := func(d *netplan.Daemon) bool { return d.Health != nil && d.ProxyPath != "" && d.Port != 0 }
	for _, d := range plan.Programs {
		if checked(d) {
			hosts[webroot{d.Tenant, d.Webroot}] = ""
		}
	}
	if len(hosts) == 0 {
		return nil
	}
	for _, w := range plan.Webroots {
		k := webroot{w.Webroot.Tenant, w.Webroot.Name}
		if _, ok := hosts[k]; ok && len(w.Webroot.ServerNames) > 0 {
			hosts[k] = w.Webroot.ServerNames[0]
		}
	}
	var out []health.Target
	for _, d := range plan.Programs {
		if !checked(d) {
			continue
		}
		h := d.Health
		out = append(out, health.Target{
			Key: d.Key, Addr: netip.AddrPortFrom(d.Host, uint16(d.Port)), Host: hosts[webroot{d.Tenant, d.Webroot}],
			Check: health.Check{Path: h.Path, Interval: h.Interval, Timeout: h.Timeout, Failures: h.Failures, StartPeriod: h.StartPeriod},
		})
	}
	return out
}

// healthDaemons is the reconciler as the checker sees it.
type healthDaemons struct{ a *Reconciler }

// Running reads the published statuses: a daemon runs when supervisord
// says so, and its run is when it started running and its first PID.
func (h healthDaemons) Running(key string) (health.Run, bool) {
	snap := h.a.snap.Load()
	if snap == nil {
		return health.Run{}, false
	}
	st, ok := snap.statuses[key]
	if !ok || st.Status != StatusRunning || len(st.PIDs) == 0 {
		return health.Run{}, false
	}
	return health.Run{Since: st.Since, PID: st.PIDs[0]}, true
}

// Restart restarts an unhealthy daemon through the rollout; false when it
// is not on this node or does not run now (disabled, in standby).
func (h healthDaemons) Restart(key, reason string) bool {
	a := h.a
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.daemon(key)
	if d == nil || !d.Enabled || a.held[d.Program] != "" {
		return false
	}
	statuses, err := a.daemonStatuses()
	if err != nil {
		a.log.Error("read the statuses for a health restart", "daemon", key, "error", err)
		return false
	}
	st := statuses[key]
	if st.Status != StatusRunning {
		return false // stopped or restarting meanwhile
	}
	st.Status, st.Reason = StatusProvisioning, reasonUnhealthy+reason
	if err := a.restartDaemon(d, whyUnhealthy, st); err != nil {
		a.log.Error("health restart", "daemon", key, "error", err)
		return false
	}
	return true
}

// apiHealth is d's health block as the API shows it, not checked; nil
// without one.
func apiHealth(d *netplan.Daemon) *localapi.Health {
	h := d.Health
	if h == nil {
		return nil
	}
	return &localapi.Health{Path: h.Path, Interval: h.Interval.String(), Timeout: h.Timeout.String(), Failures: h.Failures,
		StartPeriod: h.StartPeriod.String(), Status: localapi.HealthNotChecked}
}

// withHealth adds what the probes found to j's health (j.Health set).
func (a *Reconciler) withHealth(j *localapi.Daemon) {
	if j.Health == nil {
		return
	}
	s, _, ok := a.health.State(j.Key)
	if !ok || s.Status == "" {
		return
	}
	h := j.Health
	h.Status, h.Reason, h.FailuresInARow, h.Restarts = string(s.Status), s.Reason, s.Failures, s.Restarts
	h.Since, h.LastProbe = timePtr(s.Since), timePtr(s.LastProbe)
	if s.NextRestart.After(a.now()) {
		h.NextRestart = timePtr(s.NextRestart)
	}
}

// timePtr is t, nil when it is zero.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
