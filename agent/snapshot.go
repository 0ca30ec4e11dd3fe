package agent

import (
	"maps"
	"slices"

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
}

// publish makes the current state what the API reports (a.mu held). The
// statuses are copied only when they changed since the last publish (see
// record): a no-op pass publishes without copying thousands of them.
func (a *Agent) publish() {
	prev := a.snap.Load()
	var statuses map[string]store.DaemonStatus
	if prev != nil && !a.statusesChanged {
		statuses = prev.statuses
	} else if cur, err := a.daemonStatuses(); err == nil {
		statuses = maps.Clone(cur)
		a.statusesChanged = false
	}
	a.snap.Store(&snapshot{state: a.state, statuses: statuses, plan: a.plan})
}

// Status reports the node.
func (a *Agent) Status() (localapi.Status, error) {
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
	if st.Rejected != "" {
		s.Rejected = &localapi.Rejection{Revision: st.Rejected, Diagnostics: st.RejectedDiags}
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
		s.History = append(s.History, localapi.History{Revision: h.Revision, At: h.At, Result: h.Result, Summary: h.Summary})
	}
	return s, nil
}

// Daemons reports every daemon on this node, sorted by key.
func (a *Agent) Daemons() ([]localapi.Daemon, error) {
	snap := a.snap.Load()
	placed := map[string]*netplan.Daemon{}
	if snap.plan != nil {
		for _, d := range snap.plan.Programs {
			placed[d.Key] = d
		}
	}
	out := []localapi.Daemon{}
	for _, key := range slices.Sorted(maps.Keys(snap.statuses)) {
		out = append(out, apiDaemon(snap.statuses[key], placed[key]))
	}
	return out, nil
}
