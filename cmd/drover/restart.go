package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/localapi"
)

func init() {
	var socket func() (string, error)
	w := defaultRetryWait
	register(&command{
		name:    "restart",
		args:    "TENANT/WEBROOT/DAEMON [--timeout DURATION] [--config FILE | --socket PATH]",
		summary: "Restart a daemon on this node and wait for its new processes.",
		help:    restartHelp,
		flags: func(fs *pflag.FlagSet) {
			fs.DurationVar(&w.timeout, "timeout", w.timeout, "wait at most `DURATION` for the new processes")
			socket = socketFlags(fs)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			c, code := daemonClient(env, fs, "restart", args, w.timeout, socket)
			if c == nil {
				return code
			}
			return runRestart(env, c, args[0], w)
		},
		complete: liveKeys,
	})
}

const restartHelp = `The agent stops the daemon's processes with its stop signal (waiting at
most its stop_wait_secs) and starts them again, through the same rolling
restart a changed configuration goes through; no other daemon is touched
and nothing in the repository changes. The agent logs "restarted by an
operator" and drover status TENANT/WEBROOT/DAEMON shows when
(restarted_by_operator).

drover restart waits until the daemon runs with new processes and prints
them: "acme/main/web: running, pid 4242 (was pid 4100)". A daemon this node
does not run now is refused with the reason: disabled, or a singleton in
standby (another node may run it: drover placement says which).

Exit status: 0 when the daemon runs again with new processes; 1 when it
is failing, the outcome did not come within --timeout, the agent refused
or could not be asked; 2 for usage errors.`

// runRestart asks for the restart of key and waits for its new processes.
func runRestart(env *cmdEnv, c *localapi.Client, key string, w retryWait) int {
	ctx := context.Background()
	before, err := c.Daemon(ctx, key)
	if err != nil {
		return restartFailed(env, err)
	}
	if err := c.Restart(ctx, key); err != nil {
		return restartFailed(env, err)
	}
	d, settled, err := w.until(ctx, c, key, before, func(d localapi.Daemon, now time.Time) bool {
		return restarted(before, d, now)
	})
	if err != nil {
		return restartFailed(env, err)
	}
	if !settled {
		return noOutcome(env, key, w.timeout, d)
	}
	if d.Status != statusRunning {
		fmt.Fprintln(env.stdout, outcomeLine(d))
		return exitFailure
	}
	fmt.Fprintf(env.stdout, "%s: running, %s (was %s)\n", key, pids(d.PIDs), pids(before.PIDs))
	return exitOK
}

// restarted reports whether d, read at now, is the outcome of a restart of
// a daemon that was before: no longer on its way somewhere, and either
// running with none of its old processes or no longer running.
func restarted(before, d localapi.Daemon, now time.Time) bool {
	if transitional(d, now) || d.Settling {
		return false
	}
	if d.Status != statusRunning {
		return d.Status != before.Status || d.UpdatedAt.After(before.UpdatedAt)
	}
	if len(d.PIDs) == 0 {
		return false
	}
	for _, p := range d.PIDs {
		if slices.Contains(before.PIDs, p) {
			return false
		}
	}
	return true
}

// pids is "pid 42" or "pids 42, 43", "no pid" for none.
func pids(p []int) string {
	if len(p) == 0 {
		return "no pid"
	}
	s := make([]string, len(p))
	for i, n := range p {
		s[i] = strconv.Itoa(n)
	}
	if len(p) == 1 {
		return "pid " + s[0]
	}
	return "pids " + strings.Join(s, ", ")
}

func restartFailed(env *cmdEnv, err error) int {
	fmt.Fprintf(env.stderr, "drover restart: %v\n", err)
	if localapi.IsNotFound(err) {
		fmt.Fprintf(env.stderr, "drover status lists the daemons of this node; drover placement says where each runs.\n")
	}
	return exitFailure
}
