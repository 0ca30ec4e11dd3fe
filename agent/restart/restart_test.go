package restart

import (
	"strings"
	"testing"
	"time"
)

func TestBackoffDoublesToMax(t *testing.T) {
	want := []time.Duration{2 * time.Second, 4 * time.Second, 8 * time.Second, 16 * time.Second, 32 * time.Second,
		64 * time.Second, 128 * time.Second, 256 * time.Second, 5 * time.Minute, 5 * time.Minute}
	for i, w := range want {
		if got := Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %s, want %s", i+1, got, w)
		}
	}
}

func TestDecide(t *testing.T) {
	now := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	run := func(status int, ran time.Duration) Exit {
		return Exit{State: "EXITED", Status: status, Started: now.Add(-ran), Stopped: now}
	}
	for _, c := range []struct {
		name     string
		policy   Policy
		failures int
		exit     Exit
		start    bool
		wait     time.Duration
		after    int
	}{
		{"clean exit, always: at once, count kept", Always, 2, run(0, 2*time.Second), true, 0, 2},
		{"clean exit, on-failure: left", OnFailure, 0, run(0, time.Hour), false, 0, 0},
		{"failure after 2s: first backoff", Always, 0, run(1, 2*time.Second), true, 2 * time.Second, 1},
		{"third failure in a row: 8s, crash-looping", Always, 2, run(1, 2*time.Second), true, 8 * time.Second, 3},
		{"failure on-failure: backs off too", OnFailure, 1, run(2, time.Minute), true, 4 * time.Second, 2},
		{"a signal is a failure", Always, 0, run(-1, time.Minute), true, 2 * time.Second, 1},
		{"exit 0 too soon is a failure", Always, 4, Exit{State: "FATAL", Started: now, Stopped: now}, true, 32 * time.Second, 5},
		{"fatal is a failure", Always, 0, Exit{State: "FATAL", Status: 0, SpawnErr: "Exited too quickly", Started: now, Stopped: now}, true, 2 * time.Second, 1},
		{"a stable run ends the series", Always, 7, run(1, StableRun), true, 2 * time.Second, 1},
		{"the wait stops growing", Always, 20, run(1, time.Second*5), true, Max, 21},
	} {
		d := Decide(c.policy, c.failures, c.exit, now)
		if d.Start != c.start || (c.start && d.At.Sub(now) != c.wait) || d.Failures != c.after {
			t.Errorf("%s: %+v (wait %s), want start=%t wait %s failures %d", c.name, d, d.At.Sub(now), c.start, c.wait, c.after)
		}
		if d.CrashLooping() != (c.after >= CrashLoop) {
			t.Errorf("%s: crash-looping %t with %d failures", c.name, d.CrashLooping(), d.Failures)
		}
	}
}

func TestExitString(t *testing.T) {
	at := time.Unix(1000, 0)
	for _, c := range []struct {
		e    Exit
		want string
	}{
		{Exit{State: "EXITED", Status: 1, Started: at, Stopped: at.Add(2 * time.Second)}, "exit status 1 after 2s"},
		{Exit{State: "EXITED", Status: -1, Started: at, Stopped: at.Add(90 * time.Second)}, "killed by a signal after 1m30s"},
		{Exit{State: "FATAL", SpawnErr: "can't find command 'x'"}, "could not be started: can't find command 'x'"},
		{Exit{State: "EXITED", Status: -1, OOMKilled: true, Started: at, Stopped: at.Add(3 * time.Second)},
			"killed by the kernel for going over its memory limit (max_memory_mb) after 3s"},
	} {
		if got := c.e.String(); got != c.want {
			t.Errorf("%+v: %q, want %q", c.e, got, c.want)
		}
	}
}

func TestCleanTail(t *testing.T) {
	if got := CleanTail("a\nb\x1b[31mred\x07\tx\xff\n\n"); got != "a\nb[31mred\tx?" {
		t.Errorf("control characters and bad UTF-8 kept: %q", got)
	}
	var many strings.Builder
	for i := range 50 {
		many.WriteString(strings.Repeat("x", i) + "\n")
	}
	got := CleanTail(many.String())
	if n := strings.Count(got, "\n") + 1; n != TailLines || !strings.HasSuffix(got, strings.Repeat("x", 49)) {
		t.Errorf("%d lines kept, want the last %d", n, TailLines)
	}
	long := strings.Repeat("y", 5000) + "\nlast"
	if got := CleanTail(long); got != "last" {
		t.Errorf("a line cut by the byte bound is kept: %d bytes", len(got))
	}
	if got := LastLine("Error: Cannot find module 'x'\n   \n"); got != "Error: Cannot find module 'x'" {
		t.Errorf("LastLine %q", got)
	}
}
