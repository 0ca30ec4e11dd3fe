package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/signal"
	"slices"
	"syscall"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent"
	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/internal/english"
)

// defaultAgentConfig is where the agent configuration lives on a node.
const defaultAgentConfig = "/etc/drover/agent.hcl"

func init() {
	var configPath, logFormat string
	var once, uninstall bool
	register(&command{
		name:    "agent",
		args:    "[--config FILE] [--once | --uninstall] [--log-format text|json]",
		summary: "Converge this node from the config repository (as root).",
		help: `The agent pulls the config repository, validates each new revision (an
invalid one is never applied, not even in part), renders this node's desired
state and applies only the difference: supervisord programs over its XML-RPC
socket, nginx files (tested, reloaded, rolled back on failure), exec specs.
It keeps what it applied in bbolt under state_dir and re-applies that state on
start, before any fetch. Triggers: source.poll_interval, the webhook, drover
reconcile, a commit to a local source, and files changed by hand in the
managed directories (repaired within a second, without a fetch).

--once performs one full reconcile and exits 0 when the node converged, 1
otherwise, printing what it changed.

--uninstall removes everything drover installed on this node — its
supervisord programs, exec specs, nginx files, memory cgroups and, with a
network block, the nftables table and drover's addresses and routes — and
empties the store. It is the only way drover removes its nftables table.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&configPath, "config", defaultAgentConfig, "agent configuration `FILE`")
			fs.BoolVar(&once, "once", false, "reconcile once and exit")
			fs.BoolVar(&uninstall, "uninstall", false, "remove everything drover installed on this node, then exit")
			fs.StringVar(&logFormat, "log-format", "text", "log format: text or json")
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) > 0 {
				return usageError(env, fs, "takes no arguments")
			}
			if once && uninstall {
				return usageError(env, fs, "--once and --uninstall exclude each other")
			}
			return runAgent(env, configPath, logFormat, once, uninstall)
		},
	})
}

func runAgent(env *cmdEnv, configPath, logFormat string, once, uninstall bool) int {
	cfg, files, diags := config.Load(configPath)
	printDiagnostics(env, files, diags)
	if cfg == nil {
		return exitFailure
	}
	if cfg.Node == "" || cfg.Source.URL == "" {
		fmt.Fprintf(env.stderr, "drover agent: %s must set node and source.url\n", configPath)
		return exitFailure
	}
	var handler slog.Handler = slog.NewTextHandler(env.stderr, nil)
	if logFormat == "json" {
		handler = slog.NewJSONHandler(env.stderr, nil)
	}
	log := slog.New(handler).With("node", cfg.Node)

	// Directory checks, the state-dir lock, the store and the source:
	// agent/open.go.
	a, err := agent.Open(cfg, log)
	if err != nil {
		fmt.Fprintf(env.stderr, "drover agent: %v\n", err)
		return exitFailure
	}
	defer a.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if uninstall {
		res := a.Uninstall(ctx)
		printResult(env, res.Report())
		if res.Err != nil {
			return exitFailure
		}
		fmt.Fprintln(env.stdout, "drover's programs, files and network are removed from this node")
		return exitOK
	}
	if once {
		res := a.Once(ctx).Report()
		printResult(env, res)
		if !res.Converged() {
			return exitFailure
		}
		return exitOK
	}
	if err := a.Serve(ctx); err != nil {
		fmt.Fprintf(env.stderr, "drover agent: %v\n", err)
		return exitFailure
	}
	log.Info("drover agent started", "version", version, "source", a.SourceURL(), "branch", cfg.Source.Branch)
	if err := a.Run(ctx); err != nil {
		fmt.Fprintf(env.stderr, "drover agent: %v\n", err)
		return exitFailure
	}
	log.Info("drover agent stopped")
	return exitOK
}

// printResult prints a reconcile's summary for a person.
func printResult(env *cmdEnv, res localapi.Result) {
	fmt.Fprintf(env.stdout, "revision %s: %s\n", res.Revision, res.Outcome)
	for _, c := range res.Changes {
		fmt.Fprintf(env.stdout, "  %s\n", c)
	}
	for _, key := range slices.Sorted(maps.Keys(res.Failed)) {
		fmt.Fprintf(env.stdout, "  FAILED %s: %s\n", key, res.Failed[key])
	}
	if res.Error != "" {
		fmt.Fprintf(env.stdout, "error: %s\n", res.Error)
	}
	if res.Converged() {
		fmt.Fprintf(env.stdout, "node converged (%s)\n", english.Count(len(res.Changes), "change"))
	}
	if res.Suspension != nil {
		fmt.Fprintf(env.stdout, "%s\nthe head is not applied until drover resume\n", suspensionText(res.Suspension, res.Head))
	}
}
