package spec

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// nameIndex records which daemon or webroot took each name of names.go.
//
// Names are unique in the whole cluster, not only among the daemons a node
// carries now: placement moves daemons between the nodes of a shard (a
// drain, a new node, a weight) and a tenant may move to another shard, so a
// rule per node or per shard would let such a change, made without touching
// either daemon, turn a valid configuration invalid, or pass two daemons
// that later land on one node and overwrite each other's program, exec spec
// and memory limit.
//
// The index keeps a 64-bit hash of each name, not the name: a large
// repository's daemons take hundreds of thousands of names, and the index
// lives while Build runs. An owner can list its names again (names), which
// confirms a match; a name whose hash another name has too is kept whole
// in exact.
type nameIndex struct {
	hash   func(NodeName) uint64
	owners map[uint64]*nameOwner   // by hash of the name
	exact  map[NodeName]*nameOwner // names whose hash an earlier name has
}

// newNameIndex returns an index sized for the files' daemons and webroots
// (most daemons have one process: four names each).
func newNameIndex(files []*File) nameIndex {
	n := 0
	for _, f := range files {
		for _, t := range f.raw.Tenants {
			for _, w := range t.Webroots {
				n += 2 + 4*len(w.daemons)
			}
		}
	}
	seed := maphash.MakeSeed()
	return nameIndex{owners: make(map[uint64]*nameOwner, n), exact: map[NodeName]*nameOwner{}, hash: func(n NodeName) uint64 {
		var h maphash.Hash
		h.SetSeed(seed)
		h.WriteByte(byte(n.NS))
		h.WriteString(n.Name)
		return h.Sum64()
	}}
}

// nameOwner is a daemon or webroot that takes names.
type nameOwner struct {
	daemon          bool
	tenant, webroot string
	name            string // the daemon's
	procs           int    // the daemon's num_procs (valid)
	f               *File
	def             span // its block
}

func daemonOwner(f *File, d *Daemon, procs int, def span) *nameOwner {
	return &nameOwner{daemon: true, tenant: d.Tenant, webroot: d.Webroot, name: d.Name, procs: procs, f: f, def: def}
}

func webrootOwner(f *File, tenant string, rw *rawWebroot) *nameOwner {
	return &nameOwner{tenant: tenant, webroot: rw.Name, f: f, def: rw.DefRange}
}

// names are the names the owner takes (DaemonNames, WebrootNames).
func (o *nameOwner) names() []NodeName {
	if o.daemon {
		return DaemonNames(o.tenant, o.name, o.procs)
	}
	return WebrootNames(o.tenant, o.webroot)
}

// kind and key name the owner in a message: "daemon", "acme/main/ws".
func (o *nameOwner) kind() string {
	if o.daemon {
		return "daemon"
	}
	return "webroot"
}

func (o *nameOwner) key() string {
	if o.daemon {
		return o.tenant + "/" + o.webroot + "/" + o.name
	}
	return o.tenant + "/" + o.webroot
}

// how says how an owner's names are made, for the fix.
func (o *nameOwner) how() string {
	if !o.daemon {
		return "nginx files are named {tenant}_{webroot}.conf"
	}
	return "programs are named daemon-{tenant}-{daemon}, and their processes {program}_NN when num_procs > 1"
}

// claim records owner's names and reports, at subject, one error for each
// earlier owner that took some of them, naming every name they share.
func (ix nameIndex) claim(owner *nameOwner, subject hcl.Range, names []NodeName) hcl.Diagnostics {
	var earlier []*nameOwner
	var shared map[*nameOwner][]NodeName
	for _, n := range names {
		h := ix.hash(n)
		prev := ix.owners[h]
		if prev == nil {
			ix.owners[h] = owner
			continue
		}
		if prev == owner {
			continue
		}
		if !slices.Contains(prev.names(), n) {
			// Another name with the same hash: this one is kept whole.
			if prev = ix.exact[n]; prev == nil || prev == owner {
				ix.exact[n] = owner
				continue
			}
		}
		if shared == nil {
			shared = map[*nameOwner][]NodeName{}
		}
		if shared[prev] == nil {
			earlier = append(earlier, prev)
		}
		shared[prev] = append(shared[prev], n)
	}
	var diags hcl.Diagnostics
	for _, prev := range earlier {
		names := shared[prev]
		diags = append(diags, errorAt(subject, "Conflicting "+names[0].NS.String()+" name",
			"The %s %q and the %s %q at %s would share the %s on a node, each overwriting the other's. Rename one of them (%s).",
			owner.kind(), owner.key(), prev.kind(), prev.key(), at(prev.f.rng(prev.def)), listNames(names), owner.how()))
	}
	return diags
}

// listNames writes names grouped by consecutive namespace (DaemonNames and
// WebrootNames list them so): `supervisord program "x", supervisord
// processes "x_00", "x_01" and memory cgroups ...`.
func listNames(names []NodeName) string {
	var groups []string
	for i := 0; i < len(names); {
		j := i
		for j < len(names) && names[j].NS == names[i].NS {
			j++
		}
		g := names[i].NS.String()
		if j-i > 1 {
			g += "s"
		}
		for k := i; k < j; k++ {
			if k > i {
				g += ","
			}
			g += fmt.Sprintf(" %q", names[k].Name)
		}
		groups = append(groups, g)
		i = j
	}
	if len(groups) == 1 {
		return groups[0]
	}
	return strings.Join(groups[:len(groups)-1], ", ") + " and " + groups[len(groups)-1]
}
