package spec_test

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/spec"
)

// benchFiles is the generated repository of gen.Default (5,000 tenants × 3
// daemons on one shard of 5 nodes), built once per process.
var benchFiles = sync.OnceValue(func() map[string][]byte { return gen.Files(gen.Default) })

// writeRepo writes files below dir.
func writeRepo(b *testing.B, dir string, files map[string][]byte) {
	b.Helper()
	for name, data := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkLoadDir is `drover validate` without the printing: read, parse
// and validate a large repository from disk (page cache warm).
func BenchmarkLoadDir(b *testing.B) {
	dir := b.TempDir()
	writeRepo(b, dir, benchFiles())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		cfg, _, diags := spec.LoadDir(dir)
		if diags.HasErrors() || cfg == nil {
			b.Fatal(diags)
		}
	}
}

// BenchmarkLoad is BenchmarkLoadDir from memory: parse and validate only.
func BenchmarkLoad(b *testing.B) {
	files := benchFiles()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, diags := spec.Load(files); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

// BenchmarkLoadLarge is BenchmarkLoadDir at the scale target (gen.Large,
// 100,002 daemons; `drover validate` there is to take under 4 s and
// 400 MB on two cores): read from disk, parse, validate. live-MB is the
// heap the loaded configuration holds.
func BenchmarkLoadLarge(b *testing.B) {
	dir := b.TempDir()
	writeRepo(b, dir, gen.Files(gen.Large))
	var cfg *spec.Config
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var diags hcl.Diagnostics
		if cfg, _, diags = spec.LoadDir(dir); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
	b.StopTimer()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	b.ReportMetric(float64(m.HeapAlloc)/(1<<20), "live-MB")
	runtime.KeepAlive(cfg)
}

// BenchmarkParseAll is the parse and decode half of BenchmarkLoad: HCL
// syntax, gohcl decoding and environment maps, in parallel over files.
func BenchmarkParseAll(b *testing.B) {
	files := benchFiles()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, diags := spec.ParseAll(files); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

// BenchmarkBuild is the other half: merging the decoded files and validating
// the whole configuration.
func BenchmarkBuild(b *testing.B) {
	parsed, diags := spec.ParseAll(benchFiles())
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, diags := spec.Build(parsed); diags.HasErrors() {
			b.Fatal(diags)
		}
	}
}

// BenchmarkValidateWarnings is `drover validate` from memory, printing
// included, on the same repository with and without a warning for each of
// its 10,049 proxied daemons (gen.NoWarnings, gen.Warnings): the two must
// cost about the same.
func BenchmarkValidateWarnings(b *testing.B) {
	for _, c := range []struct {
		name  string
		opts  gen.Options
		warns int
	}{{"none", gen.NoWarnings, 0}, {"10049", gen.Warnings, 10049}} {
		files := gen.Files(c.opts)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, hf, diags := spec.Load(files)
				if diags.HasErrors() || len(diags) != c.warns {
					b.Fatalf("%d diagnostics, want %d warnings: %v", len(diags), c.warns, diags[:min(len(diags), 3)])
				}
				if err := spec.WriteDiagnostics(io.Discard, hf, diags, 0, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
