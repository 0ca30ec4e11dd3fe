package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// loadConfig loads and validates the config repository in dir, printing
// diagnostics (warnings too) to stderr. It returns nil when invalid.
func loadConfig(env *cmdEnv, dir string) *spec.Config {
	cfg, files, diags := spec.LoadDir(dir)
	printDiagnostics(env, files, diags)
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

func printDiagnostics(env *cmdEnv, files map[string]*hcl.File, diags hcl.Diagnostics) {
	if len(diags) == 0 {
		return
	}
	color := false
	if f, ok := env.stderr.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 && os.Getenv("NO_COLOR") == "" {
			color = true
		}
	}
	if err := spec.WriteDiagnostics(env.stderr, files, diags, 0, color); err != nil {
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
	fmt.Fprintf(env.stderr, "%s, %s\n", plural(errs, "error"), plural(warns, "warning"))
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	if strings.HasSuffix(word, "s") {
		return fmt.Sprintf("%d %ses", n, word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
