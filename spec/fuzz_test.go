package spec_test

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/spec"
)

// FuzzLoad loads a one-file repo, in native syntax or (json) JSON syntax. Load
// must not panic or hang, a Config must come only without errors, and every
// located diagnostic must point into that file.
func FuzzLoad(f *testing.F) {
	examples, err := filepath.Glob("../examples/config/*/*.hcl")
	if err != nil {
		f.Fatal(err)
	}
	examples = append(examples, "../examples/config/cluster.hcl")
	var all strings.Builder
	for _, name := range examples {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, false)
		all.Write(b)
	}
	f.Add([]byte(all.String()), false) // the whole example repo as one file
	base := baseRepo()
	whole := base[clusterFile] + base[shardFile]
	f.Add([]byte(whole+base[tenantFile]), false)
	for _, tc := range validateCases {
		if len(tc.files) != 1 || len(tc.drop) > 0 {
			continue
		}
		for name, src := range tc.files {
			f.Add([]byte(whole+src), false)
			f.Add([]byte(src), strings.HasSuffix(name, ".json"))
		}
	}
	f.Add([]byte(tenantJSON(`"/app"`)), true)

	f.Fuzz(func(t *testing.T, src []byte, json bool) {
		name := "config.hcl"
		if json {
			name = "config.hcl.json"
		}
		var (
			cfg   *spec.Config
			files spec.Sources
			diags hcl.Diagnostics
		)
		done := make(chan struct{})
		go func() {
			defer close(done)
			cfg, files, diags = spec.Load(map[string][]byte{name: src})
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("Load did not return within 10s")
		}
		if cfg != nil && diags.HasErrors() {
			t.Errorf("config returned with errors: %v", diags)
		}
		for _, d := range diags {
			if d.Subject != nil && d.Subject.Filename != name {
				t.Errorf("diagnostic %q points at file %q, want %q", d.Summary, d.Subject.Filename, name)
			}
		}
		// The CLI prints every diagnostic with its source snippet.
		if err := (spec.DiagnosticPrinter{Width: 80, AllWarnings: true}).Write(io.Discard, files, diags); err != nil {
			t.Errorf("WriteDiagnostics: %v", err)
		}
	})
}
