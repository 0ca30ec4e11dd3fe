// Package restart decides what happens when a daemon's process ends: drover,
// not supervisord, starts processes again (programs are rendered with
// autorestart=false), so that a crash loop backs off for real, a clean exit
// of a worker that ends on purpose is started again, and the exit status
// is known. It is pure: how a run ended, the daemon's policy and its
// failures so far in, the decision out (design.md §6.7).
package restart

import (
	"fmt"
	"time"
)

// Policy is a daemon's restart attribute.
type Policy string

const (
	// Always starts a process again whatever its exit (the default).
	Always Policy = "always"
	// OnFailure leaves a process that exited 0 stopped, as supervisord's
	// autorestart=unexpected does.
	OnFailure Policy = "on-failure"
)

const (
	// StableRun is how long a run must last to end a series of failures:
	// its own failure then counts as the first again.
	StableRun = 10 * time.Minute
	// First and Max bound the backoff: First after the first failure,
	// doubling with every failure in a row, at most Max.
	First = 2 * time.Second
	Max   = 5 * time.Minute
	// CrashLoop is how many failed runs in a row make a daemon
	// crash-looping.
	CrashLoop = 3
)

// Backoff is the wait before the next try after n failures in a row (n >=
// 1): First, doubling, at most Max. The agent's retries of apply failures
// and of failed passes use it too.
func Backoff(n int) time.Duration { return Doubling(First, Max, n) }

// Doubling is the wait after the nth failure in a row (n >= 1) of a
// backoff that starts at first and doubles, at most max.
func Doubling(first, max time.Duration, n int) time.Duration {
	d := first
	for i := 1; i < n && d < max; i++ {
		d *= 2
	}
	return min(d, max)
}

// Exit is how a process's last run ended, as supervisord reports it.
type Exit struct {
	// State is supervisord's: EXITED (it ran at least startsecs, 1 s as
	// render writes it) or
	// FATAL (it ended sooner, or could not be spawned).
	State string
	// Status is the exit status; -1 when a signal killed the process
	// (supervisord does not say which).
	Status           int
	Started, Stopped time.Time
	// SpawnErr is why supervisord could not start it, if it could not.
	SpawnErr string
	// OOMKilled says the kernel's OOM killer ended it: its memory cgroup
	// counted one more kill (the daemon's max_memory_mb).
	OOMKilled bool
}

// Ran is how long the run lasted.
func (e Exit) Ran() time.Duration {
	if e.Started.IsZero() || e.Stopped.Before(e.Started) {
		return 0
	}
	return e.Stopped.Sub(e.Started)
}

// Failed tells a failure (a non-zero status, a signal, a run shorter than
// startsecs, a spawn error: the last two are what FATAL means) from a clean
// exit. supervisord's times have a resolution of a second, so the length
// of a run is its judgement (EXITED or FATAL), not Ran's.
func (e Exit) Failed() bool {
	return e.Status != 0 || e.State == "FATAL"
}

// String says how the run ended: "exit status 1 after 2s", "killed by a
// signal after 3m0s", "could not be started: …".
func (e Exit) String() string {
	if e.SpawnErr != "" && e.Status == 0 {
		return "could not be started: " + e.SpawnErr
	}
	how := fmt.Sprintf("exit status %d", e.Status)
	switch {
	case e.OOMKilled:
		how = "killed by the kernel for going over its memory limit (max_memory_mb)"
	case e.Status < 0:
		how = "killed by a signal"
	}
	return fmt.Sprintf("%s after %s", how, e.Ran().Round(100*time.Millisecond))
}

// Decision is what to do after an exit.
type Decision struct {
	// Start says the process is started again, at At (now: at once).
	Start bool
	At    time.Time
	// Failures is the count of failed runs in a row after this exit.
	Failures int
}

// CrashLooping reports whether the daemon has failed CrashLoop runs in a
// row.
func (d Decision) CrashLooping() bool { return d.Failures >= CrashLoop }

// Decide is what follows exit e of a daemon with policy p that had failed
// failures runs in a row before it. A clean exit is started again at once
// (Always) or left (OnFailure); a failure is started again after the
// backoff. A run that lasted StableRun ends the series of failures first.
func Decide(p Policy, failures int, e Exit, now time.Time) Decision {
	if e.Ran() >= StableRun {
		failures = 0
	}
	if !e.Failed() {
		return Decision{Start: p != OnFailure, At: now, Failures: failures}
	}
	failures++
	return Decision{Start: true, At: now.Add(Backoff(failures)), Failures: failures}
}
