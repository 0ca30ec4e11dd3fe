package main

import (
	"context"
	"errors"
	"flag"
	"fmt"

	"github.com/drover-sh/drover/agent/localapi"
)

func init() {
	var socket func() (string, error)
	timeout := localapi.DefaultReconcileTimeout
	register(&command{
		name:    "reconcile",
		args:    "[--timeout DURATION] [--config FILE | --socket PATH]",
		summary: "Make the running agent reconcile now and print what it changed.",
		help:    reconcileHelp,
		flags: func(fs *flag.FlagSet) {
			fs.DurationVar(&timeout, "timeout", timeout, "wait at most `DURATION` for the pass and the restarts it started")
			socket = socketFlags(fs)
		},
		run: func(env *cmdEnv, fs *flag.FlagSet, args []string) int {
			if len(args) > 0 {
				return usageError(env, fs, "takes no arguments")
			}
			if timeout <= 0 {
				return usageError(env, fs, "--timeout must be positive, got %s", timeout)
			}
			path, err := socket()
			if err != nil {
				fmt.Fprintf(env.stderr, "drover reconcile: %v\n", err)
				return exitFailure
			}
			c := localapi.NewClient(path)
			c.ReconcileTimeout = timeout
			return runReconcile(env, c)
		},
	})
}

const reconcileHelp = `A full pass: the agent compares everything with the repository's head and
the disk and applies what differs, then waits for the restarts it started.
drover reconcile prints what changed and every daemon that is failing,
"FAILED KEY: REASON" (failed, crash-looping, or waiting to start again
after a failed run).

There is no --no-wait: the pass is what this command reports, and the
agent passes on its own (every source.poll_interval, on a webhook push, on
a local commit). If --timeout passes, or the command is interrupted, the
agent goes on with the pass; drover status shows how it ended.

Exit status: 0 when the node converged, 1 otherwise.`

func runReconcile(env *cmdEnv, c *localapi.Client) int {
	res, err := c.Reconcile(context.Background())
	if err != nil {
		fmt.Fprintf(env.stderr, "drover reconcile: %v\n", err)
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(env.stderr, "The agent goes on with the pass; drover status shows how it ends.\n")
		}
		return exitFailure
	}
	printResult(env, res)
	return exitCode(res.Converged())
}
