package main

import (
	"fmt"

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
	cfg, files, diags := spec.LoadDir(dir)
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
