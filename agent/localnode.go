package agent

import (
	"context"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/reconcile"
)

// apiNode is the agent as the local API sees it: localapi.Handler asks it,
// and it asks the reconciler (its snapshot.go answers in the API's types)
// or queues the event for the loop.
type apiNode struct{ a *Agent }

func (n apiNode) Name() string                        { return n.a.cfg.Node }
func (n apiNode) Daemons() ([]localapi.Daemon, error) { return n.a.rec.Daemons() }

// Status reports the node, with its pool when it has one.
func (n apiNode) Status() (localapi.Status, error) {
	s, err := n.a.rec.Status()
	if err == nil && n.a.live != nil {
		s.Pool = n.a.live.status()
	}
	return s, err
}

func (n apiNode) Retry(key string) (bool, error) { return n.a.rec.Retry(key) }

// Logs reads a daemon's output (drover logs).
func (n apiNode) Logs(ctx context.Context, key string, q localapi.LogQuery) (localapi.Logs, bool, error) {
	return n.a.rec.Logs(ctx, key, q)
}

// Restart restarts a daemon, an operator's action (drover restart).
func (n apiNode) Restart(key string) (bool, error) { return n.a.rec.Restart(key) }

// RequestPass asks the loop for a full pass (drover reconcile --no-wait).
func (n apiNode) RequestPass() { n.a.rec.RequestPass() }

// Reconcile runs a full pass. A client that goes away must not cut the
// pass short; the restarts it started are waited for as long as the client
// waits.
func (n apiNode) Reconcile(ctx context.Context) localapi.Result {
	res := n.a.rec.Reconcile(context.WithoutCancel(ctx), true)
	n.a.rec.Settle(ctx, res)
	return res.Report()
}

// Suspend holds the node at its revision (drover suspend).
func (n apiNode) Suspend(reason string) (localapi.Suspended, error) {
	s, already, err := n.a.rec.Suspend(reason)
	if err != nil {
		return localapi.Suspended{}, err
	}
	return localapi.Suspended{Suspension: *reconcile.APISuspension(&s), Already: already}, nil
}

// Resume lifts the hold and, when there was one, runs a full pass as
// Reconcile does: the head is applied.
func (n apiNode) Resume(ctx context.Context) localapi.Resumed {
	lifted, err := n.a.rec.Resume()
	if err != nil {
		return localapi.Resumed{Pass: &localapi.Result{Outcome: reconcile.OutcomeFailed, Changes: []string{}, Error: err.Error()}}
	}
	if lifted == nil {
		return localapi.Resumed{}
	}
	res := n.Reconcile(ctx)
	return localapi.Resumed{Lifted: reconcile.APISuspension(lifted), Pass: &res}
}

// Rollback applies an earlier revision and holds the node there; the
// restarts are waited for as Reconcile's are.
func (n apiNode) Rollback(ctx context.Context, rev, reason string) (localapi.Result, error) {
	res, err := n.a.rec.Rollback(context.WithoutCancel(ctx), rev, reason)
	if err != nil {
		return localapi.Result{}, err
	}
	n.a.rec.Settle(ctx, res)
	return res.Report(), nil
}

// Event queues a supervisord event for eventLoop (eventloop.go).
func (n apiNode) Event(ev localapi.Event) error {
	n.a.rec.Poke() // a restart in flight may have moved on
	select {
	case n.a.events <- ev:
		return nil
	default:
		return localapi.ErrQueueFull
	}
}

var _ localapi.Node = apiNode{}
