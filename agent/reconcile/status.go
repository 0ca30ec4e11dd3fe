package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/restart"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
)

// Daemon statuses (design.md §7).
const (
	StatusProvisioning = "provisioning" // applied, not yet running
	StatusRunning      = "running"
	StatusStopped      = "stopped" // disabled, or left after a clean exit (restart = "on-failure")
	// StatusCrashLooping: restart.CrashLoop failed runs in a row, waiting
	// for its backoff or starting again.
	StatusCrashLooping = "crash-looping"
	StatusFailed       = "failed" // an apply error, or supervisord cannot be asked
)

// settleTime bounds how long `drover agent --once` waits for programs it
// started to leave STARTING (supervisord's startsecs is 1 s), so it can
// report their final state. The long-running agent does not wait: the
// event listener reports the state changes.
const settleTime = 5 * time.Second

// processNames are the supervisord process names of a program.
func processNames(d *netplan.Daemon) []string {
	if d.NumProcs <= 1 {
		return []string{d.Program + ":" + d.Program}
	}
	names := make([]string, d.NumProcs)
	for i := range names {
		names[i] = fmt.Sprintf("%s:%s_%02d", d.Program, d.Program, i)
	}
	return names
}

// observation is what supervisord says about one program's processes.
type observation struct {
	status, reason string
	pids           []int
	// exit is the newest end of a process that ended (status
	// statusExited), stderr the cleaned end of that process's stderr.
	exit   *restart.Exit
	stderr string
	// hint is what drover found about why a process failed.
	hint string
	// oomKills is the ended process's memory cgroup's OOM-kill count
	// (read when it failed and has a memory limit: a signal, or a shell
	// that outlived its killed child and said 137).
	oomKills int
}

// statusExited marks an observation of a process that ended and was not
// started again yet: nextStatus turns it into a status by the daemon's
// restart policy. It is never stored.
const statusExited = "exited"

// observe asks supervisord about the given programs, all in one request
// (ProcessInfos), again about those still STARTING until the deadline
// passes, each time after observePace of them. supervisord answers in the loop that spawns the processes:
// asking about 3,000 starting programs every 100 ms slowed a node's first
// converge, and waiting two seconds for the last few made it end late.
func (a *Reconciler) observe(ctx context.Context, daemons []*netplan.Daemon, deadline time.Time) map[string]observation {
	out := make(map[string]observation, len(daemons))
	pending := daemons
	for len(pending) > 0 {
		var names []string
		for _, d := range pending {
			names = append(names, processNames(d)...)
		}
		infos, errs := a.sup.ProcessInfos(ctx, names)
		var again []*netplan.Daemon
		var exited []string
		var exitedKeys []string
		i := 0
		for _, d := range pending {
			n := len(processNames(d))
			o, starting, proc := summarize(infos[i:i+n], errs[i:i+n])
			i += n
			if proc != "" {
				exited, exitedKeys = append(exited, proc), append(exitedKeys, d.Key)
				if o.exit.Status != 0 && d.MaxMemoryMB > 0 {
					_, name, _ := strings.Cut(proc, ":")
					o.oomKills = launch.OOMKills(name)
				}
			}
			if o.status == StatusFailed || o.status == statusExited {
				if dir := a.opts.WebrootDir(d.Tenant, d.Webroot); !a.fs.IsDir(dir) {
					o.hint = fmt.Sprintf("the webroot directory %s does not exist", dir)
				}
			}
			out[d.Key] = o
			if starting {
				again = append(again, d)
			}
		}
		if len(exited) > 0 {
			tails, _ := a.sup.StderrTails(ctx, exited, restart.TailBytes)
			for j, key := range exitedKeys {
				o := out[key]
				o.stderr = restart.CleanTail(tails[j])
				out[key] = o
			}
		}
		if len(again) == 0 || a.now().After(deadline) || ctx.Err() != nil {
			break
		}
		pending = again
		time.Sleep(observePace(len(pending)))
	}
	return out
}

// observePace is the wait before asking about n starting programs: a
// millisecond each, from 100 ms to 2 s, so the questions cost supervisord
// about the same whatever their number, and the last few programs of a
// first converge are seen running a tenth of a second after they are.
func observePace(n int) time.Duration {
	return min(max(time.Duration(n)*time.Millisecond, 100*time.Millisecond), 2*time.Second)
}

// summarize folds the states of a program's processes into its status;
// exitedProc names the process whose end is o.exit.
func summarize(infos []supervisor.ProcessInfo, errs []error) (o observation, starting bool, exitedProc string) {
	o.status = StatusRunning
	for i, info := range infos {
		if errs[i] != nil {
			return observation{status: StatusFailed, reason: reasonUnasked + errs[i].Error()}, false, ""
		}
		switch info.State {
		case "RUNNING":
			o.pids = append(o.pids, info.PID)
		case "STARTING", "BACKOFF": // BACKOFF: supervisord tries again (programs of an earlier drover)
			starting = true
		case "EXITED", "FATAL":
			e := restart.Exit{State: info.State, Status: info.ExitStatus, Started: info.Start, Stopped: info.Stop, SpawnErr: info.SpawnErr}
			if o.exit == nil || e.Stopped.After(o.exit.Stopped) {
				o.exit, exitedProc = &e, info.Group+":"+info.Name
			}
		default: // STOPPED (not started yet, or stopped by hand), STOPPING, UNKNOWN
			if o.status == StatusRunning {
				o.status, o.reason = StatusProvisioning, "supervisord reports "+info.State
			}
		}
	}
	switch {
	case o.exit != nil:
		o.status, o.reason = statusExited, ""
	case starting:
		o.status, o.reason = StatusProvisioning, reasonStarting
	}
	return o, starting && o.exit == nil, exitedProc
}

// The reasons of a daemon on its way to a state: its processes are
// starting, or were just started again by drover (settling says so).
const (
	reasonStarting      = "starting"
	reasonStartingAgain = "starting again after "
)

// settling reports whether a status is on its way to another: processes
// starting or started again, or a restart queued. The API says so
// (settling), so a client waiting for an outcome need not read reasons.
func settling(st store.DaemonStatus) bool {
	return (st.Status == StatusProvisioning || st.Status == StatusCrashLooping) &&
		(st.Reason == reasonStarting || strings.HasPrefix(st.Reason, reasonStartingAgain) || st.Reason == reasonQueued || st.Reason == reasonOperator || strings.HasPrefix(st.Reason, reasonUnhealthy))
}

// reasonQueued is the reason of a daemon waiting for its restart.
const reasonQueued = "restart queued; the previous configuration runs until then"

// reasonUnasked starts the reason of a daemon supervisord could not be
// asked about: a failure an event (a later answer) clears, unlike an apply
// failure, which only the retry clears.
const reasonUnasked = "supervisord: "

// processFailure tells a failure supervisord's answer clears from an
// apply failure.
func processFailure(reason string) bool { return strings.HasPrefix(reason, reasonUnasked) }

// recordStatuses computes the status of every daemon on the node after an
// apply and adds it to change: failures with their reason and the next
// retry, disabled daemons stopped, touched programs observed in
// supervisord, untouched ones kept.
func (a *Reconciler) recordStatuses(ctx context.Context, plan *netplan.NodePlan, touched []string, failed map[string]string, change *store.Change, res *Result) {
	if plan == nil {
		return
	}
	prev, err := a.daemonStatuses()
	if err != nil {
		a.log.Error("read daemon statuses", "error", err)
		prev = map[string]store.DaemonStatus{}
	}
	now := a.now()
	isTouched := map[string]bool{}
	for _, g := range touched {
		isTouched[g] = true
	}
	pending := a.rollout.Pending()
	var toObserve []*netplan.Daemon
	for _, d := range plan.Programs {
		st, had := prev[d.Key]
		if failed[d.Program] == "" && d.Enabled && !pending[d.Program] && a.held[d.Program] == "" &&
			(isTouched[d.Program] || !had || st.Status != StatusRunning) {
			toObserve = append(toObserve, d)
		}
	}
	observeStart := time.Now()
	observed := a.observe(ctx, toObserve, now.Add(a.settle))
	res.took("observe", observeStart)
	here := map[string]bool{}
	a.retryAt = time.Time{}
	defer func() {
		for _, st := range change.Daemons {
			if st.Status == StatusFailed && (a.retryAt.IsZero() || st.NextRetry.Before(a.retryAt)) {
				a.retryAt = st.NextRetry
			}
		}
	}()
	change.Daemons = slices.Grow(change.Daemons, len(plan.Programs))
	for _, d := range plan.Programs {
		here[d.Key] = true
		st, had := prev[d.Key]
		st.Key = d.Key
		l := learned{touched: isTouched[d.Program], attempt: true, policy: restart.Policy(d.Restart)}
		switch {
		case failed[d.Program] != "":
			l.obs = observation{status: StatusFailed, reason: failed[d.Program]}
		case !d.Enabled:
			l.obs = observation{status: StatusStopped, reason: "disabled"}
		case a.held[d.Program] != "":
			l.obs, _ = a.heldObservation(d)
		case pending[d.Program]:
			// Its processes still run the previous configuration.
			l.obs = observation{status: StatusProvisioning, reason: reasonQueued, pids: st.PIDs}
		case isTouched[d.Program] || !had || st.Status != StatusRunning:
			l.obs = observed[d.Key]
		default:
			l.obs = observation{status: st.Status, reason: st.Reason, pids: st.PIDs}
		}
		st.Node, st.Revision = a.cfg.Node, res.Revision
		next, changed := nextStatus(st, had, l, now)
		if next.Status == StatusFailed && (st.Status != StatusFailed || st.Reason != next.Reason) {
			a.log.Error("daemon failed", "daemon", d.Key, "reason", next.Reason)
		}
		if failing(next) {
			res.Failed[d.Key] = next.Reason
		}
		if !changed && had && prev[d.Key].Revision == next.Revision {
			if next.Status == StatusFailed && (a.retryAt.IsZero() || next.NextRetry.Before(a.retryAt)) {
				a.retryAt = next.NextRetry
			}
			continue
		}
		change.Daemons = append(change.Daemons, next)
	}
	for key := range prev {
		if !here[key] {
			change.DeleteDaemons = append(change.DeleteDaemons, key)
		}
	}
}

func statusEqual(a, b store.DaemonStatus) bool {
	if a.Status != b.Status || a.Reason != b.Reason || a.Revision != b.Revision || a.Attempts != b.Attempts ||
		a.Restarts != b.Restarts || a.Stderr != b.Stderr || a.OOMKills != b.OOMKills || (a.LastExit == nil) != (b.LastExit == nil) ||
		a.LastExit != nil && *a.LastExit != *b.LastExit ||
		!a.NextRetry.Equal(b.NextRetry) || !a.Since.Equal(b.Since) || !a.UpdatedAt.Equal(b.UpdatedAt) || len(a.PIDs) != len(b.PIDs) {
		return false
	}
	for i := range a.PIDs {
		if a.PIDs[i] != b.PIDs[i] {
			return false
		}
	}
	return true
}

// daemonStatuses returns the daemon statuses, from a cache of the store's
// kept in step by record: reading thousands of statuses from bbolt on every
// event would cost more than handling it.
func (a *Reconciler) daemonStatuses() (map[string]store.DaemonStatus, error) {
	if a.statusCache == nil {
		m, err := a.store.Daemons()
		if err != nil {
			return nil, err
		}
		a.statusCache = m
	}
	return a.statusCache, nil
}

// record writes a change to the store and to the status cache, and
// publishes the statuses (a.mu held).
func (a *Reconciler) record(c store.Change) error {
	if len(c.Daemons) > 0 || len(c.DeleteDaemons) > 0 {
		a.statusesChanged = true
	}
	if err := a.store.Record(c); err != nil {
		a.statusCache = nil // re-read what the store has
		a.installed = nil
		a.statusesChanged = true
		return err
	}
	a.noteInstalled(c)
	defer a.publish()
	if a.statusCache != nil {
		for _, d := range c.Daemons {
			if prev, ok := a.statusCache[d.Key]; ok && !prev.CreatedAt.IsZero() {
				d.CreatedAt = prev.CreatedAt // as the store keeps it
			}
			a.statusCache[d.Key] = d
		}
		for _, k := range c.DeleteDaemons {
			delete(a.statusCache, k)
		}
	}
	return nil
}
