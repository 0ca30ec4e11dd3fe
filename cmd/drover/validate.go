package main

import (
	"fmt"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/spec"
)

func init() {
	var all bool
	register(&command{
		name:    "validate",
		args:    "[--all-warnings] [DIR]",
		summary: "Check a config repository and report every problem with its file and line.",
		help: `DIR is the config root (default: the current directory): every *.hcl and
*.hcl.json file below it forms one configuration. Every error is printed.
Warnings are printed but do not fail validation; of warnings of the same kind
the first 3 are printed in full and the rest counted, unless --all-warnings.

Exit status: 0 valid, 1 invalid, 2 usage error.`,
		flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&all, "all-warnings", false, "print every warning in full")
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			return runValidate(env, fs, args, all)
		},
		complete: dirArg,
		repo:     dirRepo,
	})
}

func runValidate(env *cmdEnv, fs *pflag.FlagSet, args []string, allWarnings bool) int {
	dir, code := configDir(env, fs, args)
	if code != exitOK {
		return code
	}
	cfg := loadConfigWith(env, dir, spec.DiagnosticPrinter{AllWarnings: allWarnings, MoreHint: allWarningsHint})
	if cfg == nil {
		return exitFailure
	}
	nodes, webroots, daemons := 0, 0, 0
	for _, s := range cfg.Shards {
		nodes += len(s.Nodes)
	}
	for _, t := range cfg.Tenants {
		webroots += len(t.Webroots)
		for _, w := range t.Webroots {
			daemons += len(w.Daemons)
		}
	}
	fmt.Fprintf(env.stdout, "Configuration of cluster %q is valid: %s (%s), %s, %s, %s.\n", cfg.Cluster.Name,
		english.Count(len(cfg.Shards), "shard"), english.Count(nodes, "node"), english.Count(len(cfg.Tenants), "tenant"),
		english.Count(webroots, "webroot"), english.Count(daemons, "daemon"))
	return exitOK
}
