package localapi

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// fakeNode is a Node holding a node's state: its daemons, the retries and
// passes asked for and the events queued (up to room).
type fakeNode struct {
	mu      sync.Mutex
	status  Status
	daemons []Daemon // sorted by key
	err     error    // answered by Status and Daemons when set
	retried []string
	// restarted are the daemons Restart restarted.
	restarted []string
	passes    int
	events    []Event
	room      int
	// hang makes Reconcile wait until its context ends.
	hang bool
	// requested counts RequestPass calls.
	requested int
}

func (n *fakeNode) Name() string { return "web-1a" }

func (n *fakeNode) Status() (Status, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.status, n.err
}

func (n *fakeNode) Daemons() ([]Daemon, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.daemons, n.err
}

func (n *fakeNode) Retry(key string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, d := range n.daemons {
		if d.Key == key {
			n.retried = append(n.retried, key)
			return true, nil
		}
	}
	return false, nil
}

func (n *fakeNode) Reconcile(ctx context.Context) Result {
	if n.hang {
		<-ctx.Done()
		return Result{Outcome: OutcomeFailed, Error: ctx.Err().Error()}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	n.passes++
	return Result{Revision: "abc", Outcome: OutcomeApplied, Changes: []string{"added acme/main/reverb"}}
}

func (n *fakeNode) Event(ev Event) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if len(n.events) >= n.room {
		return ErrQueueFull
	}
	n.events = append(n.events, ev)
	return nil
}

// newFakeNode is a node running acme/main/queue and acme/main/reverb,
// with room for one event.
func newFakeNode() *fakeNode {
	port := 20001
	return &fakeNode{
		status: Status{Node: "web-1a", Revision: "abc", LastResult: OutcomeApplied, Daemons: map[string]int{"running": 2}, History: []History{}},
		daemons: []Daemon{
			{Key: "acme/main/queue", Name: "queue", Status: "running", Environment: map[string]string{"SECRET": Redacted}, PIDs: []int{}},
			{Key: "acme/main/reverb", Name: "reverb", Status: "running", ProxyPort: &port, Environment: map[string]string{}, PIDs: []int{42}},
		},
		room: 1,
	}
}

var errStore = errors.New("read store: disk on fire")

func (n *fakeNode) RequestPass() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.requested++
}

// Suspend holds the fake node at its revision; a second call finds it
// held.
func (n *fakeNode) Suspend(reason string) (Suspended, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.status.Suspension; s != nil {
		return Suspended{Suspension: *s, Already: true}, nil
	}
	n.status.Suspension = &Suspension{Revision: n.status.Revision, Reason: reason}
	return Suspended{Suspension: *n.status.Suspension}, nil
}

func (n *fakeNode) Resume(ctx context.Context) Resumed {
	n.mu.Lock()
	s := n.status.Suspension
	n.status.Suspension = nil
	n.mu.Unlock()
	if s == nil {
		return Resumed{}
	}
	res := n.Reconcile(ctx)
	return Resumed{Lifted: s, Pass: &res}
}

// Rollback goes to "old" only, and refuses anything else.
func (n *fakeNode) Rollback(ctx context.Context, rev, reason string) (Result, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if rev != "old" && rev != "" {
		return Result{}, fmt.Errorf("revision %q is not one this node applied: %w", rev, ErrRefused)
	}
	n.status.Suspension = &Suspension{Revision: "old", Reason: reason, RolledBackFrom: n.status.Revision}
	n.status.Revision = "old"
	return Result{Revision: "old", Outcome: OutcomeApplied, Changes: []string{}, Suspension: n.status.Suspension}, nil
}

// Logs answers the fake's log of a daemon: its query, as the handler read
// it, echoed in Data.
func (n *fakeNode) Logs(ctx context.Context, key string, q LogQuery) (Logs, bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, d := range n.daemons {
		if d.Key == key {
			return Logs{Key: key, Stream: q.Stream, Procs: []ProcessLog{{Process: d.Name, Data: fmt.Sprintf("%d %v\x1b[31m", q.Bytes, q.From), Offset: 7}}}, true, nil
		}
	}
	return Logs{}, false, nil
}

// Restart refuses acme/main/queue, a singleton in standby.
func (n *fakeNode) Restart(key string) (bool, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, d := range n.daemons {
		if d.Key == key && d.Name == "queue" {
			return true, fmt.Errorf("%w: %s is a singleton in standby", ErrRefused, key)
		}
		if d.Key == key {
			n.restarted = append(n.restarted, key)
			return true, nil
		}
	}
	return false, nil
}
