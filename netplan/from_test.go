package netplan

import (
	"fmt"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// TestComputeFromReusesOnlyUnchangedTenants: ComputeFrom reuses the
// placement of a tenant whose model object a Loader reused, computes the
// rest, and gives what Compute gives; a changed node list reuses nothing.
func TestComputeFromReusesOnlyUnchangedTenants(t *testing.T) {
	files := map[string]string{
		"cluster.hcl": `cluster "osl-1" {}`,
		"shard.hcl":   "shard \"web\" {\n node \"a\" { index = 1 }\n node \"b\" { index = 2 }\n node \"c\" { index = 3 }\n}\n",
	}
	tenant := func(name string, uid int, cmd string) string {
		return fmt.Sprintf("tenant %q {\n uid = %d\n shard = \"web\"\n webroot \"main\" {\n  daemon \"ws\" {\n   command = %q\n   proxy_path = \"/ws\"\n  }\n  daemon \"q\" { command = \"q\" }\n }\n}\n", name, uid, cmd)
	}
	for i := range 6 {
		files[fmt.Sprintf("t%d.hcl", i)] = tenant(fmt.Sprintf("t%d", i), 20000+i, "run")
	}
	l := spec.NewLoader()
	load := func() *spec.Config {
		t.Helper()
		srcs := map[string]spec.Entry{}
		for n, s := range files {
			e := spec.Bytes([]byte(s))
			e.Hash = fmt.Sprintf("%x", s)
			srcs[n] = e
		}
		cfg, _, diags, err := l.Load(srcs)
		if err != nil || diags.HasErrors() {
			t.Fatal(err, diags)
		}
		return cfg
	}
	prev, err := Compute(load())
	if err != nil {
		t.Fatal(err)
	}
	check := func(step string, cfg *spec.Config, reused int) *Cluster {
		t.Helper()
		got, err := ComputeFrom(prev, cfg)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := Compute(cfg)
		if fmt.Sprint(placements(got)) != fmt.Sprint(placements(want)) {
			t.Errorf("%s: placed\n%v\nwant\n%v", step, placements(got), placements(want))
		}
		for _, nd := range cfg.Shards[0].Nodes {
			gp, _ := got.Node(nd.Name)
			wp, _ := want.Node(nd.Name)
			n := nd.Name
			if fmt.Sprint(nodeText(gp)) != fmt.Sprint(nodeText(wp)) {
				t.Errorf("%s: node %s\n%v\nwant\n%v", step, n, nodeText(gp), nodeText(wp))
			}
		}
		same := 0
		for _, d := range got.Daemons {
			if prev.Daemon(d.Key) == d {
				same++
			}
		}
		if same != reused {
			t.Errorf("%s: %d daemons reused, want %d", step, same, reused)
		}
		return got
	}
	files["t2.hcl"] = tenant("t2", 20002, "run --fast")
	prev = check("one tenant changed", load(), 10)
	files["t9.hcl"] = tenant("t9", 20009, "new")
	prev = check("a tenant added", load(), 12)
	files["shard.hcl"] = "shard \"web\" {\n node \"a\" { index = 1 }\n node \"b\" { index = 2 }\n}\n"
	prev = check("a node removed", load(), 0)
	check("nothing changed", load(), 14)
}

// placements lists each daemon's node, port and host.
func placements(c *Cluster) []string {
	var out []string
	for _, d := range c.Daemons {
		out = append(out, fmt.Sprintf("%s@%s:%d[%s]", d.Key, d.Node.Name, d.Port, d.Host))
	}
	return out
}

// nodeText lists what a node plan holds.
func nodeText(p *NodePlan) []string {
	out := []string{p.Node.Name, p.Transit.String()}
	for _, a := range p.Addresses {
		out = append(out, a.Tenant+"="+a.Addr.String())
	}
	for _, d := range p.Programs {
		out = append(out, "prog "+d.Program)
	}
	for _, w := range p.Webroots {
		s := "web " + w.Tenant.Name + "/" + w.Webroot.Name
		for _, d := range w.Locations {
			s += " " + d.ProxyPath + "->" + d.Node.Name
		}
		out = append(out, s)
	}
	return out
}
