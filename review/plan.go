// Package review computes what a change of the config repository does to
// every node — daemons added, changed, removed and moved with the reason,
// port changes, network changes and the unified diff of every rendered file
// — and formats it as text, Markdown (for a pull-request comment) or JSON.
// It is pure: two Configs in, a Plan out, nothing touches a node.
package review

import (
	"fmt"

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
	// Action is what the change does to the program's processes on this
	// node.
	Action ProgramAction
}

// ProgramAction is what a daemon change does to its program's processes
// on a node.
type ProgramAction string

const (
	ProgramNone    ProgramAction = ""        // nothing that runs: no change to the program, or a disabled one
	ProgramStart   ProgramAction = "start"   // an enabled program is added (added, moved in) or enabled
	ProgramRestart ProgramAction = "restart" // an enabled program is stopped and started with its new configuration
	ProgramStop    ProgramAction = "stop"    // an enabled program is removed (removed, moved out) or disabled
)

// programAction is the action of a daemon change: b and h are whether the
// daemon runs on this node before and after (present and enabled), and
// restart whether its program section or exec spec changes.
func programAction(b, h, restart bool) ProgramAction {
	switch {
	case !b && h:
		return ProgramStart
	case b && !h:
		return ProgramStop
	case b && h && restart:
		return ProgramRestart
	}
	return ProgramNone
}

// FieldChange is one changed value. Old and New are nil when the value is
// absent on that side (a pin not set, a key not in the environment) or
// redacted (environment values: they hold secrets).
type FieldChange struct {
	Field    string
	Old, New *string
	Redacted bool
	// Encrypted marks an environment value encrypted on either side
	// (secret package): the plan cannot tell whether the plain value
	// changed, only that the encrypted one did.
	Encrypted bool
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
	// The head shares the base's unchanged tenants (one spec.Loader built
	// both): their placement is the base's.
	hc, err := netplan.ComputeFrom(bc, head)
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
