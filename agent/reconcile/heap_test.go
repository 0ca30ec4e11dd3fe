package reconcile

import (
	"testing"
	"time"
)

// TestCollectIfTight: a collection runs while idle only when the heap's
// room is short of what a pass needs, never during a pass or right after
// one, nor for a small node.
func TestCollectIfTight(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name       string
		need, room uint64
		ago        time.Duration // since the last pass ended
		passing    bool
		readable   bool
		want       bool
	}{
		{"tight", 140 << 20, 200 << 20, time.Minute, false, true, true},
		{"room for two passes", 140 << 20, 300 << 20, time.Minute, false, true, false},
		{"no room at all", 140 << 20, 0, time.Minute, false, true, true},
		{"small passes", 10 << 20, 1 << 20, time.Minute, false, true, false},
		{"just after a pass", 140 << 20, 1 << 20, time.Second, false, true, false},
		{"during a pass", 140 << 20, 1 << 20, time.Minute, true, true, false},
		{"metrics unreadable", 140 << 20, 1 << 20, time.Minute, false, false, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			collected := false
			a := &Reconciler{now: func() time.Time { return now },
				heapRoom: func() (uint64, bool) { return c.room, c.readable },
				collect:  func() { collected = true }}
			a.passAlloc.Store(c.need)
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

func TestHeapRoomReadsTheRuntime(t *testing.T) {
	room, ok := heapRoom()
	if !ok || room == 0 || room > 1<<40 {
		t.Errorf("heapRoom() = %d, %v", room, ok)
	}
}
