package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// TestGeneratedRepoIsValid writes a small repository through the CLI and
// loads it back: no diagnostics at all, not even warnings, and every
// tenant, node and daemon is there.
func TestGeneratedRepoIsValid(t *testing.T) {
	for _, o := range []gen.Options{
		{Tenants: 300, DaemonsPerTenant: 3, Nodes: 5, Shards: 1, Seed: 1},
		{Tenants: 200, DaemonsPerTenant: 12, Nodes: 30, Shards: 3, Seed: 7},
		{Tenants: 50, DaemonsPerTenant: 1, Nodes: 1, Shards: 1, Seed: -3},
	} {
		dir := filepath.Join(t.TempDir(), "repo")
		var stdout, stderr bytes.Buffer
		args := []string{"-out", dir, "-tenants", itoa(o.Tenants), "-daemons", itoa(o.DaemonsPerTenant),
			"-nodes", itoa(o.Nodes), "-shards", itoa(o.Shards), "-seed", itoa(int(o.Seed))}
		if code := run(args, &stdout, &stderr); code != 0 {
			t.Fatalf("repogen %s: exit %d: %s", strings.Join(args, " "), code, stderr.String())
		}
		cfg, files, diags := spec.LoadDir(dir)
		if len(diags) > 0 {
			var b strings.Builder
			spec.WriteDiagnostics(&b, files, diags, 0, false)
			t.Fatalf("%+v: %d diagnostics (%d errors):\n%s", o, len(diags), countErrors(diags), b.String())
		}
		nodes, daemons := 0, 0
		for _, s := range cfg.Shards {
			nodes += len(s.Nodes)
		}
		for _, tn := range cfg.Tenants {
			for _, w := range tn.Webroots {
				daemons += len(w.Daemons)
			}
		}
		if len(cfg.Shards) != o.Shards || nodes != o.Nodes || len(cfg.Tenants) != o.Tenants || daemons != o.Tenants*o.DaemonsPerTenant {
			t.Errorf("%+v: got %d shards, %d nodes, %d tenants, %d daemons", o, len(cfg.Shards), nodes, len(cfg.Tenants), daemons)
		}
		if _, err := netplan.Compute(cfg); err != nil {
			t.Errorf("%+v: netplan.Compute: %v", o, err)
		}
	}
}

func TestRefusesNonEmptyDir(t *testing.T) {
	dir := t.TempDir()
	o := gen.Options{Tenants: 2, DaemonsPerTenant: 1, Nodes: 1, Shards: 1}
	if err := gen.Generate(dir, o); err != nil {
		t.Fatal(err)
	}
	if err := gen.Generate(dir, o); err == nil {
		t.Fatal("second Generate into the same directory succeeded")
	}
	var stderr bytes.Buffer
	if code := run([]string{"-tenants", "1"}, &stderr, &stderr); code != 2 {
		t.Errorf("without -out: exit %d, want 2", code)
	}
}

func countErrors(diags hcl.Diagnostics) int {
	n := 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return n
}

func itoa(i int) string { return strconv.Itoa(i) }
