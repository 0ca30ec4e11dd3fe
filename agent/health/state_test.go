package health

import (
	"math/rand/v2"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)

var (
	ok       = Result{Kind: ResultHealthy}
	http500  = Result{Kind: ResultStatus, Reason: "HTTP 500: database down"}
	refused  = Result{Kind: ResultRefused, Reason: "connection refused"}
	check3   = Check{Path: "/healthz", Interval: 10 * time.Second, Timeout: 2 * time.Second, Failures: 3}
	firstRun = Run{Since: t0, PID: 100}
)

func TestBackoffDoublesToMax(t *testing.T) {
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}

// clock is a fake clock a test moves by hand.
type clock struct{ now time.Time }

func (c *clock) after(d time.Duration) time.Time { c.now = c.now.Add(d); return c.now }

// TestObserveRestartsAfterFailuresInARow: a failing daemon is unhealthy
// from its first failed probe, counts its failures in a row, and is
// restarted at the third; a success in between starts the count again.
func TestObserveRestartsAfterFailuresInARow(t *testing.T) {
	c := &clock{now: t0}
	s := State{}.Started(firstRun, c.now)
	if s.Status != NotChecked {
		t.Fatalf("a new run is %q, want not checked", s.Status)
	}
	steps := []struct {
		res      Result
		status   Status
		failures int
		dec      Decision
	}{
		{ok, Healthy, 0, Wait},
		{http500, Unhealthy, 1, Wait},
		{http500, Unhealthy, 2, Wait},
		{ok, Healthy, 0, Wait}, // recovered: the count starts again
		{refused, Unhealthy, 1, Wait},
		{http500, Unhealthy, 2, Wait},
		{http500, Unhealthy, 3, Restart},
	}
	for i, st := range steps {
		var dec Decision
		prev := s.Status
		s, dec = s.Observe(check3, st.res, c.after(10*time.Second))
		if s.Status != st.status || s.Failures != st.failures || dec != st.dec {
			t.Fatalf("probe %d (%s): %s, %d failures, decision %d; want %s, %d, %d", i, st.res.Kind, s.Status, s.Failures, dec, st.status, st.failures, st.dec)
		}
		if prev != s.Status && !s.Since.Equal(c.now) {
			t.Errorf("probe %d: status changed, since %s, want now", i, s.Since)
		}
		if st.status == Unhealthy && s.Reason != st.res.Reason {
			t.Errorf("probe %d: reason %q, want %q", i, s.Reason, st.res.Reason)
		}
	}
	if !s.Restarting || s.Restarts != 1 || !s.NextRestart.Equal(c.now.Add(FirstBackoff)) {
		t.Errorf("after the restart: restarting %v, restarts %d, next %s; want true, 1, now+%s", s.Restarting, s.Restarts, s.NextRestart, FirstBackoff)
	}
	if s.Probing(c.now.Add(time.Second)) {
		t.Errorf("probes of the old run count while its restart is under way")
	}
}

// TestObserveBacksOffBetweenRestarts: a daemon that keeps failing after
// its restarts is restarted again only after the backoff, doubling; it is
// held (still unhealthy) meanwhile; healthy for ResetAfter, the series
// starts again.
func TestObserveBacksOffBetweenRestarts(t *testing.T) {
	c := &clock{now: t0}
	one := Check{Path: "/", Interval: 10 * time.Second, Timeout: time.Second, Failures: 1}
	s := State{}.Started(firstRun, c.now)
	pid := 100
	restartAt := func() time.Time {
		// Fail until restarted, a new run after each restart.
		for range 1000 {
			var dec Decision
			s, dec = s.Observe(one, http500, c.after(10*time.Second))
			switch dec {
			case Restart:
				at := c.now
				pid++
				s = s.Started(Run{Since: c.after(time.Second), PID: pid}, c.now)
				return at
			case Held:
				if s.Status != Unhealthy || s.Restarting {
					t.Fatalf("held: %s restarting %v", s.Status, s.Restarting)
				}
			}
		}
		t.Fatal("never restarted")
		return time.Time{}
	}
	first := restartAt()
	var gaps []time.Duration
	prev := first
	for range 7 {
		at := restartAt()
		gaps = append(gaps, at.Sub(prev))
		prev = at
	}
	// Each gap is the backoff rounded up to the probes (10 s) plus the
	// second the new run took to start.
	want := []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute, 16 * time.Minute, 30 * time.Minute, 30 * time.Minute}
	for i, g := range gaps {
		if g < want[i] || g > want[i]+11*time.Second {
			t.Errorf("restart %d came %s after the one before, want %s (to the next probe)", i+2, g, want[i])
		}
	}
	if s.Status != NotChecked || s.Failures != 0 || s.Restarts != 8 {
		t.Errorf("a new run: %s, %d failures, %d restarts; want not checked, 0, 8 (the backoff is kept)", s.Status, s.Failures, s.Restarts)
	}

	// Healthy for less than ResetAfter: the series goes on.
	s, _ = s.Observe(one, ok, c.after(10*time.Second))
	s, _ = s.Observe(one, ok, c.after(ResetAfter-time.Second))
	if s.Restarts != 8 {
		t.Errorf("healthy for less than %s: restarts %d, want 8", ResetAfter, s.Restarts)
	}
	s, _ = s.Observe(one, ok, c.after(time.Second))
	if s.Restarts != 0 || !s.NextRestart.IsZero() {
		t.Errorf("healthy for %s: restarts %d, next %s; want the series reset", ResetAfter, s.Restarts, s.NextRestart)
	}
	s, dec := s.Observe(one, http500, c.after(10*time.Second))
	if dec != Restart {
		t.Errorf("the first failure after the reset: decision %d, want a restart at once", dec)
	}
}

// TestRestartThatDidNothing: a restart that never produced a new run lets
// probes count again once the backoff passed, and restarts again.
func TestRestartThatDidNothing(t *testing.T) {
	c := &clock{now: t0}
	s := State{}.Started(firstRun, c.now)
	one := Check{Path: "/", Interval: 10 * time.Second, Timeout: time.Second, Failures: 1}
	s, dec := s.Observe(one, http500, c.after(10*time.Second))
	if dec != Restart {
		t.Fatalf("decision %d, want a restart", dec)
	}
	if s.Probing(c.after(FirstBackoff - time.Second)) {
		t.Errorf("probing before the backoff passed")
	}
	if !s.Probing(c.after(time.Second)) {
		t.Fatalf("not probing once the backoff passed")
	}
	if s, dec = s.Observe(one, http500, c.now); dec != Restart || s.Restarts != 2 {
		t.Errorf("decision %d, restarts %d; want a second restart", dec, s.Restarts)
	}
}

// TestIdleAndStarted: a daemon that stops is not checked (its failures
// forgotten, its backoff kept); the same run seen again changes nothing.
func TestIdleAndStarted(t *testing.T) {
	c := &clock{now: t0}
	s := State{}.Started(firstRun, c.now)
	s, _ = s.Observe(check3, http500, c.after(10*time.Second))
	s.Restarts, s.NextRestart = 2, c.now.Add(time.Hour)
	same := s.Started(firstRun, c.after(time.Second))
	if same != s {
		t.Errorf("the same run changed the state: %+v → %+v", s, same)
	}
	idle := s.Idle(c.after(time.Second))
	if idle.Status != NotChecked || idle.Failures != 0 || idle.Reason != "" || !idle.Since.Equal(c.now) || idle.Run != (Run{}) {
		t.Errorf("idle: %+v", idle)
	}
	if idle.Restarts != 2 || !idle.NextRestart.Equal(s.NextRestart) {
		t.Errorf("idle lost the backoff: %+v", idle)
	}
	if again := idle.Idle(c.after(time.Minute)); !again.Since.Equal(idle.Since) {
		t.Errorf("idle again moved since: %s → %s", idle.Since, again.Since)
	}
}

// TestScheduleSpreadsProbes: daemons found running together have their
// first probes spread over an interval after the grace; a run keeps its
// phase; a late probe is not followed by a burst.
func TestScheduleSpreadsProbes(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	c := Check{Interval: 10 * time.Second, StartPeriod: 30 * time.Second}
	// A fresh start: after start_period and an interval, within one more.
	for range 100 {
		at := FirstProbe(c, t0, t0, rnd)
		if d := at.Sub(t0); d < 40*time.Second || d >= 50*time.Second {
			t.Fatalf("first probe %s after the start, want in [40s, 50s)", d)
		}
	}
	// Found running long ago by an agent that just started: within an
	// interval from now, spread.
	now := t0.Add(time.Hour)
	buckets := make([]int, 10)
	for range 3000 {
		d := FirstProbe(c, t0, now, rnd).Sub(now)
		if d < 0 || d >= c.Interval {
			t.Fatalf("first probe %s from now, want in [0, 10s)", d)
		}
		buckets[d/time.Second]++
	}
	for i, n := range buckets {
		if n < 200 || n > 400 {
			t.Errorf("second %d of the interval has %d of 3000 first probes, want about 300", i, n)
		}
	}
	if got := NextProbe(c, t0, t0.Add(3*time.Second), rnd); !got.Equal(t0.Add(10 * time.Second)) {
		t.Errorf("next probe %s, want the phase kept (t0+10s)", got)
	}
	late := t0.Add(25 * time.Second)
	if got := NextProbe(c, t0, late, rnd); got.Before(late) || got.Sub(late) >= c.Interval {
		t.Errorf("after a late probe: next at %s, want within an interval from now", got.Sub(late))
	}
}
