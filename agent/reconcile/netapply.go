package reconcile

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/netstate"
	"github.com/drover-sh/drover/render"
)

// applyNetwork converges addresses, routes and the nftables table to the
// desired state, first in a pass: daemons bind to their tenant address. On
// failure the node's proxied daemons are failed with the reason (they
// cannot listen), and the state is not recorded, so it is tried again.
func (a *Reconciler) applyNetwork(ctx context.Context, plan *netplan.NodePlan, s netstate.State) stepResult {
	var r stepResult
	if a.net == nil {
		return r
	}
	start := time.Now()
	rep, err := a.net.Apply(ctx, s)
	r.timed("network", start)
	r.changes = append(r.changes, rep.Changes...)
	if err != nil {
		a.state.NetworkError = err.Error()
		r.fail("network", err)
		if plan != nil {
			for _, d := range plan.Programs {
				if d.ProxyPath != "" {
					r.failProgram(d.Program, fmt.Sprintf("network: %v", err))
				}
			}
		}
		return r
	}
	a.state.NetworkError = ""
	return r
}

// networkToRecord is s when the store holds another network state, nil
// when it holds s already (nothing to write).
func (a *Reconciler) networkToRecord(s netstate.State) *netstate.State {
	if old, ok, err := a.store.Network(); err == nil && ok && old.Equal(s) {
		return nil
	}
	return &s
}

// CheckNetwork repairs network drift from the stored state (the loop calls
// it every second). It changes nothing when the machine matches, or when
// the configuration has no network block.
func (a *Reconciler) CheckNetwork(ctx context.Context) {
	if a.net == nil {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	s, ok, err := a.store.Network()
	if err != nil || !ok {
		return
	}
	drift, err := a.net.Observe(ctx, s)
	if err != nil {
		a.state.NetworkError = err.Error()
		return
	}
	if drift.Empty() {
		return
	}
	rep, err := a.net.Apply(ctx, s)
	if err != nil {
		a.state.NetworkError = err.Error()
		a.log.Error("repairing network drift failed", "drift", strings.Join(drift.Items, "; "), "error", err)
		return
	}
	a.state.NetworkError = ""
	a.state.NetworkRepairs++
	a.metrics.driftRepairs.Add(float64(len(rep.Changes)))
	a.log.Warn("repaired network drift", "drift", strings.Join(drift.Items, "; "), "changes", strings.Join(rep.Changes, "; "))
}

// Uninstall removes everything drover installed on the node: programs,
// exec specs, nginx files, memory cgroups, and — only here — the nftables
// table and drover's addresses and routes. The store is emptied.
func (a *Reconciler) Uninstall(ctx context.Context) *Result {
	a.passMu.Lock()
	defer a.passMu.Unlock()
	a.mu.Lock()
	s, hasNet, err := a.store.Network()
	if err != nil {
		a.mu.Unlock()
		return &Result{Outcome: OutcomeFailed, Err: err}
	}
	res := a.apply(ctx, "", nil, desired{files: map[string]render.File{}}, applyOpts{})
	a.mu.Unlock()
	a.Settle(ctx, res) // the programs are gone before their addresses
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	removedNet := false
	if hasNet && a.net != nil {
		if err := a.net.Remove(ctx, s.NftTable, s.Managed()); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("remove network: %w", err))
		} else {
			removedNet = true
			res.changef("removed nftables table ip6 %s and drover's addresses and routes", s.NftTable)
		}
	}
	statuses, err := a.daemonStatuses()
	if err == nil {
		var keys []string
		for k := range statuses {
			keys = append(keys, k)
		}
		if err := a.record(store.Change{At: a.now(), DeleteDaemons: keys, DeleteNetwork: removedNet}); err != nil {
			res.Err = errors.Join(res.Err, err)
		}
	}
	// Nothing is left to hold: a node set up again follows its branch.
	if err := a.hold(nil); err != nil {
		res.Err = errors.Join(res.Err, err)
	}
	res.Outcome = OutcomeUninstalled
	if res.Err != nil {
		res.Outcome = OutcomeFailed
	}
	return res
}
