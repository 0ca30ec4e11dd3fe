package netplan

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// outNodes is an Outage that puts the named nodes out for every daemon.
type outNodes map[string]bool

func (o outNodes) Out(node string, _ *spec.Daemon) bool { return o[node] }

// outFunc is an Outage answering per daemon.
type outFunc func(node string, d *spec.Daemon) bool

func (o outFunc) Out(node string, d *spec.Daemon) bool { return o(node, d) }

// without is the shard's nodes but the named ones, as a new slice.
func without(nodes []*spec.Node, out ...string) []*spec.Node {
	return slices.DeleteFunc(slices.Clone(nodes), func(n *spec.Node) bool { return slices.Contains(out, n.Name) })
}

// TestFailoverMovesOnlyTheOutNodesDaemons: with n3 out, every daemon of n3
// goes where rendezvous over the other nodes puts it (with the tenant's
// address there, its port kept), which is also where draining n3 would put
// it; every other daemon stays, the same object as in c; c is unchanged.
func TestFailoverMovesOnlyTheOutNodesDaemons(t *testing.T) {
	cfg := synthetic(nodes("n1", "n2", "n3", "n4"), propertyDaemons)
	for _, d := range cfg.Tenants[0].Webroots[0].Daemons[:5] {
		d.ProxyPath = "/" + d.Name // ports too
	}
	c, err := Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	before := placements(c)
	f := c.Failover(outNodes{"n3": true})
	drained := synthetic(nodes("n1", "n2", "n3", "n4"), propertyDaemons)
	drained.Shards[0].Nodes[2].Drain = true
	asDrained := placementOf(t, drained)
	shard := cfg.Shards[0]
	moved := 0
	for _, cd := range c.Daemons {
		d := f.Daemon(cd.Key)
		if cd.Node.Name != "n3" {
			if d != cd {
				t.Errorf("%s on %s: not the configured daemon (%s, %s)", cd.Key, cd.Node.Name, d.Node.Name, d.NodeReason)
			}
			continue
		}
		moved++
		want := Rendezvous(without(shard.Nodes, "n3"), cd.Key)
		switch {
		case d.Node != want || d.Node.Name != asDrained[cd.Key]:
			t.Errorf("%s moved to %s, want %s (as drained: %s)", cd.Key, d.Node.Name, want.Name, asDrained[cd.Key])
		case d.NodeReason != NodeFailover || d.From != cd.Node:
			t.Errorf("%s: reason %s from %v, want failover from n3", cd.Key, d.NodeReason, d.From)
		case d.Host != TenantAddr(c.Prefix, d.Node.Index, cd.UID) || d.Port != cd.Port || d.PortReason != cd.PortReason:
			t.Errorf("%s: %s port %d, want the tenant's address on %s, port %d", cd.Key, d.Host, d.Port, d.Node.Name, cd.Port)
		}
	}
	if moved == 0 || len(f.Daemons) != len(c.Daemons) {
		t.Fatalf("%d daemons moved, %d of %d placed: the test tests nothing", moved, len(f.Daemons), len(c.Daemons))
	}
	for i, d := range f.Daemons {
		if f.Daemon(d.Key) != d || i > 0 && f.Daemons[i-1].Key >= d.Key {
			t.Fatalf("Daemons and Daemon(key) disagree, or Daemons unsorted, at %s", d.Key)
		}
	}
	if after := placements(c); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Error("Failover changed c")
	}
	checkNodePlans(t, f)
	checkNodePlans(t, c)
}

// TestFailoverPerDaemon: an Outage that puts n3 out only for singletons
// (a singleton waits longer before moving, and an available daemon may
// already have) moves n3's singletons and nothing else.
func TestFailoverPerDaemon(t *testing.T) {
	cfg := synthetic(nodes("n1", "n2", "n3"), propertyDaemons)
	for _, tn := range cfg.Tenants {
		for _, d := range tn.Webroots[0].Daemons {
			d.Singleton = d.Name == "d0" || d.Name == "d1"
		}
	}
	c, err := Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := c.Failover(outFunc(func(node string, d *spec.Daemon) bool { return node == "n3" && d.Singleton }))
	singles := 0
	for _, cd := range c.Daemons {
		d := f.Daemon(cd.Key)
		switch {
		case cd.Node.Name == "n3" && cd.Singleton:
			singles++
			if d.Node.Name == "n3" || d.NodeReason != NodeFailover {
				t.Errorf("singleton %s stayed on n3", cd.Key)
			}
		case d != cd:
			t.Errorf("%s (singleton %v) moved from %s to %s", cd.Key, cd.Singleton, cd.Node.Name, d.Node.Name)
		}
	}
	if singles == 0 {
		t.Fatal("no singleton on n3: the test tests nothing")
	}
	checkNodePlans(t, f)
}

// TestFailoverPins: a daemon pinned to an out node moves like any other;
// one pinned elsewhere stays pinned. With every node but one out, all go
// to that one; with every node out, each stays where it is configured.
func TestFailoverPins(t *testing.T) {
	cfg := repo(t, map[string]string{"c.hcl": baseCluster, "t.hcl": tenantHCL("acme", 10042,
		proxied("onc", `node = "web-1c"`), proxied("ona", `node = "web-1a"`), `daemon "q" { command = "x" }`)})
	c, err := Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := c.Failover(outNodes{"web-1c": true})
	onc, ona := f.Daemon("acme/w/onc"), f.Daemon("acme/w/ona")
	if want := Rendezvous(without(cfg.Shards[0].Nodes, "web-1c"), "acme/w/onc"); onc.Node != want || onc.NodeReason != NodeFailover || onc.From.Name != "web-1c" {
		t.Errorf("pinned to the out node: on %s (%s, from %v), want %s by failover", onc.Node.Name, onc.NodeReason, onc.From, want.Name)
	}
	if ona != c.Daemon("acme/w/ona") || ona.NodeReason != NodePinned {
		t.Errorf("pinned to a live node: on %s (%s)", ona.Node.Name, ona.NodeReason)
	}
	checkNodePlans(t, f)

	f = c.Failover(outNodes{"web-1a": true, "web-1c": true})
	for _, d := range f.Daemons {
		if d.Node.Name != "web-1b" {
			t.Errorf("two of three out: %s on %s, want web-1b", d.Key, d.Node.Name)
		}
	}
	checkNodePlans(t, f)

	if f := c.Failover(outNodes{"web-1a": true, "web-1b": true, "web-1c": true}); f != c {
		t.Errorf("every node out: placement %v, want the configured one, c itself", placements(f))
	}
}

// TestFailoverSharesUntouchedTenants: nothing out gives c itself; with a
// move, the webroot plans of tenants without a moved daemon are c's, those
// with one are new and proxy to the new node; failing over a failover
// starts from the configured placement, and ComputeFrom a failover reuses
// the configured placement, never a failover.
func TestFailoverSharesUntouchedTenants(t *testing.T) {
	cfg := repo(t, map[string]string{"c.hcl": baseCluster,
		"a.hcl": tenantHCL("acme", 10042, proxied("ws", `node = "web-1c"`)),
		"b.hcl": tenantHCL("bravo", 10043, proxied("ws", `node = "web-1a"`))})
	c, err := Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if f := c.Failover(outNodes{}); f != c {
		t.Error("nothing out: Failover did not return c")
	}
	f := c.Failover(outNodes{"web-1c": true})
	cp, _ := c.Node("web-1b")
	fp, _ := f.Node("web-1b")
	if len(cp.Webroots) != 2 || len(fp.Webroots) != 2 {
		t.Fatalf("webroots: %d and %d, want 2", len(cp.Webroots), len(fp.Webroots))
	}
	acme, bravo := fp.Webroots[0], fp.Webroots[1]
	if bravo != cp.Webroots[1] {
		t.Error("bravo has no moved daemon but a new webroot plan")
	}
	ws := f.Daemon("acme/w/ws")
	if acme == cp.Webroots[0] || acme.Locations[0] != ws || ws.Node.Name == "web-1c" {
		t.Errorf("acme's location proxies to %s on %s, want its moved daemon", acme.Locations[0].Host, acme.Locations[0].Node.Name)
	}
	if g := f.Failover(outNodes{"web-1a": true}); g.Daemon("acme/w/ws") != c.Daemon("acme/w/ws") || g.Daemon("bravo/w/ws").From.Name != "web-1a" {
		t.Error("a failover of a failover did not start from the configured placement")
	}
	if f.Failover(outNodes{}) != c {
		t.Error("a failover with nothing out is not the configured placement")
	}
	again, err := ComputeFrom(f, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(placements(again)) != fmt.Sprint(placements(c)) {
		t.Errorf("ComputeFrom a failover placed\n%v\nwant\n%v", placements(again), placements(c))
	}
}

// checkNodePlans checks that every node's plan agrees with c's daemons:
// its programs are the daemons placed on it, sorted, and every webroot's
// locations proxy to where their daemons run.
func checkNodePlans(t *testing.T, c *Cluster) {
	t.Helper()
	on := map[string][]string{}
	for _, d := range c.Daemons {
		on[d.Node.Name] = append(on[d.Node.Name], d.Program)
	}
	for _, s := range c.Config.Shards {
		for _, n := range s.Nodes {
			p, err := c.Node(n.Name)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, d := range p.Programs {
				got = append(got, d.Program)
			}
			want := on[n.Name]
			sort.Strings(want)
			if !slices.IsSorted(got) || !slices.Equal(got, want) {
				t.Errorf("node %s: programs %v, want %v", n.Name, got, want)
			}
			for _, w := range p.Webroots {
				for _, l := range w.Locations {
					if d := c.Daemon(l.Key); l != d || l.Host != TenantAddr(c.Prefix, d.Node.Index, d.UID) {
						t.Errorf("node %s: %s proxied to %s on %s, the daemon runs on %s", n.Name, l.Key, l.Host, l.Node.Name, d.Node.Name)
					}
				}
			}
		}
	}
}
