package reconcile

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
)

// An operator's actions on one daemon of this node: drover logs reads its
// output, drover restart restarts it. Neither changes the configuration.

// whyOperator is the change line and metric label of an operator's
// restart.
const whyOperator = "operator restarted"

// reasonOperator is the reason of a daemon whose operator's restart is
// queued or in flight.
const reasonOperator = "restart asked by an operator"

// daemon is this node's daemon key in the plan, nil if it has none
// (a.mu held).
func (a *Reconciler) daemon(key string) *netplan.Daemon {
	if a.plan == nil {
		return nil
	}
	for _, d := range a.plan.Programs {
		if d.Key == key {
			return d
		}
	}
	return nil
}

// Logs reads the output of the daemon key's processes from supervisord
// (tailProcessStdoutLog, tailProcessStderrLog), at most q.Bytes bytes each;
// false when the daemon is not on this node. supervisord is asked without
// a.mu held: a pass never waits for a reader.
func (a *Reconciler) Logs(ctx context.Context, key string, q localapi.LogQuery) (localapi.Logs, bool, error) {
	a.mu.Lock()
	d := a.daemon(key)
	a.mu.Unlock()
	if d == nil {
		return localapi.Logs{}, false, nil
	}
	out := localapi.Logs{Key: key, Stream: q.Stream, Procs: []localapi.ProcessLog{}}
	bytes := min(max(q.Bytes, 1), localapi.MaxLogBytes)
	for _, name := range processNames(d) {
		_, proc, _ := strings.Cut(name, ":")
		from, ok := q.From[proc]
		if !ok {
			from = -1
		}
		t, err := a.sup.LogTail(ctx, name, supervisor.Stream(q.Stream), from, bytes)
		if err != nil {
			return out, true, fmt.Errorf("read the %s of %s (%s): %w", q.Stream, key, name, err)
		}
		out.Procs = append(out.Procs, localapi.ProcessLog{Process: proc, Data: t.Data, Offset: t.Offset, Overflow: t.Overflow})
	}
	return out, true, nil
}

// Restart restarts the daemon key (drover restart): the rollout stops its
// processes with their stop signal and starts them again, as for a
// changed program, so its status stays what supervisord says. It reports
// false when the daemon is not on this node, and refuses (ErrRefused) a
// daemon this node does not run now: disabled, or a singleton in standby.
func (a *Reconciler) Restart(key string) (bool, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	d := a.daemon(key)
	if d == nil {
		return false, nil
	}
	if why := a.held[d.Program]; why != "" {
		return true, fmt.Errorf("%w: %s is a singleton in standby on node %s: %s", localapi.ErrRefused, key, a.cfg.Node, why)
	}
	if !d.Enabled {
		return true, fmt.Errorf("%w: %s is disabled (enabled = false): nothing runs to restart", localapi.ErrRefused, key)
	}
	statuses, err := a.daemonStatuses()
	if err != nil {
		return true, err
	}
	now := a.now()
	st := statuses[key]
	st.Key, st.Node = key, a.cfg.Node
	st.Status, st.Reason, st.OperatorRestartAt = StatusProvisioning, reasonOperator, now
	if err := a.restartDaemon(d, whyOperator, st); err != nil {
		return true, err
	}
	a.log.Info("restarted by an operator", "daemon", key, "program", d.Program, "pids", st.PIDs)
	return true, nil
}

// restartDaemon records st, the daemon's status while its restart is
// under way, and hands the restart to the rollout, which stops the
// processes with their stop signal and starts them again; why is its
// change line and metric label (a.mu held).
func (a *Reconciler) restartDaemon(d *netplan.Daemon, why string, st store.DaemonStatus) error {
	if err := a.record(store.Change{At: a.now(), Daemons: []store.DaemonStatus{st}}); err != nil {
		return fmt.Errorf("record the restart of %s: %w", d.Key, err)
	}
	a.roll.mu.Lock()
	a.roll.why[d.Program] = why
	a.roll.mu.Unlock()
	names := processNames(d)
	a.rollout.Add(supervisor.Job{Group: d.Program, Kind: supervisor.Replace, Stop: names, Procs: names,
		Autostart: !d.Singleton, StopWait: time.Duration(d.StopWaitSecs) * time.Second, Fresh: true, Sticky: true})
	return nil
}
