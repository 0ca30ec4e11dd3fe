package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"
)

// Run is the long-running agent: it re-applies the stored state, then
// reconciles on every trigger (poll interval, webhook, drover reconcile, a
// local commit, a due retry) and repairs hand-made changes to managed files,
// until ctx ends.
func (a *Agent) Run(ctx context.Context) error {
	if err := a.prepareDirs(); err != nil {
		return err
	}
	a.mu.Lock()
	a.loadRetryAt()
	a.mu.Unlock()
	if res := a.Restore(ctx); res.Err != nil {
		a.log.Error("re-applying the stored state failed", "error", res.Err)
	}
	w, err := a.watch(ctx)
	if err != nil {
		return err
	}
	defer w.Close()

	poll := time.NewTicker(a.cfg.Source.PollInterval)
	defer poll.Stop()
	if a.net != nil {
		go func() {
			t := time.NewTicker(networkCheck)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
					a.checkNetwork(ctx)
				}
			}
		}()
	}
	for {
		res := a.Reconcile(ctx, false)
		if res.Err != nil && res.Outcome != OutcomeUnchanged {
			a.log.Warn("reconcile did not converge", "outcome", res.Outcome, "error", firstLine(res.Err.Error()))
		}
		var retry <-chan time.Time
		a.mu.Lock()
		if !a.retryAt.IsZero() {
			retry = time.After(time.Until(a.retryAt))
		}
		a.mu.Unlock()
		select {
		case <-ctx.Done():
			return nil
		case <-poll.C:
		case <-a.wake:
		case <-retry:
		}
	}
}

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
func (a *Agent) Once(ctx context.Context) *Result {
	a.settle = settleTime
	if err := a.prepareDirs(); err != nil {
		return &Result{Outcome: OutcomeFailed, Err: err}
	}
	restored := a.Restore(ctx)
	if restored.Err != nil {
		a.log.Error("re-applying the stored state failed", "error", restored.Err)
	}
	res := a.Reconcile(ctx, false)
	a.settleInto(ctx, res)
	var changes []string
	for _, c := range restored.Changes {
		changes = append(changes, "re-applied from the store: "+c)
	}
	res.Changes = append(changes, res.Changes...)
	return res
}

// settleInto waits for the background restarts and adds what they changed
// and what failed to res.
func (a *Agent) settleInto(ctx context.Context, res *Result) {
	changes, failed, err := a.Settle(ctx)
	res.Changes = append(res.Changes, changes...)
	if err != nil {
		res.Err = errors.Join(res.Err, fmt.Errorf("waiting for restarts: %w", err))
	}
	if len(failed) > 0 {
		a.mu.Lock()
		plan := a.plan
		a.mu.Unlock()
		if res.Failed == nil {
			res.Failed = map[string]string{}
		}
		for program, reason := range failed {
			res.Failed[keyIn(plan, program)] = reason
		}
		if res.Outcome == OutcomeApplied || res.Outcome == OutcomeUnchanged {
			res.Outcome = OutcomeFailed
		}
	}
}
