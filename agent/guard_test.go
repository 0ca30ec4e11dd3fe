package agent

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-sh/drover/internal/testenv"

	"github.com/drover-sh/drover/agent/lease"
	"github.com/drover-sh/drover/agent/supervisor"
)

// guardFake is a supervisord (the state-modelling fake) running three
// programs: two singletons and an available daemon.
func guardFake(t *testing.T) *supervisor.Fake {
	t.Helper()
	f := supervisor.NewFake()
	f.SetFiles(map[string][]byte{"drover.conf": []byte(`
[program:daemon-acme-cron]
command=/bin/sleep 1000
[program:daemon-acme-sched]
command=/bin/sleep 1000
numprocs=2
process_name=%(program_name)s_%(process_num)02d
[program:daemon-acme-web]
command=/bin/sleep 1000
`)})
	if err := f.Boot(); err != nil {
		t.Fatal(err)
	}
	return f
}

// fakeStates is the Fake's snapshot without pids.
func fakeStates(f *supervisor.Fake) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(f.Snapshot()), "\n") {
		lines = append(lines, strings.Fields(l)[0]+" "+strings.Fields(l)[1])
	}
	return strings.Join(lines, "\n")
}

const allRunning = `daemon-acme-cron:daemon-acme-cron RUNNING
daemon-acme-sched:daemon-acme-sched_00 RUNNING
daemon-acme-sched:daemon-acme-sched_01 RUNNING
daemon-acme-web:daemon-acme-web RUNNING`

const singletonsStopped = `daemon-acme-cron:daemon-acme-cron STOPPED
daemon-acme-sched:daemon-acme-sched_00 STOPPED
daemon-acme-sched:daemon-acme-sched_01 STOPPED
daemon-acme-web:daemon-acme-web RUNNING`

func writeLease(t *testing.T, path string, l lease.Lease) {
	t.Helper()
	if err := lease.Write(path, l); err != nil {
		t.Fatal(err)
	}
}

// TestGuardTicks drives the guard tick by tick on a fake boot clock: a
// valid lease stops nothing; once it expires the listed programs stop and
// the others run on; a renewed lease stops nothing more (the guard never
// starts anything); a lease gone after one was read stops its programs; a
// corrupt lease too. One line is logged per lapse.
func TestGuardTicks(t *testing.T) {
	f := guardFake(t)
	path := filepath.Join(testenv.PrivateDir(t), "lease")
	var logs bytes.Buffer
	var now int64 = 1_000_000_000
	g := &guard{path: path, sup: f, log: slog.New(slog.NewTextHandler(&logs, nil)), now: func() int64 { return now }}
	ctx := context.Background()
	singletons := []string{"daemon-acme-cron", "daemon-acme-sched"}

	g.tick(ctx) // no lease ever read: nothing to stop
	if got := fakeStates(f); got != allRunning || f.Calls()["StopProcessGroup"] != 0 {
		t.Fatalf("without a lease:\n%s\ncalls %v", got, f.Calls())
	}

	writeLease(t, path, lease.Lease{Expires: now + 3e9, Programs: singletons})
	for range 4 {
		g.tick(ctx)
		now += 250e6
	}
	if got := fakeStates(f); got != allRunning {
		t.Fatalf("with a valid lease:\n%s", got)
	}

	now += 2e9 // past the expiry
	g.tick(ctx)
	if got := fakeStates(f); got != singletonsStopped {
		t.Fatalf("after expiry:\n%s", got)
	}
	stops := f.Calls()["StopProcessGroup"]
	for range 4 {
		g.tick(ctx)
	}
	if n := f.Calls()["StopProcessGroup"]; n != stops {
		t.Errorf("the guard stopped again during one lapse: %d calls, want %d", n, stops)
	}

	// Renewed: the agent starts the singletons again; the guard lets them
	// run.
	writeLease(t, path, lease.Lease{Expires: now + 3e9, Programs: singletons})
	g.tick(ctx)
	for _, p := range singletons {
		if err := f.StartProcessGroup(ctx, p, true); err != nil {
			t.Fatal(err)
		}
	}
	g.tick(ctx)
	if got := fakeStates(f); got != allRunning {
		t.Fatalf("after renewal:\n%s", got)
	}

	// The file disappears (the agent's node rebooted /run, say).
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	g.tick(ctx)
	if got := fakeStates(f); got != singletonsStopped {
		t.Fatalf("after the lease file went away:\n%s", got)
	}

	// Renewed with one program, then corrupt: the last lease read counts.
	writeLease(t, path, lease.Lease{Expires: now + 3e9, Programs: singletons[:1]})
	g.tick(ctx)
	for _, p := range singletons {
		f.StartProcessGroup(ctx, p, true)
	}
	if err := os.WriteFile(path, []byte(`{"expires_boottime_ns": 99999999999999, "programs": ["daemon-acme-cron", "../x"]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	g.tick(ctx)
	want := strings.Replace(allRunning, "daemon-acme-cron RUNNING", "daemon-acme-cron STOPPED", 1)
	if got := fakeStates(f); got != want {
		t.Fatalf("after a corrupt lease:\n%s\nwant\n%s", got, want)
	}

	if n := strings.Count(logs.String(), "lease lapsed"); n != 4 {
		t.Errorf("%d lapse lines, want 4 (no lease, expiry, missing, corrupt):\n%s", n, logs.String())
	}
}

// slowStopper is a supervisord that answers nothing until the caller's
// deadline for its first calls, then behaves.
type slowStopper struct {
	*supervisor.Fake
	mu   sync.Mutex
	hang int
}

func (s *slowStopper) StopNoWait(ctx context.Context, groups []string) ([][]string, []error) {
	s.mu.Lock()
	hang := s.hang > 0
	s.hang--
	s.mu.Unlock()
	if hang {
		<-ctx.Done()
		errs := make([]error, len(groups))
		for i := range errs {
			errs[i] = ctx.Err()
		}
		return make([][]string, len(groups)), errs
	}
	return s.Fake.StopNoWait(ctx, groups)
}

// TestGuardLoop runs the guard's loop at its real pace: the listed programs
// stop within two ticks of the expiry, a supervisord that hangs delays the
// stop by the call deadline only, and cancelling the context (SIGTERM) ends
// the loop.
func TestGuardLoop(t *testing.T) {
	for _, hang := range []int{0, 1} {
		f := guardFake(t)
		path := filepath.Join(testenv.PrivateDir(t), "lease")
		expires := time.Now().Add(time.Second)
		writeLease(t, path, lease.Lease{Expires: lease.ExpiresIn(time.Second), Programs: []string{"daemon-acme-cron", "daemon-acme-sched"}})
		g := &guard{path: path, sup: &slowStopper{Fake: f, hang: hang}, log: slog.New(slog.DiscardHandler), now: lease.Now}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			g.run(ctx, GuardTick)
			close(done)
		}()
		time.Sleep(time.Until(expires) - 100*time.Millisecond)
		if got := fakeStates(f); got != allRunning {
			t.Errorf("hang=%d: before the expiry:\n%s", hang, got)
		}
		bound := expires.Add(2*GuardTick + time.Duration(hang)*guardCallTimeout)
		for fakeStates(f) != singletonsStopped && time.Now().Before(bound) {
			time.Sleep(10 * time.Millisecond)
		}
		if got := fakeStates(f); got != singletonsStopped {
			t.Errorf("hang=%d: two ticks after the expiry:\n%s", hang, got)
		}
		t.Logf("hang=%d: stopped %s after the expiry", hang, time.Since(expires).Round(time.Millisecond))
		cancel()
		select {
		case <-done:
		case <-time.After(time.Second):
			t.Fatal("the guard did not end with its context")
		}
	}
}
