package reconcile

import (
	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/netstate"
	"github.com/drover-sh/drover/render"
)

// desired is what a pass makes the node carry: the files render places in
// the layout's directories, by store key, each with its owner; and the
// network state, nil when the agent manages no network.
type desired struct {
	files   map[string]render.File
	network *netstate.State
}

// desiredOf renders a plan into what the node should carry.
func (a *Reconciler) desiredOf(plan *netplan.NodePlan) desired {
	// Tenant identity check (tenants.go): refused tenants get nothing installed.
	plan = a.admitted(plan)
	carried := a.memo.Carry(plan)
	d := desired{files: make(map[string]render.File, len(carried.Files))}
	for _, f := range carried.Files {
		if _, ok := a.layout[f.Root]; ok {
			d.files[install.Key(f.Root, f.Path)] = f
		}
	}
	if a.cfg.Network != nil {
		d.network = &carried.Network
	}
	return d
}

// storedDesired is what the store says the node carries, to install again:
// the installed files and the network state last applied.
func (a *Reconciler) storedDesired(installed map[string]store.Resource) (desired, error) {
	d := desired{files: make(map[string]render.File, len(installed))}
	for key, r := range installed {
		root, path := install.SplitKey(key)
		if _, ok := a.layout[root]; ok {
			d.files[key] = render.File{Root: root, Path: path, Owner: r.Owner, Mode: r.Mode, Data: r.Data, Hash: r.Hash}
		}
	}
	s, ok, err := a.store.Network()
	if ok && a.cfg.Network != nil {
		d.network = &s
	}
	return d, err
}

// same reports whether d and e make the node carry the same.
func (d desired) same(e desired) bool {
	if len(d.files) != len(e.files) || (d.network == nil) != (e.network == nil) ||
		(d.network != nil && !d.network.Equal(*e.network)) {
		return false
	}
	for k, f := range d.files {
		if g, ok := e.files[k]; !ok || fileHash(f) != fileHash(g) || f.Mode != g.Mode || f.Owner != g.Owner {
			return false
		}
	}
	return true
}

// fileHash is f's content hash, as the store keeps it: render's when it
// set one (a file the memo reused has no Data, only its Hash).
func fileHash(f render.File) string {
	if f.Hash != "" {
		return f.Hash
	}
	return hashOf(f.Data)
}
