package main

import (
	"context"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

// drover retry asks the agent for the retry (POST …/retry), then reads the
// daemon (GET /v1/daemons/KEY) until the attempt the retry started has an
// outcome, or the timeout passes. The waiting is the CLI's, not the
// agent's: the agent's handlers stay answers from its snapshot, and every
// call of the wait is one bounded GET.

// Daemon statuses as the API reports them (design.md §7).
const (
	statusProvisioning = "provisioning"
	statusRunning      = "running"
	statusStopped      = "stopped"
	statusCrashLooping = "crash-looping"
	statusFailed       = "failed"
)

// supervisordResolution is how precise supervisord's recorded start and
// stop times are: whole seconds.
const supervisordResolution = time.Second

// retryWait follows a daemon after its retry was asked for.
type retryWait struct {
	timeout time.Duration // how long to wait for the outcome at most
	poll    time.Duration // between two reads of the daemon
}

// defaultRetryWait is drover retry's, but for --timeout.
var defaultRetryWait = retryWait{timeout: time.Minute, poll: 200 * time.Millisecond}

// follow reads the daemon key until it answers the retry asked at asked
// (before is the daemon read just before). It returns the last state read
// and whether it is the outcome (false: the timeout passed first).
func (w retryWait) follow(ctx context.Context, c *localapi.Client, key string, before localapi.Daemon, asked time.Time) (localapi.Daemon, bool, error) {
	return w.until(ctx, c, key, before, func(d localapi.Daemon, now time.Time) bool { return answers(before, d, asked, now) })
}

// until reads the daemon key until done says a state read is the outcome
// (before is the daemon read before the action). It returns the last state
// read and whether it is the outcome (false: the timeout passed first).
func (w retryWait) until(ctx context.Context, c *localapi.Client, key string, before localapi.Daemon, done func(d localapi.Daemon, now time.Time) bool) (localapi.Daemon, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	d := before
	for {
		got, err := c.Daemon(ctx, key)
		if ctx.Err() != nil {
			return d, false, nil
		}
		if err != nil {
			return d, false, err
		}
		d = got
		if done(d, time.Now()) {
			return d, true, nil
		}
		select {
		case <-ctx.Done():
			return d, false, nil
		case <-time.After(w.poll):
		}
	}
}

// answers reports whether d, read at now, is the outcome of a retry asked
// at asked of a daemon that was before: d is no longer on its way
// somewhere, and it is news — updated after the retry was asked, or the
// end of a run that was being watched, or an apply failure that failed
// the same way again (only its next retry moved).
func answers(before, d localapi.Daemon, asked, now time.Time) bool {
	if transitional(d, now) {
		return false
	}
	return d.UpdatedAt.After(asked) ||
		before.Status == statusRunning ||
		d.Status == statusFailed && d.NextRetry != nil && d.NextRetry.After(asked) &&
			(before.NextRetry == nil || !d.NextRetry.Equal(*before.NextRetry))
}

// transitional reports whether d is on its way somewhere: provisioning
// without a failed run behind it (starting, queued, started again after
// a clean exit), starting or started again, waiting for its restart, or
// running again after failed runs for less long than the last one ran —
// whether that run stays up is not known yet.
func transitional(d localapi.Daemon, now time.Time) bool {
	switch d.Status {
	case statusProvisioning:
		return d.FailedRuns == 0 || d.Settling
	case statusCrashLooping:
		return d.Settling
	case statusRunning:
		return d.FailedRuns > 0 && d.LastExit != nil && now.Before(watchEnd(d))
	}
	return false
}

// watchEnd is when a run that follows failed runs has outlasted the last
// one: running since d.Since (its process started before that, when
// supervisord's startsecs began), longer than the last run by
// supervisord's recorded times, give or take their resolution.
func watchEnd(d localapi.Daemon) time.Time {
	since := d.Since
	if since.IsZero() {
		since = d.UpdatedAt
	}
	x := d.LastExit
	ran := max(x.At.Sub(x.Started), 0)
	return since.Add(ran + supervisordResolution)
}

// settledWell reports whether a daemon's state is what a retry hopes for:
// running, or stopped because it is disabled.
func settledWell(d localapi.Daemon) bool {
	return d.Status == statusRunning || d.Status == statusStopped && d.Reason == "disabled"
}

// nothingToRetry reports whether a retry changes nothing for a daemon in
// state d: running (and not being watched after failed runs), or stopped.
func nothingToRetry(d localapi.Daemon, now time.Time) bool {
	return (d.Status == statusRunning || d.Status == statusStopped) && !transitional(d, now)
}

// outcomeLine is "KEY: STATUS: REASON" (without a reason, "KEY: STATUS").
func outcomeLine(d localapi.Daemon) string { return d.Key + ": " + state(d) }

// state is a daemon's status and its reason, if any.
func state(d localapi.Daemon) string {
	if d.Reason == "" {
		return d.Status
	}
	return d.Status + ": " + d.Reason
}
