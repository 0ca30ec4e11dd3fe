package review

import (
	"fmt"
	"slices"
	"sort"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
	"github.com/drover-sh/drover/spec"
)

// The comparison of two revisions' node plans, daemon by daemon and node by
// node, that Compute builds a Plan from.

// comparison carries the state of one Compute.
type comparison struct {
	base, head  *netplan.Cluster // base is nil for an empty base
	o           Options
	nodes       map[string]*Node
	moves       []Move
	dirtyShards map[string]bool // shards whose nodes may render differently
	allDirty    bool            // cluster-wide change: every node renders in full
	// programs are the programs whose daemon changes on each node (either
	// side), and webroots the webroots ("tenant/webroot") whose nginx files
	// may change: only those are rendered, see nodeFiles.
	programs map[string]map[string]bool
	webroots map[string]bool
	// netDirty are the shards whose network files (addresses, routes,
	// nftables) may change: tenants or nodes added, removed, renumbered.
	netDirty map[string]bool
}

// fullRender makes every candidate node render in full (tests compare it
// with the targeted render).
var fullRender = false

// touch records that daemon d changes on its node.
func (c *comparison) touch(d *netplan.Daemon) {
	c.dirtyShards[d.Node.Shard] = true
	c.webroots[d.Tenant+"/"+d.Webroot] = true
	m := c.programs[d.Node.Name]
	if m == nil {
		m = map[string]bool{}
		c.programs[d.Node.Name] = m
	}
	m[d.Program] = true
}

func (c *comparison) node(name string) *Node {
	n := c.nodes[name]
	if n == nil {
		n = &Node{Name: name, Status: NodeChanged}
		c.nodes[name] = n
	}
	return n
}

func (c *comparison) baseConfig() *spec.Config {
	if c.base == nil {
		return &spec.Config{Cluster: &spec.Cluster{}}
	}
	return c.base.Config
}

// daemons compares every daemon's placement and settings.
func (c *comparison) daemons() {
	var bd []*netplan.Daemon
	if c.base != nil {
		bd = c.base.Daemons
	}
	hd := c.head.Daemons
	ports := tenantPorts(c.head)
	i, j := 0, 0
	for i < len(bd) || j < len(hd) {
		var b, h *netplan.Daemon
		switch {
		case j == len(hd) || i < len(bd) && bd[i].Key < hd[j].Key:
			b = bd[i]
			i++
		case i == len(bd) || hd[j].Key < bd[i].Key:
			h = hd[j]
			j++
		default:
			b, h = bd[i], hd[j]
			i, j = i+1, j+1
		}
		switch {
		case b == nil:
			c.touch(h)
			c.node(h.Node.Name).Daemons = append(c.node(h.Node.Name).Daemons, DaemonChange{Key: h.Key, Program: h.Program, Kind: DaemonAdded,
				Action: programAction(false, h.Enabled, false)})
		case h == nil:
			c.touch(b)
			c.node(b.Node.Name).Daemons = append(c.node(b.Node.Name).Daemons, DaemonChange{Key: b.Key, Program: b.Program, Kind: DaemonRemoved,
				Action: programAction(b.Enabled, false, false)})
		default:
			c.compareDaemon(b, h, ports)
		}
	}
}

func (c *comparison) compareDaemon(b, h *netplan.Daemon, ports map[string]map[int]string) {
	moved := b.Node.Name != h.Node.Name
	fields := daemonFields(b, h, !moved)
	var pc *PortChange
	if b.ProxyPath != "" && h.ProxyPath != "" && b.Port != h.Port {
		p := portChange(b, h, ports)
		pc = &p
	}
	if !moved && len(fields) == 0 && pc == nil {
		return
	}
	c.touch(b)
	c.touch(h)
	if pc != nil {
		hn := c.node(h.Node.Name)
		hn.Ports = append(hn.Ports, *pc)
	}
	if moved {
		reason, detail := moveReason(b, h, c.baseConfig(), c.head.Config)
		c.moves = append(c.moves, Move{Key: h.Key, From: b.Node.Name, To: h.Node.Name, Reason: reason, Detail: detail})
		bn, hn := c.node(b.Node.Name), c.node(h.Node.Name)
		bn.Daemons = append(bn.Daemons, DaemonChange{Key: b.Key, Program: b.Program, Kind: DaemonMovedOut,
			From: b.Node.Name, To: h.Node.Name, Reason: reason, Detail: detail, Action: programAction(b.Enabled, false, false)})
		hn.Daemons = append(hn.Daemons, DaemonChange{Key: h.Key, Program: h.Program, Kind: DaemonMovedIn,
			From: b.Node.Name, To: h.Node.Name, Reason: reason, Detail: detail, Fields: fields, Port: pc,
			Action: programAction(false, h.Enabled, false)})
		return
	}
	o := c.o.Render
	restart := render.ProgramSection(b, o) != render.ProgramSection(h, o) ||
		!render.NewExecSpec(b, o).Equal(render.NewExecSpec(h, o))
	n := c.node(h.Node.Name)
	n.Daemons = append(n.Daemons, DaemonChange{Key: h.Key, Program: h.Program, Kind: DaemonChanged,
		Fields: fields, Port: pc, Restart: restart, Action: programAction(b.Enabled, h.Enabled, restart)})
}

// tenantPorts maps tenant → port → key of the daemon holding it.
func tenantPorts(c *netplan.Cluster) map[string]map[int]string {
	m := map[string]map[int]string{}
	for _, d := range c.Daemons {
		if d.ProxyPath == "" {
			continue
		}
		if m[d.Tenant] == nil {
			m[d.Tenant] = map[int]string{}
		}
		m[d.Tenant][d.Port] = d.Key
	}
	return m
}

// nodeSettings compares the node blocks and marks shards whose nodes may
// render differently for reasons other than daemons.
func (c *comparison) nodeSettings() {
	bcfg, hcfg := c.baseConfig(), c.head.Config
	if c.base == nil || c.base.Prefix != c.head.Prefix || bcfg.Cluster.Name != hcfg.Cluster.Name {
		c.allDirty = true
	}
	type pair struct{ b, h *spec.Node }
	all := map[string]*pair{}
	for _, s := range bcfg.Shards {
		for _, n := range s.Nodes {
			all[n.Name] = &pair{b: n}
		}
	}
	for _, s := range hcfg.Shards {
		for _, n := range s.Nodes {
			if p := all[n.Name]; p != nil {
				p.h = n
			} else {
				all[n.Name] = &pair{h: n}
			}
		}
	}
	for name, p := range all {
		switch {
		case p.b == nil:
			n := c.node(name)
			n.Status, n.Shard = NodeAdded, p.h.Shard
			c.dirtyShards[p.h.Shard], c.netDirty[p.h.Shard] = true, true
		case p.h == nil:
			n := c.node(name)
			n.Status, n.Shard = NodeRemoved, p.b.Shard
			c.dirtyShards[p.b.Shard], c.netDirty[p.b.Shard] = true, true
		default:
			var fs []FieldChange
			add := func(field, old, new string) {
				if old != new {
					fs = append(fs, FieldChange{Field: field, Old: &old, New: &new})
				}
			}
			add("shard", p.b.Shard, p.h.Shard)
			add("index", fmt.Sprint(p.b.Index), fmt.Sprint(p.h.Index))
			add("weight", formatWeight(p.b.Weight), formatWeight(p.h.Weight))
			add("drain", fmt.Sprint(p.b.Drain), fmt.Sprint(p.h.Drain))
			if len(fs) > 0 {
				c.node(name).Settings = fs
				c.dirtyShards[p.b.Shard] = true
				c.dirtyShards[p.h.Shard] = true
				if p.b.Shard != p.h.Shard || p.b.Index != p.h.Index {
					c.netDirty[p.b.Shard], c.netDirty[p.h.Shard] = true, true
				}
			}
		}
	}
	// Tenants and webroots: uid, shard, server names and public folder
	// reach every node of the shard (addresses, nft, nginx server blocks).
	bt := map[string]*spec.Tenant{}
	for _, t := range bcfg.Tenants {
		bt[t.Name] = t
	}
	seen := map[string]bool{}
	for _, t := range hcfg.Tenants {
		seen[t.Name] = true
		b := bt[t.Name]
		if b == nil || b.UID != t.UID || b.Shard != t.Shard {
			c.netDirty[t.Shard] = true
			if b != nil {
				c.netDirty[b.Shard] = true
			}
		}
		if !tenantEqual(b, t) {
			c.dirtyTenant(t)
			if b != nil {
				c.dirtyTenant(b)
			}
		}
	}
	for _, t := range bcfg.Tenants {
		if !seen[t.Name] {
			c.dirtyTenant(t)
			c.netDirty[t.Shard] = true
		}
	}
}

// dirtyTenant marks every webroot of a tenant as changed on its shard.
func (c *comparison) dirtyTenant(t *spec.Tenant) {
	c.dirtyShards[t.Shard] = true
	for _, w := range t.Webroots {
		c.webroots[t.Name+"/"+w.Name] = true
	}
}

func formatWeight(w float64) string { return fmt.Sprint(w) }

// tenantEqual compares what a tenant contributes to its shard's nodes
// besides its daemons (compared one by one): uid, shard, webroots.
func tenantEqual(b, h *spec.Tenant) bool {
	if b == nil || b.UID != h.UID || b.Shard != h.Shard || len(b.Webroots) != len(h.Webroots) {
		return false
	}
	for i, bw := range b.Webroots {
		hw := h.Webroots[i]
		if bw.Name != hw.Name || bw.PublicFolder != hw.PublicFolder || !slices.Equal(bw.ServerNames, hw.ServerNames) {
			return false
		}
	}
	return true
}

// plan assembles the result, keeping only nodes that change.
func (c *comparison) plan() *Plan {
	p := &Plan{}
	for _, s := range c.head.Config.Shards {
		p.NodeCount += len(s.Nodes)
	}
	for _, m := range c.moves {
		if c.o.Node == "" || m.From == c.o.Node || m.To == c.o.Node {
			p.Moves = append(p.Moves, m)
		}
	}
	sort.Slice(p.Moves, func(i, j int) bool { return p.Moves[i].Key < p.Moves[j].Key })
	p.Daemons.Moved = len(p.Moves)
	for name, n := range c.nodes {
		if c.o.Node != "" && name != c.o.Node {
			continue
		}
		if n.Shard == "" {
			if hn := c.head.Config.Node(name); hn != nil {
				n.Shard = hn.Shard
			} else if bn := c.baseConfig().Node(name); bn != nil {
				n.Shard = bn.Shard
			}
		}
		sort.Slice(n.Daemons, func(i, j int) bool {
			a, b := n.Daemons[i], n.Daemons[j]
			if a.Kind != b.Kind {
				return kindOrder[a.Kind] < kindOrder[b.Kind]
			}
			return a.Key < b.Key
		})
		sort.Slice(n.Ports, func(i, j int) bool { return n.Ports[i].Key < n.Ports[j].Key })
		for _, d := range n.Daemons {
			switch d.Kind {
			case DaemonAdded:
				n.Programs.Added++
				p.Daemons.Added++
			case DaemonMovedIn:
				n.Programs.Added++
			case DaemonRemoved:
				n.Programs.Removed++
				p.Daemons.Removed++
			case DaemonMovedOut:
				n.Programs.Removed++
			case DaemonChanged:
				p.Daemons.Changed++
				if d.Restart {
					n.Programs.Changed++
				}
			}
		}
		p.Daemons.PortChanges += len(n.Ports)
		if n.Status == NodeChanged && len(n.Settings) == 0 && len(n.Daemons) == 0 && len(n.Files) == 0 &&
			len(n.Ports) == 0 && n.Addresses.empty() && n.Routes.empty() {
			continue
		}
		p.Nodes = append(p.Nodes, n)
	}
	sort.Slice(p.Nodes, func(i, j int) bool { return p.Nodes[i].Name < p.Nodes[j].Name })
	return p
}
