package main

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

// restartNode is a node whose daemon acme/main/web, once restarted, is
// queued for a while (its old process still running), then runs after.
type restartNode struct {
	statusNode
	before, after localapi.Daemon
	refuse        string
	mu            sync.Mutex
	asked         time.Time
}

func (n *restartNode) Daemons() ([]localapi.Daemon, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	switch {
	case n.asked.IsZero():
		return []localapi.Daemon{n.before}, nil
	case time.Since(n.asked) < 100*time.Millisecond:
		d := n.before
		d.Status, d.Reason, d.Settling = statusProvisioning, "restart asked by an operator", true
		return []localapi.Daemon{d}, nil
	case time.Since(n.asked) < 200*time.Millisecond:
		return []localapi.Daemon{n.before}, nil // an event read before the stop
	}
	return []localapi.Daemon{n.after}, nil
}

func (n *restartNode) Restart(key string) (bool, error) {
	if n.refuse != "" {
		return true, fmt.Errorf("%w: %s", localapi.ErrRefused, n.refuse)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.asked = time.Now()
	return true, nil
}

// drover restart waits until the daemon runs with none of its old
// processes and prints the new PIDs; a refusal is printed with its
// reason.
func TestRestart(t *testing.T) {
	web := localapi.Daemon{Key: "acme/main/web", Status: statusRunning, PIDs: []int{42, 43}}
	after := web
	after.PIDs = []int{50, 51}
	w := retryWait{timeout: 10 * time.Second, poll: 20 * time.Millisecond}
	var out, errOut strings.Builder
	env := &cmdEnv{stdout: &out, stderr: &errOut}
	start := time.Now()
	code := runRestart(env, serveNode(t, &restartNode{before: web, after: after}), "acme/main/web", w)
	if code != exitOK || out.String() != "acme/main/web: running, pids 50, 51 (was pids 42, 43)\n" || time.Since(start) < 200*time.Millisecond {
		t.Errorf("exit %d after %s:\n%s%s", code, time.Since(start), out.String(), errOut.String())
	}
	out.Reset()
	code = runRestart(env, serveNode(t, &restartNode{before: web, refuse: "acme/main/web is a singleton in standby on node web-1a: no majority"}), "acme/main/web", w)
	if code != exitFailure || !strings.Contains(errOut.String(), "drover restart: refused: acme/main/web is a singleton in standby") {
		t.Errorf("refused: exit %d\n%s%s", code, out.String(), errOut.String())
	}
}
