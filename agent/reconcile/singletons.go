package reconcile

import (
	"context"
	"slices"

	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
)

// Singleton daemons (design.md §6.13) are rendered with autostart=false:
// supervisord never starts one by itself, not even at boot. The agent
// starts those the pool's gate lets this node run and stops the others,
// which show as standby with the gate's reason. The guard (drover guard, a
// supervisord program) stops them too when the lease this node writes
// while it sees a majority of its shard lapses: when the agent is dead.

// StatusStandby is a singleton daemon this node may not run now.
const StatusStandby = "standby"

// mayRun reports whether the node may run d now, and if not, why: always
// for an available daemon or without a pool.
func (a *Reconciler) mayRun(d *netplan.Daemon) (bool, string) {
	if !d.Singleton || a.live == nil {
		return true, ""
	}
	return a.live.MayRun(d.Daemon)
}

// gateSingletons stops the plan's singletons the node may not run now and
// starts those it may that are stopped (added or replaced without
// autostart, or held until now), and records which are held (a.mu held).
func (a *Reconciler) gateSingletons(ctx context.Context, plan *netplan.NodePlan) {
	held := map[string]string{}
	var programs []string
	var stop []string
	var candidates []*netplan.Daemon
	if plan != nil {
		statuses, _ := a.daemonStatuses()
		pending := a.rollout.Pending()
		for _, d := range plan.Programs {
			if !d.Singleton {
				continue
			}
			programs = append(programs, d.Program)
			st := statuses[d.Key]
			if !d.Enabled || st.Status == StatusFailed && !processFailure(st.Reason) {
				continue // an apply failure is the retry's (a refused tenant's too)
			}
			if ok, why := a.mayRun(d); !ok {
				held[d.Program] = why
				stop = append(stop, processNames(d)...)
				continue
			}
			// The rollout starts nothing without autostart; a process
			// that ended is startDue's; an apply failure the retry's.
			if !pending[d.Program] && st.Status != StatusRunning && !waitingStart(st) && !(st.Status == StatusStopped && st.LastExit != nil) {
				candidates = append(candidates, d)
			}
		}
	}
	slices.Sort(programs)
	a.singletons.Store(&programs)
	for program := range held {
		if a.held[program] == "" {
			a.log.Info("singleton held: this node may not run it now", "program", program, "reason", held[program])
		}
	}
	a.held = held
	if len(stop) > 0 {
		for i, err := range a.sup.StopProcesses(ctx, stop) {
			if err != nil && !supervisor.IsFault(err, supervisor.FaultNotRunning) && !supervisor.IsFault(err, supervisor.FaultBadName) {
				a.log.Warn("stopping a held singleton failed", "process", stop[i], "error", err)
			}
		}
	}
	a.startStopped(ctx, candidates)
	a.holdStatuses(plan)
}

// startStopped starts the processes of daemons supervisord has stopped
// (a.mu held).
func (a *Reconciler) startStopped(ctx context.Context, daemons []*netplan.Daemon) {
	if len(daemons) == 0 {
		return
	}
	var names []string
	for _, d := range daemons {
		names = append(names, processNames(d)...)
	}
	infos, errs := a.sup.ProcessInfos(ctx, names)
	var start []string
	for i, info := range infos {
		if errs[i] == nil && info.State == "STOPPED" {
			start = append(start, names[i])
		}
	}
	if len(start) == 0 {
		return
	}
	for i, err := range a.sup.StartProcesses(ctx, start) {
		if err != nil && !supervisor.IsFault(err, supervisor.FaultAlreadyStarted) {
			a.log.Warn("starting a singleton failed", "process", start[i], "error", err)
		} else if err == nil {
			a.log.Info("singleton started: this node may run it", "process", start[i])
		}
	}
	a.updateStatuses(ctx, daemons, nil)
}

// holdStatuses records the standby status of the held singletons whose
// status says otherwise (a.mu held).
func (a *Reconciler) holdStatuses(plan *netplan.NodePlan) {
	if plan == nil || len(a.held) == 0 {
		return
	}
	var held []*netplan.Daemon
	for _, d := range plan.Programs {
		if a.held[d.Program] != "" {
			held = append(held, d)
		}
	}
	a.updateStatuses(context.Background(), held, nil)
}

// heldObservation is the observation of a held singleton: standby, why.
func (a *Reconciler) heldObservation(d *netplan.Daemon) (observation, bool) {
	why := a.held[d.Program]
	return observation{status: StatusStandby, reason: why}, why != ""
}

// SingletonPrograms are the programs of the singletons of the plan last
// gated: the guard stops them when the lease lapses. It takes no lock, so
// the lease is renewed while a pass waits for a hung dependency.
func (a *Reconciler) SingletonPrograms() []string {
	if p := a.singletons.Load(); p != nil {
		return *p
	}
	return nil
}
