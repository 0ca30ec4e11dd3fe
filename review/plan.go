// Package review computes what a change of the config repository does to
// every node — daemons added, changed, removed and moved with the reason,
// port changes, network changes and the unified diff of every rendered file
// — and formats it as text, Markdown (for a pull-request comment) or JSON.
// It is pure: two Configs in, a Plan out, nothing touches a node.
package review

import (
	"fmt"
	"slices"
	"sort"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
	"github.com/drover-sh/drover/spec"
)

// Plan is what a change does to every node.
type Plan struct {
	// Nodes are the nodes that change, sorted by name.
	Nodes []*Node
	// Moves are the daemons that change node, sorted by key: exactly the
	// difference between the placements of the two revisions.
	Moves []Move
	// Daemons counts daemon changes over the nodes shown.
	Daemons Counts
	// NodeCount is the number of nodes in the head revision.
	NodeCount int
}

// Counts counts daemon changes.
type Counts struct {
	Added       int `json:"added"`
	Changed     int `json:"changed"`
	Removed     int `json:"removed"`
	Moved       int `json:"moved"`
	PortChanges int `json:"port_changes"`
}

// Changed reports whether the plan changes anything on any node.
func (p *Plan) Changed() bool { return len(p.Nodes) > 0 }

// NodeStatus says whether a node is new, gone or changed.
type NodeStatus string

const (
	NodeAdded   NodeStatus = "added"   // declared in the head only
	NodeRemoved NodeStatus = "removed" // declared in the base only
	NodeChanged NodeStatus = "changed"
)

// Node is everything that changes on one node.
type Node struct {
	Name   string
	Shard  string // in the head, or the base for a removed node
	Status NodeStatus
	// Settings are changes of the node block itself: shard, index, weight,
	// drain.
	Settings []FieldChange
	// Daemons are the daemon changes on this node, sorted by kind, then key.
	Daemons []DaemonChange
	// Ports are the port changes of daemons on this node (in the head).
	Ports []PortChange
	// Programs counts supervisord programs added, changed (restarted or
	// updated) and removed.
	Programs ProgramCounts
	// Addresses and Routes list network objects added and removed.
	Addresses ListChange
	Routes    ListChange
	// NginxReload is set when an nginx file changes: the node reloads nginx.
	NginxReload bool
	// NetworkChange is set when addresses, routes or the nftables ruleset
	// change.
	NetworkChange bool
	// Files are the rendered files that change, sorted by root and path.
	Files []FileDiff
}

// ProgramCounts counts supervisord program changes on a node.
type ProgramCounts struct {
	Added   int `json:"added"`
	Changed int `json:"changed"`
	Removed int `json:"removed"`
}

// ListChange lists items added and removed.
type ListChange struct {
	Added   []string `json:"added"`
	Removed []string `json:"removed"`
}

func (l ListChange) empty() bool { return len(l.Added) == 0 && len(l.Removed) == 0 }

// DaemonKind says what happens to a daemon on a node.
type DaemonKind string

const (
	DaemonAdded    DaemonKind = "added"     // a new daemon
	DaemonChanged  DaemonKind = "changed"   // same node, something differs
	DaemonMovedIn  DaemonKind = "moved-in"  // moved here from another node
	DaemonMovedOut DaemonKind = "moved-out" // moved from here to another node
	DaemonRemoved  DaemonKind = "removed"   // the daemon block was removed
)

var kindOrder = map[DaemonKind]int{DaemonAdded: 0, DaemonChanged: 1, DaemonMovedIn: 2, DaemonMovedOut: 3, DaemonRemoved: 4}

// DaemonChange is one daemon's change on one node.
type DaemonChange struct {
	Key     string
	Program string
	Kind    DaemonKind
	// From and To are the nodes of a move.
	From, To string
	// Reason and Detail explain a move.
	Reason MoveReason
	Detail string
	// Fields are the changes of the daemon (for changed and moved-in).
	Fields []FieldChange
	// Port is the daemon's port change, if any.
	Port *PortChange
	// Restart is set for a changed daemon whose program section or exec
	// spec changes, so the agent restarts (or updates) its program.
	Restart bool
}

// FieldChange is one changed value. Old and New are nil when the value is
// absent on that side (a pin not set, a key not in the environment) or
// redacted (environment values: they hold secrets).
type FieldChange struct {
	Field    string
	Old, New *string
	Redacted bool
}

// Change is "added", "removed" or "changed".
func (f FieldChange) Change() string {
	switch {
	case f.Redacted:
		return f.redactedChange()
	case f.Old == nil:
		return "added"
	case f.New == nil:
		return "removed"
	}
	return "changed"
}

// redactedChange keeps added/removed for environment keys, whose values
// are both nil.
func (f FieldChange) redactedChange() string {
	switch {
	case f.Old == nil && f.New != nil:
		return "added"
	case f.New == nil && f.Old != nil:
		return "removed"
	}
	return "changed"
}

// MoveReason says why a daemon changes node.
type MoveReason string

const (
	ReasonNewNode     MoveReason = "new-node"     // a node was added to the shard
	ReasonNodeRemoved MoveReason = "node-removed" // its node was removed (or left the shard)
	ReasonDrain       MoveReason = "drain"        // its node (or pinned node) was drained
	ReasonUndrain     MoveReason = "undrain"      // a node came back from drain
	ReasonWeight      MoveReason = "weight"       // a node weight changed
	ReasonPin         MoveReason = "pin"          // a node pin was added or changed
	ReasonUnpin       MoveReason = "unpin"        // its node pin was removed
	ReasonShard       MoveReason = "shard"        // its tenant moved to another shard
	ReasonRendezvous  MoveReason = "rendezvous"   // none of the above (not expected)
)

// Move is one daemon changing node.
type Move struct {
	Key      string
	From, To string
	Reason   MoveReason
	Detail   string
}

// PortReason says why a daemon's port changes.
type PortReason string

const (
	PortPin               PortReason = "pin"                // a port pin was added or changed
	PortUnpin             PortReason = "unpin"              // its port pin was removed
	PortCollision         PortReason = "collision"          // its preferred port is taken
	PortCollisionResolved PortReason = "collision-resolved" // its preferred port is free again
)

// PortChange is a proxied daemon's new port.
type PortChange struct {
	Key      string
	Old, New int
	Reason   PortReason
	Detail   string
}

// FileStatus says how a rendered file changes.
type FileStatus string

const (
	FileAdded   FileStatus = "added"
	FileChanged FileStatus = "changed"
	FileRemoved FileStatus = "removed"
)

// FileDiff is one rendered file that changes, with its unified diff.
// Exec specs are diffed with environment values redacted.
type FileDiff struct {
	Root   render.Root
	Path   string
	Status FileStatus
	// Diff is the unified diff (a/ROOT/PATH, b/ROOT/PATH), 3 lines of
	// context.
	Diff               string
	Additions, Deletes int
}

// Name is ROOT/PATH.
func (f FileDiff) Name() string { return string(f.Root) + "/" + f.Path }

// Options tune Compute.
type Options struct {
	// Render are the agent's render settings (paths inside the files).
	Render render.Options
	// Node, when set, limits the plan to that node.
	Node string
}

// Compute compares two valid Configs. base may be nil: an empty repository,
// or a base that is not valid (every node is then new). head must not be
// nil.
func Compute(base, head *spec.Config, o Options) (*Plan, error) {
	var bc *netplan.Cluster
	if base != nil {
		c, err := netplan.Compute(base)
		if err != nil {
			return nil, fmt.Errorf("place the base: %w", err)
		}
		bc = c
	}
	hc, err := netplan.Compute(head)
	if err != nil {
		return nil, fmt.Errorf("place the head: %w", err)
	}
	if o.Node != "" && head.Node(o.Node) == nil && (base == nil || base.Node(o.Node) == nil) {
		return nil, fmt.Errorf("node %q is declared in neither revision", o.Node)
	}
	c := &comparison{base: bc, head: hc, o: o, nodes: map[string]*Node{}, dirtyShards: map[string]bool{},
		programs: map[string]map[string]bool{}, webroots: map[string]bool{}, netDirty: map[string]bool{},
		allDirty: fullRender}
	c.daemons()
	c.nodeSettings()
	if err := c.files(); err != nil {
		return nil, err
	}
	return c.plan(), nil
}

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
			c.node(h.Node.Name).Daemons = append(c.node(h.Node.Name).Daemons, DaemonChange{Key: h.Key, Program: h.Program, Kind: DaemonAdded})
		case h == nil:
			c.touch(b)
			c.node(b.Node.Name).Daemons = append(c.node(b.Node.Name).Daemons, DaemonChange{Key: b.Key, Program: b.Program, Kind: DaemonRemoved})
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
			From: b.Node.Name, To: h.Node.Name, Reason: reason, Detail: detail})
		hn.Daemons = append(hn.Daemons, DaemonChange{Key: h.Key, Program: h.Program, Kind: DaemonMovedIn,
			From: b.Node.Name, To: h.Node.Name, Reason: reason, Detail: detail, Fields: fields, Port: pc})
		return
	}
	o := c.o.Render
	restart := render.ProgramSection(b, o) != render.ProgramSection(h, o) ||
		!render.NewExecSpec(b, o).Equal(render.NewExecSpec(h, o))
	n := c.node(h.Node.Name)
	n.Daemons = append(n.Daemons, DaemonChange{Key: h.Key, Program: h.Program, Kind: DaemonChanged,
		Fields: fields, Port: pc, Restart: restart})
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
