package health

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// serveEnv makes the test binary a helper serving health endpoints
// instead of running tests: N loopback HTTP listeners answering 200, their
// addresses on stdout, until stdin closes. The benchmark runs them in a
// process of their own so that its CPU is the prober's alone.
const serveEnv = "DROVER_HEALTH_SERVE"

func TestMain(m *testing.M) {
	if n, err := strconv.Atoi(os.Getenv(serveEnv)); err == nil {
		serveHealthz(n)
		return
	}
	os.Exit(m.Run())
}

func serveHealthz(n int) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "ok\n")
	})}
	out := bufio.NewWriter(os.Stdout)
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		go func() { _ = srv.Serve(ln) }()
		fmt.Fprintln(out, ln.Addr())
	}
	fmt.Fprintln(out, "ready")
	_ = out.Flush()
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// alwaysRunning is a node whose daemons all run, in one run each.
type alwaysRunning struct{ since time.Time }

func (a alwaysRunning) Running(string) (Run, bool)  { return Run{Since: a.since, PID: 1}, true }
func (a alwaysRunning) Restart(string, string) bool { return false }

// BenchmarkHealthProbes3000 measures the agent's CPU for the health
// checks of 3,000 daemons at the default interval (10 s), every probe a
// new loopback connection to a real HTTP server answering 200. The
// servers run in a helper process; the checker, the real Prober and its
// connections in this one, whose CPU (user + system, getrusage) is
// reported per second of wall time as %cpu (of one core), with the
// probes per second. After a warm-up of one interval (the first probes
// spread over it), each b.N is one interval.
func BenchmarkHealthProbes3000(b *testing.B) {
	const daemons = 3000
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"="+strconv.Itoa(daemons))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { stdin.Close(); _ = cmd.Wait() })
	var targets []Target
	sc := bufio.NewScanner(stdout)
	check := Check{Path: "/healthz", Interval: 10 * time.Second, Timeout: 2 * time.Second, Failures: 3}
	for sc.Scan() && sc.Text() != "ready" {
		ap, err := netip.ParseAddrPort(sc.Text())
		if err != nil {
			b.Fatal(err)
		}
		targets = append(targets, Target{Key: fmt.Sprintf("t%d/main/web", len(targets)), Addr: ap, Check: check})
	}
	if len(targets) != daemons {
		b.Fatalf("the helper serves %d listeners, want %d", len(targets), daemons)
	}

	// The real Prober, its results counted.
	var probed, failed atomic.Int64
	p := &Prober{}
	probe := func(ctx context.Context, t Target) Result {
		r := p.Probe(ctx, t)
		probed.Add(1)
		if !r.OK() {
			failed.Add(1)
		}
		return r
	}
	c := NewChecker(Options{Daemons: alwaysRunning{since: time.Now().Add(-time.Hour)}, Probe: probe, Log: quiet})
	c.Set(targets)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()

	time.Sleep(check.Interval + time.Second) // every daemon probed once
	before, probes, t0 := cpuTime(b), probed.Load(), time.Now()
	b.ResetTimer()
	for range b.N {
		time.Sleep(check.Interval)
	}
	b.StopTimer()
	used, wall, n := cpuTime(b)-before, time.Since(t0), float64(probed.Load()-probes)
	if f := failed.Load(); f > 0 {
		b.Errorf("%d probes failed", f)
	}
	b.ReportMetric(100*used.Seconds()/wall.Seconds(), "%cpu")
	b.ReportMetric(n/wall.Seconds(), "probes/s")
	b.ReportMetric(float64(used.Microseconds())/n, "cpu-µs/probe")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
