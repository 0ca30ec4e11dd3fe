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
