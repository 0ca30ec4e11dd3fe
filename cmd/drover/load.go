package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// loadConfig loads and validates the config repository in dir, printing
// diagnostics (warnings too) to stderr. It returns nil when invalid.
func loadConfig(env *cmdEnv, dir string) *spec.Config {
	return loadConfigWith(env, dir, summarised)
}

// loadConfigWith is loadConfig printing diagnostics with p.
func loadConfigWith(env *cmdEnv, dir string, p spec.DiagnosticPrinter) *spec.Config {
	l, err := newLoader()
	if err != nil {
		fmt.Fprintf(env.stderr, "drover: %v\n", err)
		return nil
	}
	cfg, files, diags := l.LoadDir(dir)
	printDiagnosticsWith(env, p, files, diags)
	if diags.HasErrors() {
		return nil
	}
	return cfg
}

// loadPlan loads dir and places every daemon.
func loadPlan(env *cmdEnv, dir string) *netplan.Cluster {
	cfg := loadConfig(env, dir)
	if cfg == nil {
		return nil
	}
	// Decoding a large repository leaves a heap twice the size of what it
	// keeps (the configuration); collecting now lets placement and
	// rendering start from what is kept, instead of growing the process
	// to the decoder's high-water mark again (render of 100k daemons: 418 → 381 MB).
	runtime.GC()
	c, err := netplan.Compute(cfg)
	if err != nil {
		fmt.Fprintf(env.stderr, "drover: %v\n", err)
		return nil
	}
	return c
}

// summarised prints the first few warnings of each kind and counts the
// rest, in commands without --all-warnings.
var summarised = spec.DiagnosticPrinter{MoreHint: "; run drover validate --all-warnings to see them"}

// allWarningsHint ends the line counting left-out warnings in commands with
// --all-warnings.
const allWarningsHint = "; use --all-warnings to see them"

// printDiagnostics prints diagnostics to stderr, warnings summarised, and
// counts them.
func printDiagnostics(env *cmdEnv, files spec.Sources, diags hcl.Diagnostics) {
	printDiagnosticsWith(env, summarised, files, diags)
}

// printDiagnosticsWith prints diagnostics to stderr with p (in colour on a
// terminal) and counts them, every one, printed in full or not.
func printDiagnosticsWith(env *cmdEnv, p spec.DiagnosticPrinter, files spec.Sources, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	p.Color = isTerminal(env.stderr)
	if err := p.Write(env.stderr, files, diags); err != nil {
		fmt.Fprintf(env.stderr, "drover: printing diagnostics: %v\n", err)
	}
	errs, warns := 0, 0
	for _, d := range diags {
		if d.Severity == hcl.DiagError {
			errs++
		} else {
			warns++
		}
	}
	fmt.Fprintf(env.stderr, "%s, %s\n", english.Count(errs, "error"), english.Count(warns, "warning"))
}

// maxConfigEnv sets the bound on a repository's config files, in MiB, for
// every command that reads one (spec.Loader.MaxBytes): CI and the nodes'
// agents (source.max_config_mb) must use the same.
const maxConfigEnv = "DROVER_MAX_CONFIG_MB"

// newLoader is the Loader of a command: spec.NewLoader with the bound of
// DROVER_MAX_CONFIG_MB.
func newLoader() (*spec.Loader, error) {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(collectorPercent)
	}
	max, err := maxConfigBytes()
	if err != nil {
		return nil, err
	}
	l := spec.NewLoader()
	l.MaxBytes = max
	return l, nil
}

// collectorPercent is the garbage collector's growth target (GOGC) of a
// command that decodes a repository, which holds the decoded repository
// and little else: at 75 instead of Go's 100 the peak memory of validate
// and render at 100,000 daemons falls from ~400 to ~345 MB for ~5 % more
// CPU. GOGC in the environment still decides.
const collectorPercent = 75

// maxConfigBytes is the bound DROVER_MAX_CONFIG_MB sets, in bytes; 0 when
// it is not set (spec.DefaultMaxRepoBytes).
func maxConfigBytes() (int, error) {
	v := os.Getenv(maxConfigEnv)
	if v == "" {
		return 0, nil
	}
	mb, err := strconv.Atoi(v)
	if err != nil || mb < 1 || mb > spec.MaxMaxRepoBytes>>20 {
		return 0, fmt.Errorf("%s=%q: want a whole number of MiB from 1 to %d (default %d)", maxConfigEnv, v, spec.MaxMaxRepoBytes>>20, spec.DefaultMaxRepoBytes>>20)
	}
	return mb << 20, nil
}
