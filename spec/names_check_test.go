package spec

import (
	"fmt"
	"testing"
)

// TestNameIndexConfirmsHashes: the index keeps names by hash and confirms a
// match with the owner's names. With every name hashing alike, it reports
// exactly what it reports with a real hash: conflicts, and no false ones.
func TestNameIndexConfirmsHashes(t *testing.T) {
	f := &File{Name: "tenants/a.hcl"}
	daemon := func(tenant, name string, procs int) (*nameOwner, []NodeName) {
		d := &Daemon{Tenant: tenant, Webroot: "main", Name: name}
		return daemonOwner(f, d, procs, span{start: spanPos{line: 1}}), DaemonNames(tenant, name, procs)
	}
	claims := func(ix nameIndex) []string {
		var out []string
		for _, c := range []struct {
			tenant, name string
			procs        int
		}{
			{"acme", "ws", 1}, {"acme", "worker", 2}, {"acme-ws", "x", 1}, // no conflict
			{"acme", "ws", 1},     // the same names as the first
			{"acme", "worker", 1}, // shares program, cgroup... with the second
			{"acme-ws", "y", 1}, {"beta", "ws", 3},
		} {
			o, names := daemon(c.tenant, c.name, c.procs)
			for _, d := range ix.claim(o, f.rng(o.def), names) {
				out = append(out, d.Detail)
			}
		}
		return out
	}
	real := claims(newNameIndex(nil))
	ix := newNameIndex(nil)
	ix.hash = func(NodeName) uint64 { return 7 }
	collide := claims(ix)
	if len(real) != 2 || fmt.Sprint(real) != fmt.Sprint(collide) {
		t.Errorf("with a real hash:\n%q\nwith one hash for all:\n%q", real, collide)
	}
}
