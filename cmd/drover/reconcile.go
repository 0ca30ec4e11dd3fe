package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/localapi"
)

func init() {
	var call waitingCall
	var noWait bool
	register(&command{
		name:    "reconcile",
		args:    "[--timeout DURATION] [--no-wait] [--config FILE | --socket PATH]",
		summary: "Make the running agent reconcile now and print what it changed.",
		help:    reconcileHelp,
		flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&noWait, "no-wait", false, "ask for the pass and return at once")
			call.flags(fs)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) > 0 {
				return usageError(env, fs, "takes no arguments")
			}
			c, code := call.client(env, fs, "reconcile")
			if c == nil {
				return code
			}
			if noWait {
				return requestPass(env, c)
			}
			return runReconcile(env, c)
		},
	})
}

const reconcileHelp = `A full pass: the agent compares everything with the repository's head and
the disk and applies what differs, then waits for the restarts it started.
drover reconcile prints what changed and every daemon that is failing,
"FAILED KEY: REASON" (failed, crash-looping, or waiting to start again
after a failed run).

On a node held by drover suspend or drover rollback the pass compares and
applies the revision the node is held at, not the branch head, and the
output ends by saying so ("suspended at REV since T, head is H"); drover
resume applies the head.

--no-wait only asks for the pass (it runs as soon as the agent's loop is
free) and exits 0 once the agent took the request. If --timeout passes, or
the command is interrupted, the agent goes on with the pass; drover status
shows how it ended.

Exit status: 0 when the node converged (or, with --no-wait, the request was
taken), 1 otherwise.`

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

// requestPass is drover reconcile --no-wait.
func requestPass(env *cmdEnv, c *localapi.Client) int {
	if err := c.RequestPass(context.Background()); err != nil {
		fmt.Fprintf(env.stderr, "drover reconcile: %v\n", err)
		return exitFailure
	}
	fmt.Fprintln(env.stdout, "asked the agent for a full pass; drover status shows how it ends")
	return exitOK
}

// waitingCall is what a command that asks the running agent for a pass and
// waits for it shares: --timeout and the socket flags.
type waitingCall struct {
	timeout time.Duration
	socket  func() (string, error)
}

func (w *waitingCall) flags(fs *pflag.FlagSet) {
	fs.DurationVar(&w.timeout, "timeout", localapi.DefaultReconcileTimeout, "wait at most `DURATION` for the pass and the restarts it started")
	w.socket = socketFlags(fs)
}

// client checks --timeout and returns the agent's client, or nil and the
// exit status.
func (w *waitingCall) client(env *cmdEnv, fs *pflag.FlagSet, name string) (*localapi.Client, int) {
	if w.timeout <= 0 {
		return nil, usageError(env, fs, "--timeout must be positive, got %s", w.timeout)
	}
	c, code := holdClient(env, name, w.socket)
	if c != nil {
		c.ReconcileTimeout = w.timeout
	}
	return c, code
}
