package spec

import (
	"fmt"
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
type nameIndex map[NodeName]*nameOwner

// newNameIndex returns an index sized for the files' daemons and webroots
// (most daemons have one process: four names each).
func newNameIndex(files []*File) nameIndex {
	n := 0
	for _, f := range files {
		for _, t := range f.raw.Tenants {
			for _, w := range t.Webroots {
				n += 2 + 4*len(w.Daemons)
			}
		}
	}
	return make(nameIndex, n)
}

// nameOwner is a daemon or webroot that takes names.
type nameOwner struct {
	kind string    // "daemon" or "webroot"
	key  string    // "acme/main/ws", "acme/main"
	rng  hcl.Range // its block
}

func daemonOwner(d *Daemon) *nameOwner {
	return &nameOwner{kind: "daemon", key: d.Key(), rng: d.DefRange}
}

func webrootOwner(f *File, tenant string, rw *rawWebroot) *nameOwner {
	return &nameOwner{kind: "webroot", key: tenant + "/" + rw.Name, rng: f.rng(rw.DefRange)}
}

// how says how an owner's names are made, for the fix.
func (o *nameOwner) how() string {
	if o.kind == "webroot" {
		return "nginx files are named {tenant}_{webroot}.conf"
	}
	return "programs are named daemon-{tenant}-{daemon}, and their processes {program}_NN when num_procs > 1"
}

// claim records owner's names and reports, at subject, one error for each
// earlier owner that took some of them, naming every name they share.
func (ix nameIndex) claim(owner *nameOwner, subject hcl.Range, names []NodeName) hcl.Diagnostics {
	var earlier []*nameOwner
	shared := map[*nameOwner][]NodeName{}
	for _, n := range names {
		prev := ix[n]
		if prev == nil || prev == owner {
			ix[n] = owner
			continue
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
			owner.kind, owner.key, prev.kind, prev.key, at(prev.rng), listNames(names), owner.how()))
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
