package reconcile

import (
	"context"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/source"
)

// gcProbe is a Source that notes the collector's growth target each time
// a pass reads a revision's files.
type gcProbe struct {
	Source
	seen []int64
}

func (p *gcProbe) Files(ctx context.Context, rev, root string) (map[string]source.Blob, error) {
	p.seen = append(p.seen, gcPercent())
	return p.Source.Files(ctx, rev, root)
}

func gcPercent() int64 {
	s := []rtmetrics.Sample{{Name: "/gc/gogc:percent"}}
	rtmetrics.Read(s)
	return int64(s[0].Value.Uint64())
}

// TestFirstPassCollectsLeanly: the pass that loads a process's first
// revision (Restore's, or the first pass when there is nothing to
// restore) runs with the collector at leanPercent and sets it back; a
// later pass, which reuses that revision's work, runs at the process's
// own setting. GOGC in the environment still decides.
func TestFirstPassCollectsLeanly(t *testing.T) {
	t.Setenv("GOGC", "")
	defer debug.SetGCPercent(debug.SetGCPercent(150)) // the process's own setting, for the test
	h := newHarness(t)
	probe := &gcProbe{Source: h.src}
	h.rec.src = probe
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "")))
	h.reconcile(OutcomeApplied)
	h.src.Commit(fake.Repo(fake.Daemon("reverb", ""), fake.Daemon("horizon", "")))
	h.reconcile(OutcomeApplied)
	if len(probe.seen) != 2 || probe.seen[0] != leanPercent || probe.seen[1] != 150 {
		t.Errorf("growth targets while reading files: %v, want [%d 150]", probe.seen, leanPercent)
	}
	if got := gcPercent(); got != 150 {
		t.Errorf("growth target after the passes: %d, want 150 again", got)
	}

	// A restarted agent: Restore loads the applied revision leanly, the
	// pass after it reuses it.
	h.newReconciler()
	probe = &gcProbe{Source: h.src}
	h.rec.src = probe
	h.rec.Restore(context.Background())
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "")))
	h.reconcile(OutcomeApplied)
	if len(probe.seen) != 2 || probe.seen[0] != leanPercent || probe.seen[1] != 150 {
		t.Errorf("growth targets after a restart: %v, want [%d 150]", probe.seen, leanPercent)
	}

	// GOGC set: left alone.
	t.Setenv("GOGC", "150")
	h.newReconciler()
	probe = &gcProbe{Source: h.src}
	h.rec.src = probe
	h.src.Commit(fake.Repo(fake.Daemon("horizon", "")))
	h.reconcile(OutcomeApplied)
	if len(probe.seen) != 1 || probe.seen[0] != 150 {
		t.Errorf("growth targets with GOGC set: %v, want [150]", probe.seen)
	}
}

// TestCloseStopsGivingMemoryBack: a large pass schedules its memory's
// return; Close cancels it, so the timer neither runs against a closed
// store nor keeps the reconciler alive.
func TestCloseStopsGivingMemoryBack(t *testing.T) {
	h := newHarness(t)
	defer func(old uint64) { freeAfterBytes = old }(freeAfterBytes)
	freeAfterBytes = 1 // any allocation is large here
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "")))
	h.reconcile(OutcomeApplied)
	h.rec.mu.Lock()
	timer := h.rec.freeTimer
	h.rec.mu.Unlock()
	if timer == nil {
		t.Fatal("the pass did not schedule giving its memory back")
	}
	h.rec.Close()
	if timer.Stop() {
		t.Error("the timer was still pending after Close")
	}
}
