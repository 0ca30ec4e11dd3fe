package main

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// heavyPackages are initialised by every other command and cost most of a
// drover start: drover exec, which supervisord runs for every daemon start,
// must be done (have exec'd or failed) before any of them.
var heavyPackages = []string{
	"github.com/drover-sh/drover/spec",
	"github.com/drover-sh/drover/agent/config",
	"github.com/zclconf/go-cty/cty",
	"github.com/google/go-cmp/cmp",
	"github.com/prometheus/client_golang/prometheus",
	"github.com/prometheus/procfs",
	"go.etcd.io/bbolt",
	"golang.org/x/crypto/ssh",
	"github.com/go-git/go-git/v5/internal/url",
	"github.com/spf13/cobra", // the command line: drover exec SPEC is not parsed by it
}

// TestExecStartsBeforeTheRest: `drover exec SPEC` runs from
// internal/execfirst's init, before Go initialises HCL, cty, go-git,
// prometheus, bbolt or any drover package but the few it needs (Go's
// GODEBUG=inittrace=1 prints each package it initialises); every other
// command does initialise them all, so the list is not stale.
func TestExecStartsBeforeTheRest(t *testing.T) {
	spec := filepath.Join(t.TempDir(), "missing.json")
	inits := func(args ...string) []string {
		cmd := exec.Command(droverBinary(t), args...)
		cmd.Env = []string{"GODEBUG=inittrace=1"}
		out, _ := cmd.CombinedOutput()
		if args[0] == "exec" && !strings.Contains(string(out), "drover exec: open "+spec) {
			t.Fatalf("drover exec did not fail on the missing spec:\n%s", out)
		}
		var pkgs []string
		for _, m := range regexp.MustCompile(`(?m)^init (\S+) @`).FindAllStringSubmatch(string(out), -1) {
			pkgs = append(pkgs, m[1])
		}
		return pkgs
	}
	before := inits("exec", spec)
	for _, p := range before {
		if rest, ok := strings.CutPrefix(p, "github.com/drover-sh/drover/"); ok && !slices.Contains([]string{"agent/launch", "execspec", "internal/regular"}, rest) {
			t.Errorf("drover exec started after drover's package %s was initialised", p)
		}
		if slices.Contains(heavyPackages, p) {
			t.Errorf("drover exec started after %s was initialised", p)
		}
	}
	all := inits("version")
	for _, p := range heavyPackages {
		if !slices.Contains(all, p) {
			t.Errorf("drover version does not initialise %s: heavyPackages is stale", p)
		}
	}
}
