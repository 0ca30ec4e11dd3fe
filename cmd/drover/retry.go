package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/edit"
)

func init() {
	var socket func() (string, error)
	var noWait bool
	w := defaultRetryWait
	register(&command{
		name:    "retry",
		args:    "TENANT/WEBROOT/DAEMON [--timeout DURATION | --no-wait] [--config FILE | --socket PATH]",
		summary: "Retry a daemon on this node now and wait for the outcome.",
		help:    retryHelp,
		flags: func(fs *pflag.FlagSet) {
			fs.DurationVar(&w.timeout, "timeout", w.timeout, "wait at most `DURATION` for the outcome")
			fs.BoolVar(&noWait, "no-wait", false, "only ask for the retry; do not wait for its outcome")
			socket = socketFlags(fs)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			c, code := daemonClient(env, fs, "retry", args, w.timeout, socket)
			if c == nil {
				return code
			}
			if noWait {
				return runRetryNoWait(env, c, args[0])
			}
			return runRetry(env, c, args[0], w)
		},
		complete: liveKeys,
	})
}

const retryHelp = `The agent starts the daemon's processes again at once (a daemon waiting for
its backoff after its process ended), or applies everything again (a failed
daemon). drover retry then follows the daemon until the attempt has an
outcome: it is no longer starting, started again or waiting for a queued
restart, and a run that follows failed runs has outlasted the last one.
It prints the outcome, "acme/main/web: running" or "acme/main/web:
crash-looping: exit status 1 after 2s (4 failed runs in a row): …", and
drover status TENANT/WEBROOT/DAEMON shows the daemon in full.

A running or stopped daemon has nothing to retry: its state is printed
at once.

Exit status: 0 when the daemon runs (or is stopped because disabled);
1 when it is failing, the outcome did not come within --timeout, or the
agent could not be asked; 2 for usage errors. --no-wait exits 0 once the
agent took the request.`

// runRetry asks for the retry of key and waits for its outcome.
func runRetry(env *cmdEnv, c *localapi.Client, key string, w retryWait) int {
	ctx := context.Background()
	before, err := c.Daemon(ctx, key)
	if err != nil {
		return retryFailed(env, err)
	}
	asked := time.Now()
	if err := c.Retry(ctx, key); err != nil {
		return retryFailed(env, err)
	}
	if nothingToRetry(before, asked) {
		fmt.Fprintf(env.stdout, "%s (nothing to retry)\n", outcomeLine(before))
		return exitCode(settledWell(before))
	}
	d, settled, err := w.follow(ctx, c, key, before, asked)
	if err != nil {
		return retryFailed(env, err)
	}
	if !settled {
		return noOutcome(env, key, w.timeout, d)
	}
	fmt.Fprintln(env.stdout, outcomeLine(d))
	return exitCode(settledWell(d))
}

// runRetryNoWait only asks for the retry of key.
func runRetryNoWait(env *cmdEnv, c *localapi.Client, key string) int {
	if err := c.Retry(context.Background(), key); err != nil {
		return retryFailed(env, err)
	}
	fmt.Fprintf(env.stdout, "retrying %s\n", key)
	return exitOK
}

func retryFailed(env *cmdEnv, err error) int {
	fmt.Fprintf(env.stderr, "drover retry: %v\n", err)
	if localapi.IsNotFound(err) {
		fmt.Fprintf(env.stderr, "drover status lists the daemons of this node; drover placement says where each runs.\n")
	}
	return exitFailure
}

func exitCode(ok bool) int {
	if ok {
		return exitOK
	}
	return exitFailure
}

// daemonClient checks the arguments of a command about one daemon that
// waits for it (one TENANT/WEBROOT/DAEMON, a positive --timeout) and
// returns the running agent's client, or nil and the exit status.
func daemonClient(env *cmdEnv, fs *pflag.FlagSet, name string, args []string, timeout time.Duration, socket func() (string, error)) (*localapi.Client, int) {
	if len(args) != 1 {
		return nil, usageError(env, fs, "expected one TENANT/WEBROOT/DAEMON argument")
	}
	if _, err := edit.ParseKey(args[0]); err != nil {
		return nil, usageError(env, fs, "%v", err)
	}
	if timeout <= 0 {
		return nil, usageError(env, fs, "--timeout must be positive, got %s", timeout)
	}
	return holdClient(env, name, socket)
}

// noOutcome says that key had no outcome within timeout, where it stands,
// and that the agent goes on; exit 1.
func noOutcome(env *cmdEnv, key string, timeout time.Duration, d localapi.Daemon) int {
	fmt.Fprintf(env.stdout, "%s: no outcome within %s; still %s\n", key, timeout, state(d))
	fmt.Fprintf(env.stdout, "The agent goes on; drover status %s follows it.\n", key)
	return exitFailure
}
