package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/drover-sh/drover/agent/network"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
)

// networkKey is where the node's desired network state is kept in the store
// (a resource of the network root: recorded, never a file). It is what the
// agent re-applies at boot before any fetch.
const networkKey = "network/state.json"

// networkCheck is how often the agent compares the machine's addresses,
// routes and nftables table with the stored state, to repair drift (an
// address deleted by hand, a flushed table) within a couple of seconds.
const networkCheck = time.Second

// networkFile is the stored form of a node's network state.
func networkFile(s network.State) render.File {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // plain strings, ints and netip values always marshal
	}
	return render.File{Root: render.RootNetwork, Path: "state.json", Mode: 0o600, Data: append(b, '\n')}
}

// networkState reads the network state out of a set of desired files.
func networkState(desired map[string]render.File) (network.State, bool, error) {
	f, ok := desired[networkKey]
	if !ok {
		return network.State{}, false, nil
	}
	var s network.State
	if err := json.Unmarshal(f.Data, &s); err != nil {
		return s, false, fmt.Errorf("stored network state: %w", err)
	}
	return s, true, nil
}

// applyNetwork converges addresses, routes and the nftables table to the
// desired state, first in a pass: daemons bind to their tenant address. On
// failure the node's proxied daemons are failed with the reason (they
// cannot listen), and the state is not recorded, so it is tried again.
func (a *Agent) applyNetwork(ctx context.Context, plan *netplan.NodePlan, desired map[string]render.File, res *Result, failed map[string]string) (ok bool) {
	if a.net == nil {
		return true
	}
	s, found, err := networkState(desired)
	if !found && err == nil {
		return true
	}
	start := time.Now()
	var rep network.Report
	if err == nil {
		rep, err = a.net.Apply(ctx, s)
	}
	res.took("network", start)
	for _, c := range rep.Changes {
		res.changef("%s", c)
	}
	if err != nil {
		a.state.NetworkError = err.Error()
		res.Err = errors.Join(res.Err, fmt.Errorf("network: %w", err))
		if plan != nil {
			for _, d := range plan.Programs {
				if d.ProxyPath != "" {
					failed[d.Program] = fmt.Sprintf("network: %v", err)
				}
			}
		}
		return false
	}
	a.state.NetworkError = ""
	return true
}

// checkNetwork repairs network drift from the stored state (the watcher of
// addresses and the nftables table). It changes nothing when the machine
// matches.
func (a *Agent) checkNetwork(ctx context.Context) {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	r, ok, err := a.store.Resource(networkKey)
	if err != nil || !ok {
		return
	}
	var s network.State
	if err := json.Unmarshal(r.Data, &s); err != nil {
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
		a.log.Error("repairing network drift failed", "drift", drift.Items, "error", err)
		return
	}
	a.state.NetworkError = ""
	a.state.NetworkRepairs++
	a.metrics.driftRepairs.Add(float64(len(rep.Changes)))
	a.log.Warn("repaired network drift", "drift", drift.Items, "changes", rep.Changes)
}

// Uninstall removes everything drover installed on the node: programs,
// exec specs, nginx files, memory cgroups, and — only here — the nftables
// table and drover's addresses and routes. The store is emptied.
func (a *Agent) Uninstall(ctx context.Context) *Result {
	a.passMu.Lock()
	defer a.passMu.Unlock()
	a.mu.Lock()
	installed, err := a.store.Resources()
	if err != nil {
		a.mu.Unlock()
		return &Result{Outcome: OutcomeFailed, Err: err}
	}
	s, hasNet, _ := networkState(filesOf(installed))
	res := a.apply(ctx, "", nil, map[string]render.File{}, applyOpts{})
	a.mu.Unlock()
	a.settleInto(ctx, res) // the programs are gone before their addresses
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	if hasNet && a.net != nil {
		if err := a.net.Remove(ctx, s.NftTable, s.Managed()); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("remove network: %w", err))
		} else {
			res.changef("removed nftables table ip6 %s and drover's addresses and routes", s.NftTable)
		}
	}
	statuses, err := a.daemonStatuses()
	if err == nil {
		var keys []string
		for k := range statuses {
			keys = append(keys, k)
		}
		if err := a.record(store.Change{At: a.now(), DeleteDaemons: keys}); err != nil {
			res.Err = errors.Join(res.Err, err)
		}
	}
	res.Outcome = OutcomeUninstalled
	if res.Err != nil {
		res.Outcome = OutcomeFailed
	}
	return res
}
