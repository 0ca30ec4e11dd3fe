package health

import (
	"context"
	"io"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeDaemons models the agent's daemons: which run in which run, and a
// restart that starts a new run.
type fakeDaemons struct {
	mu       sync.Mutex
	runs     map[string]Run // absent: not running
	restarts map[string][]string
}

func newFakeDaemons() *fakeDaemons {
	return &fakeDaemons{runs: map[string]Run{}, restarts: map[string][]string{}}
}

func (f *fakeDaemons) Running(key string) (Run, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[key]
	return r, ok
}

func (f *fakeDaemons) Restart(key, reason string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.runs[key]
	if !ok {
		return false
	}
	f.restarts[key] = append(f.restarts[key], reason)
	f.runs[key] = Run{Since: time.Now(), PID: r.PID + 1}
	return true
}

func (f *fakeDaemons) set(key string, r Run, running bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if running {
		f.runs[key] = r
	} else {
		delete(f.runs, key)
	}
}

func (f *fakeDaemons) restarted(key string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.restarts[key]...)
}

// answers is what the fake probe answers, by key.
type answers struct {
	mu     sync.Mutex
	by     map[string]Result
	probed map[string]int
}

func (a *answers) probe(_ context.Context, t Target) Result {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.probed[t.Key]++
	return a.by[t.Key]
}

func (a *answers) set(key string, r Result) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.by[key] = r
}

func (a *answers) count(key string) int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.probed[key]
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func fastCheck() Check {
	return Check{Path: "/healthz", Interval: 20 * time.Millisecond, Timeout: 10 * time.Millisecond, Failures: 3}
}

// waitFor polls cond for up to 5 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func startChecker(t *testing.T, c *Checker) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// TestCheckerRestartsUnhealthy: a healthy daemon whose probes start to
// fail is unhealthy, restarted after its failures in a row with the last
// reason, probed again in its new run (not checked until then) and healthy
// when it recovers; failing again at once, it is held by the backoff, not
// restarted in a loop.
func TestCheckerRestartsUnhealthy(t *testing.T) {
	ds, ans := newFakeDaemons(), &answers{by: map[string]Result{}, probed: map[string]int{}}
	key := "acme/main/web"
	ds.set(key, Run{Since: time.Now().Add(-time.Hour), PID: 10}, true)
	ans.set(key, Result{Kind: ResultHealthy})
	c := NewChecker(Options{Daemons: ds, Probe: ans.probe, Log: quiet})
	c.Set([]Target{{Key: key, Check: fastCheck()}})
	startChecker(t, c)
	state := func() State { s, _, _ := c.State(key); return s }

	waitFor(t, "healthy", func() bool { return state().Status == Healthy })
	ans.set(key, Result{Kind: ResultStatus, Reason: "HTTP 500: down"})
	waitFor(t, "unhealthy", func() bool { return state().Status == Unhealthy })
	waitFor(t, "restarted", func() bool { return len(ds.restarted(key)) == 1 })
	if got := ds.restarted(key)[0]; got != "HTTP 500: down" {
		t.Errorf("restart reason %q", got)
	}
	// At once, before the loop looks again: the new run, not checked.
	if s := state(); s.Run.PID != 11 || s.Status != NotChecked || s.Failures != 0 || s.Restarts != 1 {
		t.Errorf("right after the restart: %+v, want the new run not checked, the backoff kept", s)
	}
	// Still failing: unhealthy again, held by the backoff (a minute).
	waitFor(t, "unhealthy again with 3 failures", func() bool { s := state(); return s.Run.PID == 11 && s.Failures >= 3 })
	time.Sleep(100 * time.Millisecond)
	if n := len(ds.restarted(key)); n != 1 {
		t.Errorf("%d restarts within the backoff, want 1", n)
	}
	if s := state(); s.Status != Unhealthy || s.NextRestart.Before(time.Now().Add(50*time.Second)) {
		t.Errorf("held: %s, next restart %s", s.Status, time.Until(s.NextRestart))
	}
	ans.set(key, Result{Kind: ResultHealthy})
	waitFor(t, "healthy again", func() bool { return state().Status == Healthy })
	if got := c.Unhealthy(); got != 0 {
		t.Errorf("unhealthy gauge %v, want 0", got)
	}
}

// TestCheckerSkipsStoppedDaemons: a daemon that does not run is never
// probed and not checked; removed, it has no state.
func TestCheckerSkipsStoppedDaemons(t *testing.T) {
	ds, ans := newFakeDaemons(), &answers{by: map[string]Result{}, probed: map[string]int{}}
	c := NewChecker(Options{Daemons: ds, Probe: ans.probe, Log: quiet})
	c.Set([]Target{{Key: "a/b/stopped", Check: fastCheck()}, {Key: "a/b/up", Check: fastCheck()}})
	ds.set("a/b/up", Run{Since: time.Now().Add(-time.Hour), PID: 5}, true)
	ans.set("a/b/up", Result{Kind: ResultHealthy})
	startChecker(t, c)
	waitFor(t, "a/b/up probed 3 times", func() bool { return ans.count("a/b/up") >= 3 })
	if n := ans.count("a/b/stopped"); n != 0 {
		t.Errorf("a stopped daemon was probed %d times", n)
	}
	if s, _, ok := c.State("a/b/stopped"); !ok || s.Status != NotChecked {
		t.Errorf("stopped: %v %v", s.Status, ok)
	}
	c.Set([]Target{{Key: "a/b/stopped", Check: fastCheck()}})
	if _, _, ok := c.State("a/b/up"); ok {
		t.Errorf("a removed daemon still has a state")
	}
}

// TestCheckerGraceOfANewRun: a run that just started is not probed
// before its start period and an interval.
func TestCheckerGraceOfANewRun(t *testing.T) {
	ds, ans := newFakeDaemons(), &answers{by: map[string]Result{}, probed: map[string]int{}}
	chk := fastCheck()
	chk.StartPeriod = 300 * time.Millisecond
	started := time.Now()
	ds.set("a/b/slow", Run{Since: started, PID: 7}, true)
	ans.set("a/b/slow", Result{Kind: ResultRefused, Reason: "connection refused"})
	c := NewChecker(Options{Daemons: ds, Probe: ans.probe, Log: quiet})
	c.Set([]Target{{Key: "a/b/slow", Check: chk}})
	startChecker(t, c)
	waitFor(t, "probed", func() bool { return ans.count("a/b/slow") > 0 })
	if took := time.Since(started); took < chk.StartPeriod+chk.Interval {
		t.Errorf("first probe %s after the start, want at least %s", took, chk.StartPeriod+chk.Interval)
	}
}

// TestCheckerBoundsConcurrency: no more than MaxConcurrent probes are in
// flight, however many are due.
func TestCheckerBoundsConcurrency(t *testing.T) {
	ds := newFakeDaemons()
	var inflight, most atomic.Int32
	var probes atomic.Int32
	slow := func(ctx context.Context, _ Target) Result {
		n := inflight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
		inflight.Add(-1)
		probes.Add(1)
		return Result{Kind: ResultHealthy}
	}
	c := NewChecker(Options{Daemons: ds, Probe: slow, MaxConcurrent: 4, Log: quiet})
	var ts []Target
	for i := range 100 {
		key := "t/w/d" + string(rune('a'+i%26)) + string(rune('a'+i/26))
		ds.set(key, Run{Since: time.Now().Add(-time.Hour), PID: i + 1}, true)
		ts = append(ts, Target{Key: key, Addr: netip.MustParseAddrPort("[::1]:1"), Check: fastCheck()})
	}
	c.Set(ts)
	startChecker(t, c)
	waitFor(t, "200 probes", func() bool { return probes.Load() >= 200 })
	if m := most.Load(); m > 4 {
		t.Errorf("%d probes in flight at once, want at most 4", m)
	}
}
