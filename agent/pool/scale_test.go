package pool

import (
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"testing"
	"time"
)

// startPools starts n pools named n00, n01, ... on loopback, each given the
// shard of all of them. They are closed together at the end of the test
// (each Close waits up to a second for its leave message).
func startPools(t testing.TB, n int) []*Pool {
	t.Helper()
	pools := make([]*Pool, 0, n)
	t.Cleanup(func() {
		var wg sync.WaitGroup
		for _, p := range pools {
			wg.Go(func() { p.Close() })
		}
		wg.Wait()
	})
	for i := range n {
		p, err := Start(Config{Node: fmt.Sprintf("n%02d", i), Bind: "127.0.0.1:0", Key: testKey, Log: slog.New(slog.DiscardHandler)}, nil)
		if err != nil {
			t.Fatal(err)
		}
		pools = append(pools, p)
	}
	shard := shardOf(pools...)
	for _, p := range pools {
		p.SetShard(shard)
	}
	return pools
}

// allAlive reports whether every pool sees every configured node alive and
// holds quorum.
func allAlive(pools []*Pool) bool {
	for _, p := range pools {
		if ok, _ := p.Quorum(); !ok {
			return false
		}
		if s := p.Stats(); s.Alive != len(pools) {
			return false
		}
	}
	return true
}

// TestFiftyPoolsConverge: 50 pools in one process, given only the shard,
// all see each other alive. The deadline is generous: it is a convergence
// test, not a timing.
func TestFiftyPoolsConverge(t *testing.T) {
	start := time.Now()
	pools := startPools(t, 50)
	waitFor(t, 90*time.Second, "50 pools converge", func() bool { return allAlive(pools) })
	t.Logf("50 pools converged in %s", time.Since(start).Round(100*time.Millisecond))
}

// BenchmarkIdlePool measures the CPU a pool member costs while nothing
// happens: three converged pools run for b.N seconds, and the process's
// CPU time (user + system, getrusage) over that time is divided among
// them. Run with -benchtime=30x for the 30-second figure.
func BenchmarkIdlePool(b *testing.B) {
	pools := startPools(b, 3)
	waitFor(b, 30*time.Second, "3 pools converge", func() bool { return allAlive(pools) })
	before, t0 := cpuTime(b), time.Now()
	b.ResetTimer()
	for range b.N {
		time.Sleep(time.Second)
	}
	b.StopTimer()
	used, wall := cpuTime(b)-before, time.Since(t0)
	b.ReportMetric(100*used.Seconds()/wall.Seconds()/float64(len(pools)), "%cpu/member")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
