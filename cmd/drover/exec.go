package main

import (
	"flag"
	"fmt"

	"github.com/drover-sh/drover/agent/launch"
)

func init() {
	register(&command{
		name:    "exec",
		args:    "SPEC",
		summary: "Start a daemon from its exec spec (run by supervisord, as root).",
		help: `supervisord starts every drover program as "drover exec SPEC". Running as
root, drover reads the exec spec (a root-only JSON file: it holds the
environment), joins the daemon's memory cgroup when it has max_memory_mb,
builds a clean environment (PATH, HOME, USER, LOGNAME, SHELL, the daemon's
environment, HOST and PORT), enters the webroot, drops to the tenant's uid and
gid with no other groups, and replaces itself with /bin/sh -c "exec COMMAND".`,
		run: func(env *cmdEnv, fs *flag.FlagSet, args []string) int {
			if len(args) != 1 {
				return usageError(env, fs, "expected one SPEC argument")
			}
			err := launch.Run(args[0])
			fmt.Fprintf(env.stderr, "drover exec: %v\n", err)
			return exitFailure
		},
	})
}
