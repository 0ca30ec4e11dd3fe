package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent"
)

func init() {
	var leasePath, socket string
	register(&command{
		name:    "guard",
		args:    "--lease PATH --socket PATH",
		summary: "Stop this node's singleton daemons when its pool lease lapses (run by supervisord).",
		hidden:  true,
		help: `supervisord runs this as [program:drover-guard], as root, when the agent
configuration has a pool block. Every 250 ms it reads the lease file the agent
renews while this node sees a majority of its shard. When the lease has
expired, or the file is missing or unreadable, it stops (through supervisord's
socket) the singleton programs the last lease it read listed, once per lapse;
a renewed lease re-arms it. It never starts anything: the agent does. So a node
cut from its shard stops its singletons even when the agent is dead. SIGTERM
ends it.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&leasePath, "lease", "", "the lease file `PATH` (pool.lease_file)")
			fs.StringVar(&socket, "socket", "", "supervisord's XML-RPC socket `PATH`")
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if leasePath == "" || socket == "" || len(args) > 0 {
				return usageError(env, fs, "--lease and --socket are required, and nothing else")
			}
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			log := slog.New(slog.NewTextHandler(env.stderr, nil))
			log.Info("drover guard started", "lease", leasePath, "socket", socket)
			if err := agent.Guard(ctx, leasePath, socket, log); err != nil {
				fmt.Fprintf(env.stderr, "drover guard: %v\n", err)
				return exitFailure
			}
			log.Info("drover guard stopped")
			return exitOK
		},
	})
}
