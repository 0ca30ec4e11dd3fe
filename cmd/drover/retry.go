package main

import (
	"flag"
	"fmt"
	"strings"
	"time"

	"github.com/drover-sh/drover/agent"
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
			if err := newAPIClient(path, 30*time.Second).do("POST", "/v1/daemons/"+args[0]+"/retry", nil); err != nil {
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
			var res agent.ReconcileJSON
			if err := newAPIClient(path, 10*time.Minute).do("POST", "/v1/reconcile", &res); err != nil {
				fmt.Fprintf(env.stderr, "drover reconcile: %v\n", err)
				return exitFailure
			}
			r := &agent.Result{Revision: res.Revision, Outcome: agent.Outcome(res.Outcome), Changes: res.Changes, Failed: res.Failed}
			if res.Error != "" {
				r.Err = fmt.Errorf("%s", res.Error)
			}
			printResult(env, r)
			if !r.Converged() {
				return exitFailure
			}
			return exitOK
		},
	})
}
