package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/localapi"
)

// drover suspend, resume and rollback: the node-local hold on new
// revisions (design.md §6.14), through the running agent's API.

func init() {
	var socket func() (string, error)
	var reason string
	register(&command{
		name:    "suspend",
		args:    "[--reason TEXT] [--config FILE | --socket PATH]",
		summary: "Make the running agent stay at its revision: no new revision is applied until drover resume.",
		help:    suspendHelp,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&reason, "reason", "", "why, shown by drover status")
			socket = socketFlags(fs)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) > 0 {
				return usageError(env, fs, "takes no arguments")
			}
			c, code := holdClient(env, "suspend", socket)
			if c == nil {
				return code
			}
			s, err := c.Suspend(context.Background(), reason)
			if err != nil {
				fmt.Fprintf(env.stderr, "drover suspend: %v\n", err)
				return exitFailure
			}
			if s.Already {
				fmt.Fprintf(env.stdout, "already %s (kept as it was)\n", suspensionText(&s.Suspension, ""))
				return exitOK
			}
			fmt.Fprintf(env.stdout, "%s\nno new revision is applied until drover resume\n", suspensionText(&s.Suspension, ""))
			return exitOK
		},
	})

	var resume waitingCall
	register(&command{
		name:    "resume",
		args:    "[--timeout DURATION] [--config FILE | --socket PATH]",
		summary: "Lift drover suspend or drover rollback: the running agent applies the branch head again.",
		help:    resumeHelp,
		flags:   resume.flags,
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) > 0 {
				return usageError(env, fs, "takes no arguments")
			}
			c, code := resume.client(env, fs, "resume")
			if c == nil {
				return code
			}
			return runResume(env, c)
		},
	})

	var rollback waitingCall
	var rollbackReason string
	register(&command{
		name:    "rollback",
		args:    "[REV] [--reason TEXT] [--timeout DURATION] [--config FILE | --socket PATH]",
		summary: "Make the running agent apply an earlier revision it applied, and stay there until drover resume.",
		help:    rollbackHelp,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&rollbackReason, "reason", "", "why, shown by drover status")
			rollback.flags(fs)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) > 1 {
				return usageError(env, fs, "expected at most one REV argument, got %d", len(args))
			}
			rev := ""
			if len(args) == 1 {
				rev = args[0]
			}
			c, code := rollback.client(env, fs, "rollback")
			if c == nil {
				return code
			}
			return runRollback(env, c, rev, rollbackReason)
		},
	})
}

const suspendHelp = `The agent keeps polling and reports the branch head (drover status), but
applies no newer revision: it stays at the revision it runs. Everything else
goes on: failed daemons are retried, managed files and the network are
repaired, statuses and events are kept, and a failover still moves daemons.
drover reconcile re-applies the revision it stays at. The suspension is kept
in the agent's store, so it survives a restart of the agent, until drover
resume. On a suspended node it changes nothing (and says so).

Exit status: 0 when the node is suspended, 1 when the agent refused (it
applied nothing yet) or could not be reached.`

const resumeHelp = `Lifts drover suspend or drover rollback and runs a full pass, as drover
reconcile does: the branch head is applied, even one that came while the
node was suspended, and the command waits for the restarts it started. On a
node that is not suspended it says so and changes nothing. Past --timeout it
stops waiting; the node is resumed and the agent finishes the pass.

Exit status: 0 when the node converged to the head (or was not suspended),
1 otherwise (drover status shows why, such as a rejected head: the node then
keeps the revision it was suspended at).`

const rollbackHelp = `Applies REV, a revision this node applied before, from the agent's Git
cache (no fetch), and suspends the node there (see drover help suspend), so
the next poll does not undo it; drover resume applies the head again. REV is
a full commit hash or a prefix of at least 4 digits of one; without it, the
revision the node applied before it first applied the current one (so a
second rollback goes further back). The node's history in the store decides
which revisions it applied (drover status --json lists the recent ones).

The agent refuses, changing nothing, a REV this node never applied (or only
rejected), one no longer in its Git cache, one that names the revision it
runs, and one the running drover cannot load (a plan invalid under this
version), and prints why. Otherwise it waits for the pass and the restarts
it started, as drover reconcile does. Past --timeout it stops waiting; the
node is suspended at REV already and the agent finishes the pass.

Exit status: 0 when the node converged at REV, 1 when the agent refused the
rollback or the node did not converge (every failing daemon is printed).`

// holdClient is the API client of a hold command, or nil and its exit
// status.
func holdClient(env *cmdEnv, name string, socket func() (string, error)) (*localapi.Client, int) {
	path, err := socket()
	if err != nil {
		fmt.Fprintf(env.stderr, "drover %s: %v\n", name, err)
		return nil, exitFailure
	}
	return localapi.NewClient(path), exitOK
}

func runResume(env *cmdEnv, c *localapi.Client) int {
	r, err := c.Resume(context.Background())
	if err != nil {
		fmt.Fprintf(env.stderr, "drover resume: %v\n", err)
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(env.stderr, "The node is resumed; the agent goes on with the pass, and drover status shows how it ends.\n")
		}
		return exitFailure
	}
	if r.Lifted == nil {
		fmt.Fprintln(env.stdout, "the node is not suspended; nothing to resume")
		return exitOK
	}
	fmt.Fprintf(env.stdout, "resumed: was %s\n", suspensionText(r.Lifted, ""))
	if r.Pass == nil {
		return exitFailure
	}
	printResult(env, *r.Pass)
	return exitCode(r.Pass.Converged())
}

func runRollback(env *cmdEnv, c *localapi.Client, rev, reason string) int {
	res, err := c.Rollback(context.Background(), rev, reason)
	if localapi.IsRefused(err) {
		fmt.Fprintf(env.stderr, "drover rollback: %v\nNothing was changed.\n", err)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "drover rollback: %v\n", err)
		if errors.Is(err, context.DeadlineExceeded) {
			fmt.Fprintf(env.stderr, "The agent goes on with the pass; drover status shows how it ends.\n")
		}
		return exitFailure
	}
	printResult(env, res)
	return exitCode(res.Converged())
}

// suspensionText says where and since when the node is held, why, and the
// head it does not apply (when head is not ""): "suspended at REV since T
// (rolled back from R), head is H: REASON".
func suspensionText(s *localapi.Suspension, head string) string {
	t := fmt.Sprintf("suspended at %s since %s", s.Revision, when(s.Since))
	if s.RolledBackFrom != "" {
		t += " (rolled back from " + s.RolledBackFrom + ")"
	}
	if head != "" {
		t += ", head is " + head
	}
	if s.Reason != "" {
		t += ": " + s.Reason
	}
	return t
}
