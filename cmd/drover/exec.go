package main

import (
	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/cmd/drover/internal/execfirst"
)

func init() {
	register(&command{
		name:    execfirst.Command, // the plain "drover exec SPEC" runs from execfirst's init
		args:    "SPEC",
		summary: "Start a daemon from its exec spec (run by supervisord, as root).",
		help: `supervisord starts every drover program as "drover exec SPEC". Running as
root, drover reads the exec spec (a root-only JSON file: it holds the
environment) and refuses one it cannot honour exactly; checks that the
spec's uid has a passwd entry carrying the tenant's name; joins the
daemon's memory cgroup when it has max_memory_mb; drops to the tenant's uid
and gid with no other groups; enters the webroot as the tenant, refusing
one that resolves outside {storage_root}/{tenant}; builds a clean
environment (PATH, HOME, USER, LOGNAME, SHELL, the daemon's environment,
HOST and PORT); sets no_new_privs; and replaces itself with
/bin/sh -c "unset PWD; exec COMMAND", with only stdin, stdout and stderr
open.`,
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) != 1 {
				return usageError(env, fs, "expected one SPEC argument")
			}
			return launch.Command(args[0], env.stderr)
		},
		complete: fileExt("json"),
	})
}
