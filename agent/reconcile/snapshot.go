package reconcile

import (
	"maps"
	"slices"
	"strings"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// snapshot is what the status API answers from: a copy of the node's
// state, published whenever it changes, so `drover status` answers at
// once while a pass waits for a hung Git server, supervisord or nginx.
// The store's own records (applied revision, history, the network state)
// are read directly: bbolt readers never wait for its writer.
type snapshot struct {
	state    nodeState
	statuses map[string]store.DaemonStatus
	plan     *netplan.NodePlan
	placed   *netplan.Cluster // the live placement (Placement)
}

// publish makes the current state what the API reports (a.mu held). The
// statuses are copied only when they changed since the last publish (see
// record): a no-op pass publishes without copying thousands of them.
func (a *Reconciler) publish() {
	prev := a.snap.Load()
	var statuses map[string]store.DaemonStatus
	if prev != nil && !a.statusesChanged {
		statuses = prev.statuses
	} else if cur, err := a.daemonStatuses(); err == nil {
		statuses = maps.Clone(cur)
		a.statusesChanged = false
	}
	a.snap.Store(&snapshot{state: a.state, statuses: statuses, plan: a.plan, placed: a.effective})
	a.setHealthTargets(a.plan)
}

// Status reports the node.
func (a *Reconciler) Status() (localapi.Status, error) {
	snap := a.snap.Load()
	rev, at, err := a.store.Applied()
	if err != nil {
		return localapi.Status{}, err
	}
	hist, err := a.store.History(10)
	if err != nil {
		return localapi.Status{}, err
	}
	st := snap.state
	s := localapi.Status{
		Node: a.cfg.Node, Head: st.Head, Revision: rev, AppliedAt: at,
		LastResult: st.LastResult, LastError: st.LastError, LastReconcile: st.LastReconcile,
		SourceError: st.SourceError, NetworkError: st.NetworkError, Daemons: map[string]int{}, History: []localapi.History{},
	}
	s.Conditions = a.apiConditions()
	if st.Rejected != "" {
		s.Rejected = &localapi.Rejection{Revision: st.Rejected, Diagnostics: st.RejectedDiags}
	}
	if st.Suspension != nil {
		s.Suspension = APISuspension(st.Suspension)
	}
	if ns, ok, err := a.store.Network(); ok && err == nil {
		s.Network = &localapi.Network{TenantInterface: ns.TenantInterface, TransitInterface: ns.TransitInterface,
			Transit: ns.Transit.String(), Addresses: len(ns.Addresses), Routes: len(ns.Routes), NftTable: ns.NftTable,
			DriftRepairs: st.NetworkRepairs}
	}
	if queued, inflight, done, _ := a.rollout.Progress(); queued+inflight > 0 {
		s.Restarts = &localapi.Restarts{Queued: queued, InFlight: inflight, Done: done}
	}
	for _, d := range snap.statuses {
		s.Daemons[d.Status]++
	}
	for _, h := range hist {
		e := localapi.History{Revision: h.Revision, At: h.At, Result: h.Result, Summary: h.Summary, Repeats: h.Repeats}
		if !h.Last.IsZero() {
			last := h.Last
			e.Last = &last
		}
		s.History = append(s.History, e)
	}
	return s, nil
}

// Daemons reports every daemon on this node, sorted by key.
func (a *Reconciler) Daemons() ([]localapi.Daemon, error) {
	snap := a.snap.Load()
	placed := map[string]*netplan.Daemon{}
	if snap.plan != nil {
		for _, d := range snap.plan.Programs {
			placed[d.Key] = d
		}
	}
	out := []localapi.Daemon{}
	for _, key := range slices.Sorted(maps.Keys(snap.statuses)) {
		j := apiDaemon(snap.statuses[key], placed[key])
		a.withHealth(&j)
		out = append(out, j)
	}
	return out, nil
}

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
	if !st.NextRetry.IsZero() {
		t := st.NextRetry
		j.NextRetry = &t
	}
	j.Restarts, j.Stderr, j.Since, j.Settling = st.Restarts, st.Stderr, st.Since, settling(st)
	if !st.OperatorRestartAt.IsZero() {
		t := st.OperatorRestartAt
		j.RestartedByOperator = &t
	}
	if st.Status != StatusRunning || st.LastExit != nil {
		j.FailedRuns = st.Attempts
	}
	if x := st.LastExit; x != nil {
		j.LastExit = &localapi.Exit{Started: x.Started, At: x.At, Status: x.Status, Text: x.Text}
	}
	if d == nil {
		return j
	}
	j.Command, j.NumProcs, j.StopSignal, j.StopWaitSecs, j.Enabled = d.Command, d.NumProcs, d.StopSignal, d.StopWaitSecs, d.Enabled
	j.Host = d.Host.String()
	if d.From != nil {
		j.FailoverFrom = d.From.Name
	}
	if d.ProxyPath != "" {
		p, port := d.ProxyPath, d.Port
		j.ProxyPath, j.ProxyPort = &p, &port
	}
	if d.MaxMemoryMB > 0 {
		m := d.MaxMemoryMB
		j.MaxMemoryMB = &m
	}
	j.Restart, j.Singleton = d.Restart, d.Singleton
	if d.MaxOpenFiles > 0 {
		n := d.MaxOpenFiles
		j.MaxOpenFiles = &n
	}
	for _, v := range d.Environment {
		j.Environment[v.Name] = localapi.Redacted
	}
	if d.EnvFile != "" {
		f := d.EnvFile
		j.EnvFile = &f
	}
	if d.RestartOnChange != "" {
		f := d.RestartOnChange
		j.RestartOnChange = &f
	}
	j.Health = apiHealth(d)
	return j
}
