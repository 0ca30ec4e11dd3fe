package render_test

import (
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
	"github.com/drover-sh/drover/spec"
)

// BenchmarkRenderNode renders one node of gen.Default (5,000 tenants × 3
// daemons on one shard of 5 nodes) with the default agent configuration.
func BenchmarkRenderNode(b *testing.B) {
	cfg, _, diags := spec.Load(gen.Files(gen.Default))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	c, err := netplan.Compute(cfg)
	if err != nil {
		b.Fatal(err)
	}
	p, err := c.Node(gen.ShardNodes(gen.Default, 0)[0])
	if err != nil {
		b.Fatal(err)
	}
	o := config.Default().RenderOptions()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if files := render.Node(p, o); len(files) == 0 {
			b.Fatal("no files")
		}
	}
}
