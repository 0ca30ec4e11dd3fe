package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
)

// Restarts of changed programs run in the background (supervisor.Rollout):
// a pass writes the files, lets supervisord reread them, adds new programs
// at once and hands every restart and removal to the rollout, which keeps
// each program down only for its own stop and start, a bounded number at a
// time. The pass itself ends in about a second whatever the number of
// restarts, so status, drift repair and the next revision never wait for
// them; a newer revision replaces the queued work (Rollout.Submit).
//
// Programs whose exec spec alone changed must be restarted although
// supervisord sees no change: they are kept in the store
// (store.MetaPendingRestarts) from before the spec is written until the
// restart is done, so an agent killed meanwhile still restarts them.

// Reasons given to rollout jobs, used in the change lines.
const (
	whyUpdated   = "updated"   // the supervisord section changed
	whyRestarted = "restarted" // the exec spec changed, or a retry
	whyRemoved   = "removed"
	whyDeployed  = "deployed" // the restart_on_change file changed (deploy.go)
)

// rolloutLog is how often a long rollout logs its progress.
const rolloutLog = 5 * time.Second

// rolloutState is what the agent keeps about the background restarts.
type rolloutState struct {
	mu sync.Mutex
	// why says what each submitted group's change line says.
	why map[string]string
	// changes and failed collect what finished since the last Settle.
	changes []string
	failed  map[string]string
	// worst is the longest downtime since the last Settle.
	worst     time.Duration
	worstName string
	lastLog   time.Time
}

// newRollout builds the rollout with the configured bound and starts it;
// Close stops it.
func (a *Reconciler) newRollout() {
	a.roll = &rolloutState{why: map[string]string{}, failed: map[string]string{}}
	a.rollout = supervisor.NewRollout(a.sup, supervisor.RolloutOptions{
		Limit:       a.cfg.Supervisor.MaxParallelRestarts,
		CallTimeout: a.cfg.Supervisor.CallTimeout,
		Report:      a.rolloutDone,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { a.rollout.Run(ctx); close(done) }()
	a.stopRollout = func() { cancel(); <-done }
}

// Poke tells the background restarts that supervisord reported a change:
// a restart in flight may have moved on.
func (a *Reconciler) Poke() { a.rollout.Poke() }

// pendingRestarts is the set of programs whose restart is owed (a.mu held).
func (a *Reconciler) pendingRestarts() map[string]bool {
	v, _ := a.store.Meta(store.MetaPendingRestarts)
	out := map[string]bool{}
	for _, p := range strings.Fields(v) {
		out[p] = true
	}
	return out
}

func (a *Reconciler) setPendingRestarts(set map[string]bool) {
	if err := a.store.SetMeta(store.MetaPendingRestarts, strings.Join(slices.Sorted(maps.Keys(set)), " ")); err != nil {
		a.log.Error("record pending restarts", "error", err)
	}
}

// owe adds programs to the pending restarts before their exec specs are
// written (a.mu held).
func (a *Reconciler) owe(programs []string) {
	if len(programs) == 0 {
		return
	}
	set := a.pendingRestarts()
	n := len(set)
	for _, p := range programs {
		set[p] = true
	}
	if len(set) != n {
		a.setPendingRestarts(set)
	}
}

// submitRollout hands supervisord's differences and the restarts to the
// rollout. prev is the plan of the configuration supervisord runs (its
// process names are the ones to stop), plan the one it just loaded.
// restart are programs whose exec spec changed (sticky: restarted even if
// a later revision changes nothing else) and retries (not news to a
// restart in flight).
func (a *Reconciler) submitRollout(prev, plan *netplan.NodePlan, changed, removed, restart, retry []string) int {
	before, now := programsOf(prev), programsOf(plan)
	job := func(group string, kind supervisor.Kind) supervisor.Job {
		return rolloutJob(group, kind, before[group], now[group])
	}
	var jobs []supervisor.Job
	seen := map[string]bool{}
	a.roll.mu.Lock()
	add := func(group, why string, kind supervisor.Kind, fresh, sticky bool) {
		if seen[group] || (plan != nil && kind == supervisor.Replace && now[group] == nil) {
			return
		}
		seen[group] = true
		if a.roll.why[group] == "" || why != whyRestarted {
			a.roll.why[group] = why
		}
		j := job(group, kind)
		j.Fresh, j.Sticky = fresh, sticky
		jobs = append(jobs, j)
	}
	for _, g := range removed {
		add(g, whyRemoved, supervisor.Remove, true, false)
	}
	for _, g := range changed {
		add(g, whyUpdated, supervisor.Replace, true, slices.Contains(restart, g))
	}
	for _, g := range restart {
		add(g, whyRestarted, supervisor.Replace, true, true)
	}
	for _, g := range retry {
		add(g, whyRestarted, supervisor.Replace, false, false)
	}
	a.roll.mu.Unlock()
	a.rollout.Submit(jobs)
	return len(jobs)
}

// programsOf is the daemons of p by program (none when p is nil).
func programsOf(p *netplan.NodePlan) map[string]*netplan.Daemon {
	m := map[string]*netplan.Daemon{}
	if p != nil {
		for _, d := range p.Programs {
			m[d.Program] = d
		}
	}
	return m
}

// rolloutJob is the job that replaces or removes group, which runs as old
// (nil: as cur) and is to run as cur (nil when it is removed).
func rolloutJob(group string, kind supervisor.Kind, old, cur *netplan.Daemon) supervisor.Job {
	j := supervisor.Job{Group: group, Kind: kind, StopWait: 10 * time.Second}
	if old == nil {
		old = cur
	}
	if old != nil {
		j.Stop = processNames(old)
		j.StopWait = time.Duration(old.StopWaitSecs) * time.Second
	}
	if cur != nil && kind == supervisor.Replace {
		// A singleton is not autostarted: the gate starts it
		// (singletons.go).
		j.Procs, j.Autostart = processNames(cur), cur.Enabled && !cur.Singleton
		j.StopWait = max(j.StopWait, time.Duration(cur.StopWaitSecs)*time.Second)
	}
	return j
}

// rolloutDone takes the finished jobs: change lines, failures, the memory
// cgroups of removed programs, the owed restarts paid, and the statuses of
// the programs observed now.
func (a *Reconciler) rolloutDone(done []supervisor.Done) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.roll
	r.mu.Lock()
	failed := map[string]string{}
	var paid []string
	pending := a.rollout.Pending()
	for _, d := range done {
		why := r.why[d.Group]
		if d.Err != nil {
			reason := fmt.Sprintf("supervisord: %v", d.Err)
			failed[d.Group] = reason
			r.failed[d.Group] = reason
			a.metrics.restarts.WithLabelValues("failed").Inc()
			continue
		}
		delete(r.failed, d.Group)
		r.changes = append(r.changes, fmt.Sprintf("%s program %s", why, d.Group))
		a.metrics.restarts.WithLabelValues(why).Inc()
		if d.Down > r.worst {
			r.worst, r.worstName = d.Down, d.Group
		}
		if d.Kind == supervisor.Remove {
			launch.RemoveMemoryCgroups(d.Group)
		}
		if !pending[d.Group] {
			delete(r.why, d.Group)
			paid = append(paid, d.Group)
		}
	}
	queued, inflight, total, _ := a.rollout.Progress()
	a.metrics.restartsPending.Set(float64(queued + inflight))
	if now := time.Now(); queued+inflight == 0 || now.Sub(r.lastLog) >= rolloutLog {
		r.lastLog = now
		if queued+inflight == 0 {
			a.log.Info("restarts done", "finished", total, "longest_down", r.worst.Round(time.Millisecond), "longest_down_program", r.worstName)
		} else {
			a.log.Info("restarting programs", "queued", queued, "in_flight", inflight, "finished", total)
		}
	}
	r.mu.Unlock()

	if len(paid) > 0 {
		set := a.pendingRestarts()
		n := len(set)
		for _, g := range paid {
			delete(set, g)
		}
		if len(set) != n {
			a.setPendingRestarts(set)
		}
	}
	a.refreshStatuses(context.Background(), done, failed)
	a.gateSingletons(context.Background(), a.plan)
}

// refreshStatuses observes the programs of finished jobs and records their
// statuses; a failed job fails its daemon with the step's error and a
// retry.
func (a *Reconciler) refreshStatuses(ctx context.Context, done []supervisor.Done, failed map[string]string) {
	if a.plan == nil {
		return
	}
	groups := map[string]bool{}
	for _, d := range done {
		groups[d.Group] = true
	}
	var daemons []*netplan.Daemon
	for _, d := range a.plan.Programs {
		if groups[d.Program] {
			daemons = append(daemons, d)
		}
	}
	a.updateStatuses(ctx, daemons, failed)
}

// settled waits until the background restarts are done (or ctx ends) and
// returns what they changed and which programs failed since the last
// time.
func (a *Reconciler) settled(ctx context.Context) (changes []string, failed map[string]string, err error) {
	err = a.rollout.Wait(ctx)
	r := a.roll
	r.mu.Lock()
	defer r.mu.Unlock()
	changes, r.changes = r.changes, nil
	failed = maps.Clone(r.failed)
	r.worst, r.worstName = 0, ""
	return changes, failed, err
}

// Settle waits for the background restarts (until they are done or ctx
// ends) and adds what they changed and which daemons failed to res:
// `drover agent --once` and `drover reconcile` report the outcome, not the
// intent.
func (a *Reconciler) Settle(ctx context.Context, res *Result) {
	changes, failed, err := a.settled(ctx)
	res.Changes = append(res.Changes, changes...)
	if err != nil {
		res.Err = errors.Join(res.Err, fmt.Errorf("waiting for restarts: %w", err))
	}
	if len(failed) > 0 {
		a.mu.Lock()
		plan := a.plan
		a.mu.Unlock()
		if res.Failed == nil {
			res.Failed = map[string]string{}
		}
		for program, reason := range failed {
			res.Failed[keyIn(plan, program)] = reason
		}
		if res.Outcome == OutcomeApplied || res.Outcome == OutcomeUnchanged {
			res.Outcome = OutcomeFailed
		}
	}
}
