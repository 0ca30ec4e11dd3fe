package reconcile

import (
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/netplan"
)

// BenchmarkPassWarnings is the part of an agent pass over a new revision
// that sees its diagnostics: load it into an empty spec cache (the agent
// prints the diagnostics of an invalid revision only), place every daemon
// and plan this node, on the same repository with and without a
// warning for each of its 10,049 proxied daemons (gen.NoWarnings,
// gen.Warnings). The two must cost about the same.
func BenchmarkPassWarnings(b *testing.B) {
	for _, c := range []struct {
		name  string
		opts  gen.Options
		warns int
	}{{"none", gen.NoWarnings, 0}, {"10049", gen.Warnings, 10049}} {
		blobs := map[string]source.Blob{}
		for name, data := range gen.Files(c.opts) {
			blobs[name] = source.Blob{
				Hash: plumbing.ComputeHash(plumbing.BlobObject, data).String(),
				Read: func() ([]byte, error) { return data, nil },
			}
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				cfg, _, diags, err := newSpecCache(0).Load(blobs)
				if err != nil || cfg == nil || len(diags) != c.warns {
					b.Fatalf("%v: %d diagnostics, want %d warnings", err, len(diags), c.warns)
				}
				cluster, err := netplan.Compute(cfg)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := cluster.Node("web-1a"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
