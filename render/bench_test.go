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
func BenchmarkRenderNode(b *testing.B) { benchRenderNode(b, gen.Default) }

// BenchmarkRenderNodeLarge renders one node of gen.Large (100,002 daemons
// on one shard of 10 nodes: the node carries some 10,000 programs and the
// nginx files of all 43,000 webroots).
func BenchmarkRenderNodeLarge(b *testing.B) { benchRenderNode(b, gen.Large) }

func benchRenderNode(b *testing.B, opts gen.Options) {
	cfg, _, diags := spec.Load(gen.Files(opts))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	c, err := netplan.Compute(cfg)
	if err != nil {
		b.Fatal(err)
	}
	p, err := c.Node(gen.ShardNodes(opts, 0)[0])
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
