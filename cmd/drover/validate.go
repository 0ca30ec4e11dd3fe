package main

import (
	"flag"
	"fmt"
)

func init() {
	register(&command{
		name:    "validate",
		args:    "[DIR]",
		summary: "Check a config repository and report every problem with its file and line.",
		help: `DIR is the config root (default: the current directory): every *.hcl and
*.hcl.json file below it forms one configuration. Warnings are printed but do
not fail validation.

Exit status: 0 valid, 1 invalid, 2 usage error.`,
		run: runValidate,
	})
}

func runValidate(env *cmdEnv, fs *flag.FlagSet, args []string) int {
	dir, code := configDir(env, fs, args)
	if code != exitOK {
		return code
	}
	cfg := loadConfig(env, dir)
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
		plural(len(cfg.Shards), "shard"), plural(nodes, "node"), plural(len(cfg.Tenants), "tenant"),
		plural(webroots, "webroot"), plural(daemons, "daemon"))
	return exitOK
}
