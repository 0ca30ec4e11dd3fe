package netplan

import (
	"fmt"
	"strings"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// repo builds a config from HCL snippets, failing the test on any error.
func repo(t testing.TB, files map[string]string) *spec.Config {
	t.Helper()
	srcs := map[string][]byte{}
	for n, s := range files {
		srcs[n] = []byte(s)
	}
	cfg, _, diags := spec.Load(srcs)
	if diags.HasErrors() {
		t.Fatalf("config invalid: %v", diags)
	}
	return cfg
}

// synthetic builds a valid config in memory without HCL: one shard with the
// given nodes, and n daemons spread over tenants of 10 daemons each.
func synthetic(nodes []*spec.Node, n int) *spec.Config {
	cfg := &spec.Config{Cluster: &spec.Cluster{Name: "osl-1", MaxDaemonsPerWebroot: 10}}
	shard := &spec.Shard{Name: "web", Nodes: nodes}
	for _, nd := range nodes {
		nd.Shard = "web"
	}
	cfg.Shards = []*spec.Shard{shard}
	for i := 0; i < n; i++ {
		tn := fmt.Sprintf("t%04d", i/10)
		if len(cfg.Tenants) == 0 || cfg.Tenants[len(cfg.Tenants)-1].Name != tn {
			cfg.Tenants = append(cfg.Tenants, &spec.Tenant{Name: tn, UID: uint32(10000 + i/10), Shard: "web",
				Webroots: []*spec.Webroot{{Tenant: tn, Name: "main"}}})
		}
		w := cfg.Tenants[len(cfg.Tenants)-1].Webroots[0]
		w.Daemons = append(w.Daemons, &spec.Daemon{Tenant: tn, Webroot: "main", Name: fmt.Sprintf("d%d", i%10),
			Command: "x", NumProcs: 1, StopSignal: "TERM", StopWaitSecs: 30, Enabled: true})
	}
	return cfg
}

func nodes(names ...string) []*spec.Node {
	var out []*spec.Node
	for i, n := range names {
		out = append(out, &spec.Node{Name: n, Index: i + 1, Weight: 1})
	}
	return out
}

func placementOf(t testing.TB, cfg *spec.Config) map[string]string {
	t.Helper()
	c, err := Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range c.Daemons {
		out[d.Key] = d.Node.Name
	}
	return out
}

const baseCluster = `
cluster "osl-1" {}
shard "web-1" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
  node "web-1c" { index = 3 }
}
`

func tenantHCL(name string, uid int, daemons ...string) string {
	return fmt.Sprintf("tenant %q {\n  uid = %d\n  shard = \"web-1\"\n  webroot \"w\" {\n%s\n  }\n}\n", name, uid, strings.Join(daemons, "\n"))
}

func nodesOf(ns ...*spec.Node) []*spec.Node { return ns }
