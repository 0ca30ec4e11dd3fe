package agent

import (
	"context"
	"strings"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// apiNode is the agent as the local API sees it: localapi.Handler asks it,
// and this file turns the agent's values into the API's.
type apiNode struct{ a *Agent }

func (n apiNode) Name() string                        { return n.a.cfg.Node }
func (n apiNode) Status() (localapi.Status, error)    { return n.a.Status() }
func (n apiNode) Daemons() ([]localapi.Daemon, error) { return n.a.Daemons() }
func (n apiNode) Retry(key string) (bool, error)      { return n.a.Retry(key) }

// Reconcile runs a full pass. A client that goes away must not cut the
// pass short; the restarts it started are waited for as long as the client
// waits.
func (n apiNode) Reconcile(ctx context.Context) localapi.Result {
	res := n.a.Reconcile(context.WithoutCancel(ctx), true)
	n.a.settleInto(ctx, res)
	return res.Report()
}

// Event queues a supervisord event for eventLoop (events.go).
func (n apiNode) Event(ev localapi.Event) error {
	n.a.rollout.Poke() // a restart in flight may have moved on
	select {
	case n.a.events <- ev:
		return nil
	default:
		return localapi.ErrQueueFull
	}
}

// Outcome is how a reconcile pass ended; the values are the API's.
type Outcome = localapi.Outcome

// The outcomes of a pass (see localapi.Outcome).
const (
	OutcomeUnchanged   = localapi.OutcomeUnchanged
	OutcomeApplied     = localapi.OutcomeApplied
	OutcomeRejected    = localapi.OutcomeRejected
	OutcomeFailed      = localapi.OutcomeFailed
	OutcomeUnreachable = localapi.OutcomeUnreachable
	OutcomeUninstalled = localapi.OutcomeUninstalled
)

// Report is the pass as the API and the CLI show it.
func (r *Result) Report() localapi.Result {
	j := localapi.Result{Revision: r.Revision, Outcome: r.Outcome, Changes: r.Changes, Failed: r.Failed}
	if j.Changes == nil {
		j.Changes = []string{}
	}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	return j
}

// Converged reports whether the node matches the head revision.
func (r *Result) Converged() bool { return r.Report().Converged() }

// apiDaemon is a daemon's status, with what its plan says about it (d is
// nil for a daemon whose plan this process has not loaded).
func apiDaemon(st store.DaemonStatus, d *netplan.Daemon) localapi.Daemon {
	parts := strings.SplitN(st.Key, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	j := localapi.Daemon{
		ID: localapi.DaemonID(st.Key), TenantID: localapi.TenantID(parts[0]), WebrootID: localapi.WebrootID(parts[0], parts[1]),
		Key: st.Key, Name: parts[2], Status: st.Status, Reason: st.Reason, CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt,
		Node: st.Node, PIDs: st.PIDs, Revision: st.Revision, Environment: map[string]string{},
	}
	if j.PIDs == nil {
		j.PIDs = []int{}
	}
	if st.Status == StatusFailed && !st.NextRetry.IsZero() {
		t := st.NextRetry
		j.NextRetry = &t
	}
	if d == nil {
		return j
	}
	j.Command, j.NumProcs, j.StopSignal, j.StopWaitSecs, j.Enabled = d.Command, d.NumProcs, d.StopSignal, d.StopWaitSecs, d.Enabled
	j.Host = d.Host.String()
	if d.ProxyPath != "" {
		p, port := d.ProxyPath, d.Port
		j.ProxyPath, j.ProxyPort = &p, &port
	}
	if d.MaxMemoryMB > 0 {
		m := d.MaxMemoryMB
		j.MaxMemoryMB = &m
	}
	if d.MaxOpenFiles > 0 {
		n := d.MaxOpenFiles
		j.MaxOpenFiles = &n
	}
	for k := range d.Environment {
		j.Environment[k] = localapi.Redacted
	}
	return j
}

var _ localapi.Node = apiNode{}
