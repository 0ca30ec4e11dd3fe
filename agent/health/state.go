// Package health probes the health checks of proxied daemons (a daemon's
// health block): an HTTP GET to the daemon's $HOST:$PORT every interval,
// the daemon healthy or unhealthy from the answers, and a restart after
// its failures in a row, backing off between restarts (design.md §6.17).
//
// The decisions are pure (state.go: a daemon's State and what follows a
// probe, the schedule, the backoff); the probe (probe.go) and the loop that
// runs them (checker.go) are the side effects.
package health

import (
	"math/rand/v2"
	"time"

	"github.com/drover-sh/drover/agent/restart"
)

// Check is a daemon's health block.
type Check struct {
	// Path is the request target, checked by spec.
	Path     string
	Interval time.Duration
	Timeout  time.Duration
	// Failures is how many failed probes in a row restart the daemon.
	Failures    int
	StartPeriod time.Duration
}

// Status is what the probes say of a daemon.
type Status string

const (
	// NotChecked: not probed since the process started (within its
	// grace), or the daemon does not run: neither healthy nor unhealthy.
	NotChecked Status = "not checked"
	// Healthy: the last probe answered 2xx or 3xx.
	Healthy Status = "healthy"
	// Unhealthy: the last probe failed.
	Unhealthy Status = "unhealthy"
)

// The backoff between health restarts of one daemon: the first restart
// comes as soon as the failures allow, the next not before FirstBackoff
// later, doubling with each restart in a row, at most MaxBackoff; a daemon
// healthy for ResetAfter starts the series again.
const (
	FirstBackoff = time.Minute
	MaxBackoff   = 30 * time.Minute
	ResetAfter   = 10 * time.Minute
)

// Backoff is the wait after the nth health restart in a row (n >= 1).
func Backoff(n int) time.Duration { return restart.Doubling(FirstBackoff, MaxBackoff, n) }

// Run tells one run of a daemon's processes from the next: when it became
// running and its first PID.
type Run struct {
	Since time.Time
	PID   int
}

// State is what the agent knows of one daemon's health. The zero State
// is a daemon never probed.
type State struct {
	Status Status
	// Reason is why the last probe failed (while Unhealthy).
	Reason string
	// Since is when Status last changed.
	Since time.Time
	// Failures counts the failed probes in a row of this run.
	Failures int
	// LastProbe is when the last probe ended.
	LastProbe time.Time
	// Run is the run the probes are about.
	Run Run
	// Restarts counts the health restarts in a row (the backoff's n);
	// NextRestart is the earliest time of the next one (zero: any time).
	Restarts    int
	NextRestart time.Time
	// Restarting is set from a restart until a new run is seen (or the
	// backoff passes, in case the restart did nothing): no probe of the
	// old run counts.
	Restarting bool
}

// Result is how one probe ended.
type Result struct {
	// Kind is the metric's result label: ResultHealthy, ResultStatus,
	// ResultTimeout, ResultRefused or ResultError.
	Kind string
	// Reason says why a probe failed, in the agent's words with the
	// tenant's text bounded and cleaned ("HTTP 500: database down").
	Reason string
}

// The kinds of Result.
const (
	ResultHealthy = "healthy"
	ResultStatus  = "status"  // answered, not 2xx or 3xx
	ResultTimeout = "timeout" // no answer within the timeout
	ResultRefused = "refused" // the connection was refused: nothing listens
	ResultError   = "error"   // reset, malformed answer, …
)

// ResultKinds lists every Kind, for the metric's labels.
var ResultKinds = []string{ResultHealthy, ResultStatus, ResultTimeout, ResultRefused, ResultError}

// OK reports whether the probe found the daemon healthy.
func (r Result) OK() bool { return r.Kind == ResultHealthy }

// Idle is the state of a daemon that does not run now: not checked, its
// backoff kept.
func (s State) Idle(now time.Time) State {
	if s.Status != NotChecked || s.Run != (Run{}) {
		s.Status, s.Reason, s.Failures, s.Since = NotChecked, "", 0, now
	}
	s.Run, s.Restarting = Run{}, false
	return s
}

// Started is the state when the daemon is seen in run r: a new run starts
// not checked, its failures at zero, its backoff kept.
func (s State) Started(r Run, now time.Time) State {
	if s.Run == r && r != (Run{}) {
		return s
	}
	s.Run, s.Status, s.Reason, s.Failures, s.Since, s.Restarting = r, NotChecked, "", 0, now, false
	return s
}

// FirstProbe is when the first probe of a run that started at started
// comes: after the start period and one interval, and a random part of
// another interval so that daemons started together (or found running by
// an agent that just started) are not probed together; never before now.
func FirstProbe(c Check, started, now time.Time, rnd *rand.Rand) time.Time {
	at := started.Add(c.StartPeriod + c.Interval)
	if at.Before(now) {
		at = now
	}
	return at.Add(Jitter(c.Interval, rnd))
}

// NextProbe is when the probe after one scheduled at last comes: one
// interval later, keeping the daemon's phase; a probe that ran late (a
// slow answer, a busy node) is not followed by a burst to catch up.
func NextProbe(c Check, last, now time.Time, rnd *rand.Rand) time.Time {
	at := last.Add(c.Interval)
	if at.Before(now) {
		at = now.Add(Jitter(c.Interval, rnd))
	}
	return at
}

// Jitter is a random duration below interval.
func Jitter(interval time.Duration, rnd *rand.Rand) time.Duration {
	if interval <= 0 {
		return 0
	}
	return time.Duration(rnd.Int64N(int64(interval)))
}

// Decision is what follows a probe.
type Decision int

const (
	// Wait: nothing to do.
	Wait Decision = iota
	// Restart the daemon now.
	Restart
	// Held: the failures call for a restart, the backoff forbids it
	// until NextRestart.
	Held
)

// Observe is the state after probe r of a daemon with check c ended at
// now, and what to do.
func (s State) Observe(c Check, r Result, now time.Time) (State, Decision) {
	s.LastProbe = now
	if r.OK() {
		if s.Status != Healthy {
			s.Status, s.Since = Healthy, now
		}
		s.Reason, s.Failures = "", 0
		if s.Restarts > 0 && now.Sub(s.Since) >= ResetAfter {
			s.Restarts, s.NextRestart = 0, time.Time{}
		}
		return s, Wait
	}
	if s.Status != Unhealthy {
		s.Status, s.Since = Unhealthy, now
	}
	s.Reason = r.Reason
	s.Failures++
	if s.Failures < c.Failures {
		return s, Wait
	}
	if now.Before(s.NextRestart) {
		return s, Held
	}
	s.Restarts++
	s.NextRestart = now.Add(Backoff(s.Restarts))
	s.Restarting = true
	return s, Restart
}

// Probing reports whether a probe of the daemon's run counts now: not
// while a restart it asked for is under way (until the backoff passes, in
// case the restart did not happen).
func (s State) Probing(now time.Time) bool {
	return !s.Restarting || !now.Before(s.NextRestart)
}
