package review_test

import (
	"bytes"
	"io"
	"maps"
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/review"
	"github.com/drover-sh/drover/spec"
)

// benchPlan measures what `drover plan` does after reading Git: load both
// revisions (sharing decoded files), compute the plan, print it as text.
func benchPlan(b *testing.B, edit func(map[string][]byte), wantMoves int) {
	benchPlanOf(b, gen.Default, edit, wantMoves)
}

// benchPlanOf is benchPlan on the repository of opts.
func benchPlanOf(b *testing.B, opts gen.Options, edit func(map[string][]byte), wantMoves int) {
	base := gen.Files(opts)
	head := make(map[string][]byte, len(base))
	for k, v := range base {
		head[k] = v
	}
	edit(head)
	bs, hs := sources(base), sources(head)
	o := review.Options{Render: config.Default().RenderOptions()}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		l := spec.NewLoader()
		bc, _, bd, err := l.Load(bs)
		if err != nil || bd.HasErrors() {
			b.Fatal(err, bd)
		}
		hc, _, hd, err := l.Load(hs)
		if err != nil || hd.HasErrors() {
			b.Fatal(err, hd)
		}
		p, err := review.Compute(bc, hc, o)
		if err != nil {
			b.Fatal(err)
		}
		if len(p.Moves) < wantMoves || !p.Changed() {
			b.Fatalf("%d moves, want at least %d", len(p.Moves), wantMoves)
		}
		if err := review.WriteText(io.Discard, &review.Report{Plan: p}, false); err != nil {
			b.Fatal(err)
		}
	}
}

func sources(files map[string][]byte) map[string]spec.Entry {
	out := make(map[string]spec.Entry, len(files))
	for name, data := range files {
		s := spec.Bytes(data)
		s.Hash = hashOf(data)
		out[name] = s
	}
	return out
}

// BenchmarkPlanOneDaemon: gen.Default (15,000 daemons on 5 nodes), one
// daemon's environment value changed.
func BenchmarkPlanOneDaemon(b *testing.B) {
	benchPlan(b, func(files map[string][]byte) {
		name := "tenants/" + gen.TenantName(42) + ".hcl"
		files[name] = bytes.Replace(files[name], []byte(`TZ        = "UTC"`), []byte(`TZ        = "Europe/Oslo"`), 1)
	}, 0)
}

// BenchmarkPlanOneDaemonLarge is BenchmarkPlanOneDaemon at the scale
// target (gen.Large, 100,002 daemons on 10 nodes; drover plan there is to
// take under 4 s on two cores, of which this is all but reading Git).
func BenchmarkPlanOneDaemonLarge(b *testing.B) {
	benchPlanOf(b, gen.Large, func(files map[string][]byte) {
		name := "tenants/" + gen.TenantName(42) + ".hcl"
		files[name] = bytes.Replace(files[name], []byte(`TZ        = "UTC"`), []byte(`TZ        = "Europe/Oslo"`), 1)
	}, 0)
}

// BenchmarkPlanDrain: gen.Default with one of its five nodes drained, so
// about 3,000 daemons move.
func BenchmarkPlanDrain(b *testing.B) {
	benchPlan(b, func(files map[string][]byte) {
		files["shards/web-1.hcl"] = bytes.Replace(files["shards/web-1.hcl"],
			[]byte(`node "web-1a" { index = 1 }`), []byte(`node "web-1a" {
    index = 1
    drain = true
  }`), 1)
	}, 2500)
}

// BenchmarkPlanWarnings is benchPlan's work (one daemon's environment
// changed) on the same repository with and without a warning for each of
// its 10,049 proxied daemons (gen.NoWarnings, gen.Warnings), the head's
// diagnostics rendered as drover plan prints them: the two must cost about
// the same.
func BenchmarkPlanWarnings(b *testing.B) {
	for _, c := range []struct {
		name  string
		opts  gen.Options
		warns int
	}{{"none", gen.NoWarnings, 0}, {"10049", gen.Warnings, 10049}} {
		base := gen.Files(c.opts)
		head := maps.Clone(base)
		name := "tenants/" + gen.TenantName(42) + ".hcl"
		head[name] = append(bytes.Clone(head[name]), "# changed\n"...)
		bs, hs := sources(base), sources(head)
		o := review.Options{Render: config.Default().RenderOptions()}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				l := spec.NewLoader()
				bc, _, _, err := l.Load(bs)
				if err != nil {
					b.Fatal(err)
				}
				hc, files, hd, err := l.Load(hs)
				if err != nil || len(hd) != c.warns || hd.HasErrors() {
					b.Fatalf("%v: %d diagnostics, want %d warnings", err, len(hd), c.warns)
				}
				p, err := review.Compute(bc, hc, o)
				if err != nil {
					b.Fatal(err)
				}
				r := &review.Report{Plan: p}
				r.Diagnostics, r.DiagnosticText = review.Diagnostics(files, hd, spec.DiagnosticPrinter{})
				if err := review.WriteText(io.Discard, r, false); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
