package netplan_test

import (
	"sync"
	"testing"

	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// benchConfig is the validated config of gen.Default (5,000 tenants × 3
// daemons on one shard of 5 nodes), built once per process.
var benchConfig = sync.OnceValues(func() (*spec.Config, error) {
	cfg, _, diags := spec.Load(gen.Files(gen.Default))
	if diags.HasErrors() {
		return nil, diags
	}
	return cfg, nil
})

func BenchmarkCompute(b *testing.B) {
	cfg, err := benchConfig()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := netplan.Compute(cfg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNodePlan(b *testing.B) {
	cfg, err := benchConfig()
	if err != nil {
		b.Fatal(err)
	}
	c, err := netplan.Compute(cfg)
	if err != nil {
		b.Fatal(err)
	}
	node := gen.ShardNodes(gen.Default, 0)[0]
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Node(node); err != nil {
			b.Fatal(err)
		}
	}
}

// failoverLarge is gen.Large spread over one shard of 50 nodes: 100,002
// daemons, some 2,000 per node.
var failoverLarge = gen.Options{Tenants: 33334, DaemonsPerTenant: 3, Nodes: 50, Shards: 1, Seed: 1}

// outNode is an Outage with one node out for every daemon.
type outNode string

func (o outNode) Out(node string, _ *spec.Daemon) bool { return node == string(o) }

// BenchmarkFailoverLarge is what a node does when a membership change puts
// another node of its shard out: the effective placement from the decoded
// model (failoverLarge, computed once) and its own plan from it.
func BenchmarkFailoverLarge(b *testing.B) {
	cfg, _, diags := spec.Load(gen.Files(failoverLarge))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	c, err := netplan.Compute(cfg)
	if err != nil {
		b.Fatal(err)
	}
	names := gen.ShardNodes(failoverLarge, 0)
	self, out := names[0], outNode(names[len(names)-1])
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		f := c.Failover(out)
		if f == c {
			b.Fatal("nothing moved")
		}
		if _, err := f.Node(self); err != nil {
			b.Fatal(err)
		}
	}
}
