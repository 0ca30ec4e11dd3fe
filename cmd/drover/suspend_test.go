package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/localapi"
)

// holdNode is a node held at "abc" after a rollback from "def", whose
// head is "def"; it refuses a rollback to anything but "abc".
type holdNode struct{ statusNode }

var held = &localapi.Suspension{Revision: "abc", RolledBackFrom: "def", Reason: "bad deploy"}

func (holdNode) Rollback(_ context.Context, rev, _ string) (localapi.Result, error) {
	if rev != "abc" {
		return localapi.Result{}, fmt.Errorf("revision %q is not one this node applied: %w", rev, localapi.ErrRefused)
	}
	return localapi.Result{Revision: "abc", Outcome: localapi.OutcomeApplied, Changes: []string{"wrote exec spec of daemon-acme-one"},
		Suspension: held, Head: "def"}, nil
}

func (holdNode) Resume(context.Context) localapi.Resumed {
	return localapi.Resumed{Lifted: held, Pass: &localapi.Result{Revision: "def", Outcome: localapi.OutcomeRejected,
		Changes: []string{}, Error: "revision def rejected: it is invalid"}}
}

// TestRollbackAndResumeOutput: what drover rollback and resume print and
// their exit statuses: a rollback done says where the node is held and
// that the head waits; a refused one says nothing changed and exits 1; a
// resume whose head is rejected exits 1; one of a node not suspended
// exits 0.
func TestRollbackAndResumeOutput(t *testing.T) {
	var out, errOut strings.Builder
	env := &cmdEnv{stdout: &out, stderr: &errOut}
	c := serveNode(t, holdNode{})
	if code := runRollback(env, c, "abc", ""); code != exitOK || out.String() != "revision abc: applied\n"+
		"  wrote exec spec of daemon-acme-one\n"+
		"node converged (1 change)\n"+
		"suspended at abc since never (rolled back from def), head is def: bad deploy\n"+
		"the head is not applied until drover resume\n" {
		t.Errorf("rollback: exit %d, printed\n%s", code, out.String())
	}
	out.Reset()
	if code := runRollback(env, c, "nope", ""); code != exitFailure || out.String() != "" ||
		errOut.String() != "drover rollback: revision \"nope\" is not one this node applied: refused\nNothing was changed.\n" {
		t.Errorf("refused rollback: exit %d, printed %q, %q", code, out.String(), errOut.String())
	}
	if code := runResume(env, c); code != exitFailure || !strings.HasPrefix(out.String(), "resumed: was suspended at abc since never (rolled back from def): bad deploy\n"+
		"revision def: rejected\nerror: revision def rejected: it is invalid\n") {
		t.Errorf("resume: exit %d, printed\n%s", code, out.String())
	}
	out.Reset()
	if code := runResume(env, serveNode(t, statusNode{})); code != exitOK || out.String() != "the node is not suspended; nothing to resume\n" {
		t.Errorf("resume of a node not suspended: exit %d, printed %q", code, out.String())
	}
}
