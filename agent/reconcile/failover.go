package reconcile

import (
	"context"
	"net/netip"
	"slices"
	"time"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// Failover (design.md §6.13): the node's plan is the configured placement
// of its revision with the pool's decisions applied (netplan.Failover).
// A pass places with the decisions of its start; Replan places the running
// revision again when they change, with no fetch and no parse: the
// configured placement (a.placed) is kept from the load.

// refreshLive takes the pool's decisions now (a.mu held).
func (a *Reconciler) refreshLive() {
	if a.liveness == nil {
		return
	}
	a.live = a.liveness()
	a.liveKey = a.live.Key(a.waits)
}

// nodePlan is the node's plan in the configured placement c with the
// pool's decisions (a.mu held).
func (a *Reconciler) nodePlan(c *netplan.Cluster) (*netplan.NodePlan, error) {
	if a.live != nil {
		c = c.Failover(a.live)
	}
	plan, err := c.Node(a.cfg.Node)
	if err == nil {
		a.effective = c
	}
	return plan, err
}

// Placement is the live placement of the node's running revision (the
// configured one with the pool's decisions), of node's daemons only when
// node is not "", sorted by key; nil before a revision is loaded. It
// answers from the published snapshot.
func (a *Reconciler) Placement(node string) []*netplan.Daemon {
	c := a.snap.Load().placed
	if c == nil {
		return nil
	}
	if node == "" {
		return c.Daemons
	}
	var out []*netplan.Daemon
	for _, d := range c.Daemons {
		if d.Node.Name == node {
			out = append(out, d)
		}
	}
	return out
}

// setPlaced keeps the configured placement of the revision being loaded,
// and the stop waits of its shard's singletons (a.mu held).
func (a *Reconciler) setPlaced(c *netplan.Cluster) {
	a.placed = c
	if c == nil {
		a.waits = nil
		return
	}
	var waits []int
	var shard string
	if n := c.Config.Node(a.cfg.Node); n != nil {
		shard = n.Shard
	}
	for _, t := range c.Config.Tenants {
		if t.Shard != shard {
			continue
		}
		for _, w := range t.Webroots {
			for _, d := range w.Daemons {
				if d.Singleton && !slices.Contains(waits, d.StopWaitSecs) {
					waits = append(waits, d.StopWaitSecs)
				}
			}
		}
	}
	slices.Sort(waits)
	a.waits = waits
	if a.live != nil {
		a.liveKey = a.live.Key(waits)
	}
}

// Replan places the running revision again with the pool's decisions now,
// if they changed since the plan was placed (a node out or back, the gate
// of singletons opening or closing), and applies the difference. The
// agent calls it when the pool reports a change and when a decision's time
// comes (NextLive), beside the loop. It takes a.mu, not passMu: a pass
// waiting for a hung Git server (which a partition makes likely) holds
// passMu for up to source.timeout, and a failover must not wait for it.
func (a *Reconciler) Replan(ctx context.Context) *Result {
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	before := a.liveKey
	a.refreshLive()
	if a.liveKey == before || a.placed == nil || a.plan == nil {
		return &Result{Revision: a.planRev, Outcome: OutcomeUnchanged}
	}
	start := a.now()
	plan, err := a.nodePlan(a.placed)
	if err != nil { // the node was in this revision a moment ago
		return &Result{Revision: a.planRev, Outcome: OutcomeFailed, Err: &FailedError{Step: "place", Err: err}}
	}
	a.logMoves(a.plan, plan)
	res := a.apply(ctx, a.planRev, plan, a.desiredOf(plan), applyOpts{trustStore: true})
	a.plan = plan
	if a.loaded != nil {
		a.loaded = &loadedRev{key: a.loaded.key, live: a.liveKey, plan: plan}
	}
	a.metrics.observeReconcile(res, a.now().Sub(start))
	a.log.Info("placed again after a change in the pool", "revision", short(a.planRev), "outcome", res.Outcome,
		"changes", len(res.Changes), "failed", len(res.Failed), "took", a.now().Sub(start).Round(time.Millisecond))
	return res
}

// NextLive is when the pool's decisions change next with no news from the
// pool (a dead node's time to move its daemons, a failback done, a gate
// opening); zero when none waits.
func (a *Reconciler) NextLive() time.Time {
	if a.liveness == nil {
		return time.Time{}
	}
	a.mu.Lock()
	waits := a.waits
	a.mu.Unlock()
	return a.liveness().Next(waits)
}

// logMoves logs every daemon that comes to or leaves this node by a
// failover, with its cause (a.mu held).
func (a *Reconciler) logMoves(before, after *netplan.NodePlan) {
	was := map[string]*netplan.Daemon{}
	if before != nil {
		for _, d := range before.Programs {
			was[d.Key] = d
		}
	}
	for _, d := range after.Programs {
		if _, ok := was[d.Key]; ok {
			delete(was, d.Key)
			continue
		}
		if d.From != nil {
			a.log.Info("daemon moved here by failover", "daemon", d.Key, "from", d.From.Name, "cause", a.live.Cause(d.From.Name))
			a.metrics.failovers.Inc()
		}
	}
	for _, d := range was {
		if d.From != nil {
			a.log.Info("daemon moved back after failback", "daemon", d.Key, "to", d.From.Name, "cause", a.live.Cause(d.From.Name))
		}
	}
}

// Shard is the node's shard in the running revision and the cluster's
// prefix (the pool takes its peers and transit addresses from them); nil
// before a revision is loaded. It answers from the published snapshot.
func (a *Reconciler) Shard() (*spec.Shard, netip.Prefix) {
	c := a.snap.Load().placed
	if c == nil {
		return nil, netip.Prefix{}
	}
	n := c.Config.Node(a.cfg.Node)
	if n == nil {
		return nil, netip.Prefix{}
	}
	return c.Config.Shard(n.Shard), c.Prefix
}
