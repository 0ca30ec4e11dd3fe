package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/drover-sh/drover/agent/localapi"
)

func init() {
	var socket func() (string, error)
	register(&command{
		name:    "retry",
		args:    "TENANT/WEBROOT/DAEMON [--config FILE | --socket PATH]",
		summary: "Retry a daemon on this node now, instead of waiting for its backoff.",
		flags:   func(fs *flag.FlagSet) { socket = socketFlags(fs) },
		run: func(env *cmdEnv, fs *flag.FlagSet, args []string) int {
			if len(args) != 1 || strings.Count(args[0], "/") != 2 {
				return usageError(env, fs, "expected one TENANT/WEBROOT/DAEMON argument")
			}
			path, err := socket()
			if err != nil {
				fmt.Fprintf(env.stderr, "drover retry: %v\n", err)
				return exitFailure
			}
			if err := localapi.NewClient(path).Retry(context.Background(), args[0]); err != nil {
				fmt.Fprintf(env.stderr, "drover retry: %v\n", err)
				return exitFailure
			}
			fmt.Fprintf(env.stdout, "retrying %s\n", args[0])
			return exitOK
		},
	})
	var reconcileSocket func() (string, error)
	register(&command{
		name:    "reconcile",
		args:    "[--config FILE | --socket PATH]",
		summary: "Make the running agent reconcile now and print what it changed.",
		help:    "Exit status: 0 when the node converged, 1 otherwise.",
		flags:   func(fs *flag.FlagSet) { reconcileSocket = socketFlags(fs) },
		run: func(env *cmdEnv, fs *flag.FlagSet, args []string) int {
			if len(args) > 0 {
				return usageError(env, fs, "takes no arguments")
			}
			path, err := reconcileSocket()
			if err != nil {
				fmt.Fprintf(env.stderr, "drover reconcile: %v\n", err)
				return exitFailure
			}
			res, err := localapi.NewClient(path).Reconcile(context.Background())
			if err != nil {
				fmt.Fprintf(env.stderr, "drover reconcile: %v\n", err)
				return exitFailure
			}
			printResult(env, res)
			if !res.Converged() {
				return exitFailure
			}
			return exitOK
		},
	})
}
