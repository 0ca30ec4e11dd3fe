package netplan

import (
	"maps"
	"slices"
	"sort"

	"github.com/drover-sh/drover/spec"
)

// Outage says which nodes a daemon may not run on now: those its shard's
// pool has seen dead for long enough, or back for too short a time. The
// answer may differ by daemon (a singleton waits longer).
type Outage interface {
	Out(node string, d *spec.Daemon) bool
}

// Failover is the effective placement: c's, but every daemon whose node is
// out runs on the node rendezvous picks among its shard's undrained nodes
// that are not out for it (pinned daemons too), with NodeReason
// NodeFailover, From its configured node, and Host the tenant's address
// there (ports do not depend on the node). A daemon for which every node
// is out stays where it is configured. Every other daemon stays put, so
// every node that sees the same outage computes the same answer.
//
// Webroot plans are rebuilt for the tenants with a moved daemon (every
// node's nginx follows); other tenants share c's. With nothing moved,
// Failover returns the configured placement: c itself when c is Compute's.
// Failover always starts from the configured placement, also when c is a
// Failover result, and ComputeFrom reuses only configured placements.
func (c *Cluster) Failover(o Outage) *Cluster {
	if c.configured != nil {
		c = c.configured
	}
	tenants := map[*spec.Tenant]*tenantPlan{} // with a moved daemon
	var moved []*Daemon
	for _, t := range c.Config.Tenants {
		tp := c.tenants[t]
		for i, d := range tp.daemons {
			if !o.Out(d.Node.Name, d.Daemon) {
				continue
			}
			m := c.failover(d, o)
			if m == nil {
				continue
			}
			if tenants[t] == nil {
				tenants[t] = &tenantPlan{daemons: slices.Clone(tp.daemons)}
			}
			tenants[t].daemons[i] = m
			moved = append(moved, m)
		}
	}
	if len(moved) == 0 {
		return c
	}
	f := &Cluster{Config: c.Config, Prefix: c.Prefix, Daemons: slices.Clone(c.Daemons),
		programs: maps.Clone(c.programs), webroots: maps.Clone(c.webroots), tenants: c.tenants, configured: c}
	for _, d := range moved {
		f.Daemons[sort.Search(len(f.Daemons), func(i int) bool { return f.Daemons[i].Key >= d.Key })] = d
	}
	f.movePrograms(moved)
	shards := map[string]bool{}
	for t, tp := range tenants {
		placed := make(map[*spec.Daemon]*Daemon, len(tp.daemons))
		for _, d := range tp.daemons {
			placed[d.Daemon] = d
		}
		tp.webroots = webrootPlans(t, placed)
		shards[t.Shard] = true
	}
	for shard := range shards {
		var ws []*WebrootPlan
		for _, t := range c.Config.Tenants {
			if t.Shard != shard {
				continue
			}
			tp := tenants[t]
			if tp == nil {
				tp = c.tenants[t]
			}
			ws = append(ws, tp.webroots...)
		}
		f.webroots[shard] = ws
	}
	return f
}

// failover is d moved off its configured node, which is out, or nil when
// every node of its shard is out for it.
func (c *Cluster) failover(d *Daemon, o Outage) *Daemon {
	shard := c.Config.Shard(d.Node.Shard)
	n := rendezvous(shard.Nodes, d.Key, func(n *spec.Node) bool { return o.Out(n.Name, d.Daemon) })
	if n == nil {
		return nil
	}
	m := *d
	m.Node, m.NodeReason, m.From = n, NodeFailover, d.Node
	m.Host = TenantAddr(c.Prefix, n.Index, d.UID)
	return &m
}

// movePrograms takes the moved daemons off their configured nodes'
// programs and adds them to their new nodes'; the lists of other nodes
// stay shared.
func (f *Cluster) movePrograms(moved []*Daemon) {
	gone := map[*spec.Node]map[string]bool{} // by node: the programs that left
	came := map[*spec.Node][]*Daemon{}
	for _, d := range moved {
		if gone[d.From] == nil {
			gone[d.From] = map[string]bool{}
		}
		gone[d.From][d.Program] = true
		came[d.Node] = append(came[d.Node], d)
	}
	for n, programs := range gone {
		f.programs[n] = slices.DeleteFunc(slices.Clone(f.programs[n]), func(d *Daemon) bool { return programs[d.Program] })
	}
	for n, ds := range came {
		ps := slices.Concat(f.programs[n], ds)
		sort.Slice(ps, func(i, j int) bool { return ps[i].Program < ps[j].Program })
		f.programs[n] = ps
	}
}
