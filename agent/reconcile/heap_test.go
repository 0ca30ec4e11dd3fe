package reconcile

import (
	"runtime"
	"testing"
	"time"
)

const mb = 1 << 20

// TestHeapTight: the heap is tight when a pass's allocation (and a fifth
// more) no longer fits below the goal; a pass is taken as at least half
// and at most 70% of the room a collection leaves, so right after a
// collection the heap is never tight.
func TestHeapTight(t *testing.T) {
	for _, c := range []struct {
		name string
		h    heapState
		need uint64
		want bool
	}{
		{"room for the pass", heapState{goal: 600 * mb, live: 300 * mb, used: 400 * mb}, 140 * mb, false},
		{"not enough room", heapState{goal: 600 * mb, live: 300 * mb, used: 450 * mb}, 140 * mb, true},
		{"a larger pass", heapState{goal: 600 * mb, live: 300 * mb, used: 380 * mb}, 190 * mb, true},
		{"a small pass counts as half the room", heapState{goal: 600 * mb, live: 300 * mb, used: 430 * mb}, 10 * mb, true},
		{"no pass known, little used", heapState{goal: 600 * mb, live: 300 * mb, used: 400 * mb}, 0, false},
		{"right after a collection", heapState{goal: 600 * mb, live: 300 * mb, used: 300 * mb}, 2000 * mb, false},
		{"a huge pass is taken as 70%", heapState{goal: 600 * mb, live: 300 * mb, used: 360 * mb}, 2000 * mb, true},
		{"a small heap", heapState{goal: 80 * mb, live: 40 * mb, used: 79 * mb}, 30 * mb, false},
		{"past the goal", heapState{goal: 600 * mb, live: 300 * mb, used: 700 * mb}, 140 * mb, true},
	} {
		if got := c.h.tight(c.need); got != c.want {
			t.Errorf("%s: tight(%d MB) = %v, want %v", c.name, c.need/mb, got, c.want)
		}
	}
}

// TestCollectIfTight: a collection runs only when the heap is tight, never
// during a pass or right after one.
func TestCollectIfTight(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	tight := heapState{goal: 600 * mb, live: 300 * mb, used: 550 * mb}
	for _, c := range []struct {
		name     string
		h        heapState
		ago      time.Duration // since the last pass ended
		passing  bool
		readable bool
		want     bool
	}{
		{"tight", tight, time.Minute, false, true, true},
		{"room", heapState{goal: 600 * mb, live: 300 * mb, used: 310 * mb}, time.Minute, false, true, false},
		{"just after a pass", tight, time.Second, false, true, false},
		{"during a pass", tight, time.Minute, true, true, false},
		{"metrics unreadable", tight, time.Minute, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			collected := false
			a := &Reconciler{now: func() time.Time { return now },
				heap:    func() (heapState, bool) { return c.h, c.readable },
				collect: func() { collected = true }}
			a.passAlloc.Store(140 * mb)
			a.passEnd.Store(now.Add(-c.ago).UnixNano())
			if c.passing {
				a.passMu.Lock()
			}
			a.CollectIfTight()
			if collected != c.want {
				t.Errorf("collected %v, want %v", collected, c.want)
			}
			if c.passing && a.passMu.TryLock() {
				t.Error("CollectIfTight released the lock of the running pass")
			}
		})
	}
}

func TestReadHeapReadsTheRuntime(t *testing.T) {
	runtime.GC() // the live heap is known after a cycle
	h, ok := readHeap()
	if !ok || h.goal == 0 || h.live == 0 || h.used == 0 || h.goal > 1<<40 {
		t.Errorf("readHeap() = %+v, %v", h, ok)
	}
}
