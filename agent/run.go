package agent

import (
	"context"
	"os"
	"strings"
	"time"

	"github.com/drover-sh/drover/agent/pool"
	"github.com/drover-sh/drover/agent/reconcile"
)

// Run is the long-running agent: it re-applies the stored state, then
// reconciles on every trigger (poll interval, webhook, drover reconcile, a
// local commit, a due retry) and repairs hand-made changes to managed files,
// until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.prepareDirs(); err != nil {
		return err
	}
	a.rec.ResumeRetries()
	if res := a.rec.Restore(ctx); res.Err != nil {
		a.log.Error("re-applying the stored state failed", "error", res.Err)
	}
	a.followShard()
	w, err := a.watch(ctx)
	if err != nil {
		return err
	}
	defer w.Close()
	deploys, err := newDeployWatch(a.rec, a.log)
	if err != nil {
		return err
	}
	defer deploys.Close()
	go deploys.run(ctx)
	// Health checks run beside the loop: a pass that waits for a hung
	// Git server delays no probe (reconcile/health.go).
	healthDone := make(chan struct{})
	go func() { a.rec.RunHealth(ctx); close(healthDone) }()
	defer func() { <-healthDone }()

	poll := time.NewTicker(a.cfg.Source.PollInterval)
	defer poll.Stop()
	if a.cfg.Network != nil { // the reconciler has a network applier
		go every(ctx, networkCheck, nil, func() { a.rec.CheckNetwork(ctx) })
	}
	checkNow := make(chan struct{}, 1)
	// The node's conditions are looked for beside the loop: a supervisord
	// that hangs delays the check, not the passes.
	go every(ctx, nodeCheck, checkNow, func() { a.rec.CheckNode(ctx) })
	if a.live != nil {
		defer a.live.close()
		// Beside the loop: a pass that waits for a hung Git server or
		// supervisord holds up neither the lease nor a failover.
		go every(ctx, pool.PingInterval, nil, func() { a.live.renew(a.rec.SingletonPrograms()) })
		go a.followPool(ctx)
	}
	pass := true
	for {
		if pass {
			res := a.rec.Reconcile(ctx, false)
			if res.Err != nil && res.Outcome != reconcile.OutcomeUnchanged {
				msg, _, _ := strings.Cut(res.Err.Error(), "\n")
				a.log.Warn("reconcile did not converge", "outcome", res.Outcome, "error", msg)
			}
			select {
			case checkNow <- struct{}{}:
			default: // a check is asked for already
			}
			deploys.Resync()
			a.followShard()
		}
		pass = true
		var retry <-chan time.Time
		if at := a.rec.NextRetry(); !at.IsZero() {
			retry = time.After(time.Until(at))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-a.wake:
		case <-retry:
			// Processes that ended are started again without a pass;
			// a pass runs when a retry of one is due too.
			a.rec.StartDue(ctx)
			pass = a.rec.RetryDue()
		}
	}
}

// followPool places the running revision again whenever the pool reports
// a change and when a decision's time comes (a dead node's daemons due to
// move, a failback done, the singletons' gate opening), until ctx ends.
func (a *Agent) followPool(ctx context.Context) {
	for {
		var next <-chan time.Time
		if at := a.rec.NextLive(); !at.IsZero() {
			next = time.After(time.Until(at))
		}
		select {
		case <-ctx.Done():
			return
		case <-a.live.changed:
		case <-next:
		}
		a.rec.Replan(ctx)
	}
}

// followShard starts the pool once a revision names the node's shard and
// keeps it on the shard's nodes (liveness.go).
func (a *Agent) followShard() {
	if a.live != nil {
		a.live.follow(a.rec.Shard())
	}
}

// every calls f every interval, and whenever now has a value (nil: never),
// until ctx ends.
func every(ctx context.Context, interval time.Duration, now <-chan struct{}, f func()) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-now:
		}
		f()
	}
}

// networkCheck is how often the agent compares the machine's addresses,
// routes and nftables table with the stored state, to repair drift (an
// address deleted by hand, a flushed table) within a couple of seconds.
const networkCheck = time.Second

// nodeCheck is how often the agent looks for the node's conditions
// (nginx not running or its workers blocked, supervisord not answering,
// the network not applied); it also looks after every pass.
const nodeCheck = 10 * time.Second

// prepareDirs creates the directories drover installs into, so they can be
// watched from the start.
func (a *Agent) prepareDirs() error {
	for _, d := range a.layout.Dirs() {
		mode := os.FileMode(0o755)
		if d == a.opts.ExecDir() {
			mode = 0o700
		}
		if err := os.MkdirAll(d, mode); err != nil {
			return err
		}
	}
	return nil
}

// Once is `drover agent --once`: re-apply the stored state, run one full
// reconcile, wait for the restarts it started, and report it.
func (a *Agent) Once(ctx context.Context) *reconcile.Result {
	a.rec.WaitForStarts()
	if err := a.prepareDirs(); err != nil {
		return &reconcile.Result{Outcome: reconcile.OutcomeFailed, Err: err}
	}
	restored := a.rec.Restore(ctx)
	if restored.Err != nil {
		a.log.Error("re-applying the stored state failed", "error", restored.Err)
	}
	res := a.rec.Reconcile(ctx, false)
	a.rec.Settle(ctx, res)
	var changes []string
	for _, c := range restored.Changes {
		changes = append(changes, "re-applied from the store: "+c)
	}
	res.Changes = append(changes, res.Changes...)
	return res
}
