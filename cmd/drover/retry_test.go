package main

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

// retryNode is a node with one daemon that, once retried, goes through the
// states of a script, as the agent's would: step i is what it reports from
// script[i].after past the retry on, updated then (since then too, when
// its status changed), unless the step keeps the earlier updated_at.
type retryNode struct {
	statusNode
	before localapi.Daemon
	script []retryStep

	mu    sync.Mutex
	asked time.Time // when Retry was called; zero before
}

type retryStep struct {
	after time.Duration
	d     localapi.Daemon
	// keepUpdated: the step moves only next_retry, as an apply failure
	// that fails the same way again does.
	keepUpdated bool
}

func (n *retryNode) Daemons() ([]localapi.Daemon, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	d := n.before
	if n.asked.IsZero() {
		return []localapi.Daemon{d}, nil
	}
	for _, s := range n.script {
		at := n.asked.Add(s.after)
		if time.Now().Before(at) {
			break
		}
		prev := d
		d = s.d
		d.Key, d.Since, d.UpdatedAt = prev.Key, prev.Since, prev.UpdatedAt
		if !s.keepUpdated {
			d.UpdatedAt = at
		}
		if d.Status != prev.Status {
			d.Since = at
		}
	}
	return []localapi.Daemon{d}, nil
}

func (n *retryNode) Retry(key string) (bool, error) {
	if key != n.before.Key {
		return false, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.asked = time.Now()
	return true, nil
}

// serveNode serves n's local API on a socket of the test's own.
func serveNode(t *testing.T, n localapi.Node) *localapi.Client {
	t.Helper()
	return localapi.NewClient(serveSocket(t, n))
}

// serveSocket serves n's local API on a socket of the test's own and
// returns the socket's path.
func serveSocket(t *testing.T, n localapi.Node) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: localapi.Handler(n)}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sock
}

// TestRetryWaitsForTheOutcome: drover retry returns once the attempt it
// asked for has an outcome, prints it and exits 0 only when the daemon
// runs. A run that follows failed runs is watched until it has outlasted
// the last one: the crash one second in is the outcome, not the second of
// running before it.
func TestRetryWaitsForTheOutcome(t *testing.T) {
	old := time.Now().Add(-time.Hour)
	lastExit := &localapi.Exit{Started: old, At: old.Add(300 * time.Millisecond), Status: 1, Text: "exit status 1 after 300ms"}
	crashing := localapi.Daemon{Key: "acme/main/web", Status: statusCrashLooping, FailedRuns: 3, LastExit: lastExit,
		Reason:    "exit status 1 after 300ms (3 failed runs in a row): Error: Cannot find module x; starting again in 8s",
		NextRetry: new(time.Now().Add(8 * time.Second)), UpdatedAt: old, Since: old}
	crashed := crashing
	crashed.FailedRuns = 4
	crashed.Reason = "exit status 1 after 300ms (4 failed runs in a row): Error: Cannot find module x; starting again in 16s"
	startedAgain := crashing
	startedAgain.Reason, startedAgain.NextRetry, startedAgain.Settling = "starting again after exit status 1 after 300ms", nil, true
	starting := localapi.Daemon{Status: statusProvisioning, Reason: "starting", Settling: true, FailedRuns: 3, LastExit: lastExit}
	runningAgain := localapi.Daemon{Status: statusRunning, FailedRuns: 3, LastExit: lastExit, PIDs: []int{42},
		Reason: "running again after 3 failed runs in a row; last: exit status 1 after 300ms"}
	nginxFailed := localapi.Daemon{Key: "acme/main/web", Status: statusFailed, Reason: "nginx: [emerg] unknown directive", FailedRuns: 2,
		NextRetry: new(time.Now().Add(4 * time.Second)), UpdatedAt: old, Since: old}
	failedAgain := nginxFailed
	failedAgain.FailedRuns, failedAgain.NextRetry = 3, new(time.Now().Add(8*time.Second))

	for _, c := range []struct {
		name    string
		before  localapi.Daemon
		script  []retryStep
		timeout time.Duration
		code    int
		out     string
		// took bounds how long drover retry waited.
		atLeast, atMost time.Duration
	}{
		{
			name:   "failed, then running",
			before: nginxFailed,
			script: []retryStep{
				{after: 50 * time.Millisecond, d: localapi.Daemon{Status: statusProvisioning, Reason: "restart queued; the previous configuration runs until then", Settling: true}},
				{after: 100 * time.Millisecond, d: localapi.Daemon{Status: statusProvisioning, Reason: "starting", Settling: true}},
				{after: 150 * time.Millisecond, d: localapi.Daemon{Status: statusRunning, PIDs: []int{42}}},
			},
			code: exitOK, out: "acme/main/web: running\n",
			atLeast: 150 * time.Millisecond, atMost: 2 * time.Second,
		},
		{
			name:   "crash-looping, started again, crashes again",
			before: crashing,
			script: []retryStep{
				{after: 0, d: startedAgain},
				{after: 50 * time.Millisecond, d: starting},
				{after: 100 * time.Millisecond, d: runningAgain},
				{after: 700 * time.Millisecond, d: crashed},
			},
			code:    exitFailure,
			out:     "acme/main/web: crash-looping: exit status 1 after 300ms (4 failed runs in a row): Error: Cannot find module x; starting again in 16s\n",
			atLeast: 700 * time.Millisecond, atMost: 3 * time.Second,
		},
		{
			name:   "crash-looping, started again, stays up",
			before: crashing,
			script: []retryStep{
				{after: 0, d: startedAgain},
				{after: 100 * time.Millisecond, d: runningAgain},
			},
			code: exitOK, out: "acme/main/web: running: running again after 3 failed runs in a row; last: exit status 1 after 300ms\n",
			// Running since 100ms, watched for the last run's 300ms and
			// supervisord's second.
			atLeast: 1400 * time.Millisecond, atMost: 4 * time.Second,
		},
		{
			name:   "an apply failure fails the same way again",
			before: nginxFailed,
			script: []retryStep{{after: 100 * time.Millisecond, d: failedAgain, keepUpdated: true}},
			code:   exitFailure, out: "acme/main/web: failed: nginx: [emerg] unknown directive\n",
			atLeast: 100 * time.Millisecond, atMost: 2 * time.Second,
		},
		{
			name:    "no outcome in time",
			before:  crashing,
			script:  []retryStep{{after: 0, d: startedAgain}, {after: 50 * time.Millisecond, d: starting}},
			timeout: 400 * time.Millisecond,
			code:    exitFailure,
			out: "acme/main/web: no outcome within 400ms; still provisioning: starting\n" +
				"The agent goes on; drover status acme/main/web follows it.\n",
			atLeast: 400 * time.Millisecond, atMost: 2 * time.Second,
		},
		{
			name:   "running: nothing to retry",
			before: localapi.Daemon{Key: "acme/main/web", Status: statusRunning, PIDs: []int{42}, UpdatedAt: old},
			code:   exitOK, out: "acme/main/web: running (nothing to retry)\n",
			atMost: time.Second,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.before.Key = "acme/main/web"
			client := serveNode(t, &retryNode{before: c.before, script: c.script})
			w := retryWait{timeout: 10 * time.Second, poll: 20 * time.Millisecond}
			if c.timeout > 0 {
				w.timeout = c.timeout
			}
			var out, errOut strings.Builder
			start := time.Now()
			code := runRetry(&cmdEnv{stdout: &out, stderr: &errOut}, client, "acme/main/web", w)
			took := time.Since(start)
			if code != c.code || out.String() != c.out || errOut.Len() > 0 {
				t.Errorf("exit %d, printed\n%s\nand on stderr %q; want exit %d and\n%s", code, out.String(), errOut.String(), c.code, c.out)
			}
			if took < c.atLeast || took > c.atMost {
				t.Errorf("drover retry took %s; want %s to %s", took, c.atLeast, c.atMost)
			}
		})
	}
}

// TestRetryElsewhere: a daemon not on this node is said so, with where to
// look, and exits 1; --no-wait only asks.
func TestRetryElsewhere(t *testing.T) {
	client := serveNode(t, &retryNode{statusNode: statusNode{st: localapi.Status{Node: "web-1a"}},
		before: localapi.Daemon{Key: "acme/main/web", Status: statusFailed}})
	var out, errOut strings.Builder
	env := &cmdEnv{stdout: &out, stderr: &errOut}
	if code := runRetry(env, client, "acme/main/nope", defaultRetryWait); code != exitFailure ||
		errOut.String() != "drover retry: daemon acme/main/nope does not run on node web-1a\n"+
			"drover status lists the daemons of this node; drover placement says where each runs.\n" {
		t.Errorf("retry of a daemon elsewhere: exit %d, %q", code, errOut.String())
	}
	out.Reset()
	errOut.Reset()
	if code := runRetryNoWait(env, client, "acme/main/web"); code != exitOK || out.String() != "retrying acme/main/web\n" {
		t.Errorf("retry --no-wait: exit %d, %q %q", code, out.String(), errOut.String())
	}
}

// hangingNode is a node whose passes last until the client goes away.
type hangingNode struct{ statusNode }

func (hangingNode) Reconcile(ctx context.Context) localapi.Result {
	<-ctx.Done()
	return localapi.Result{Outcome: localapi.OutcomeFailed}
}

// failingNode is a node whose pass leaves two daemons failing.
type failingNode struct{ statusNode }

func (failingNode) Reconcile(context.Context) localapi.Result {
	return localapi.Result{Revision: "abc", Outcome: localapi.OutcomeFailed, Changes: []string{},
		Failed: map[string]string{
			"acme/main/web":   "exit status 1 after 2s (3 failed runs in a row): Error: Cannot find module x; starting again in 8s",
			"acme/main/queue": "nginx: [emerg] unknown directive",
		}}
}

// TestReconcile: drover reconcile names every failing daemon with its
// reason and exits 1; past --timeout it stops waiting, says that the agent
// goes on, and exits 1.
func TestReconcile(t *testing.T) {
	var out, errOut strings.Builder
	env := &cmdEnv{stdout: &out, stderr: &errOut}
	if code := runReconcile(env, serveNode(t, failingNode{})); code != exitFailure || out.String() != "revision abc: failed\n"+
		"  FAILED acme/main/queue: nginx: [emerg] unknown directive\n"+
		"  FAILED acme/main/web: exit status 1 after 2s (3 failed runs in a row): Error: Cannot find module x; starting again in 8s\n" {
		t.Errorf("reconcile with failing daemons: exit %d, printed\n%s", code, out.String())
	}

	out.Reset()
	c := serveNode(t, hangingNode{})
	c.ReconcileTimeout = 300 * time.Millisecond
	start := time.Now()
	code := runReconcile(env, c)
	if took := time.Since(start); code != exitFailure || took > 3*time.Second ||
		!strings.Contains(errOut.String(), "drover reconcile: no answer to POST /v1/reconcile from the drover agent at ") ||
		!strings.HasSuffix(errOut.String(), "The agent goes on with the pass; drover status shows how it ends.\n") {
		t.Errorf("reconcile past its timeout: exit %d after %s, %q", code, took, errOut.String())
	}

	// --no-wait returns once the agent took the request, whatever the pass
	// does.
	out.Reset()
	start = time.Now()
	if code := requestPass(env, serveNode(t, hangingNode{})); code != exitOK || time.Since(start) > time.Second ||
		out.String() != "asked the agent for a full pass; drover status shows how it ends\n" {
		t.Errorf("reconcile --no-wait: exit %d after %s, printed %q", code, time.Since(start), out.String())
	}
}

func (hangingNode) RequestPass() {}

func (failingNode) RequestPass() {}
