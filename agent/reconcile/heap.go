package reconcile

import (
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// The agent's heap between passes. A pass over a large node allocates far
// more than the agent keeps (at 100,000 daemons ~140 MB for one changed
// daemon, beside ~300 MB kept), so the collector's cycles follow the
// passes. Two things pick their moment: a large pass's memory is given
// back to the system a little after it (freeLaterIfLarge), and a cycle
// the next pass would start is run beforehand, while the agent is idle
// (CollectIfTight).

// freeAfterBytes is how much a pass allocates before the agent gives the
// memory back to the system at its end (a first pass, a changed node
// list): a pass that changed one daemon allocates far less, and a forced
// collection of the whole heap would cost it more than its own work.
const freeAfterBytes = 64 << 20

// allocated is the number of bytes allocated on the heap since the start.
func allocated() uint64 {
	s := []rtmetrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 {
		return 0
	}
	return s[0].Value.Uint64()
}

// freeDelay is how long after a large pass the agent gives its memory
// back: not at the pass's end, where the forced collection (over a second
// at 100,000 daemons on a busy machine) held the reconciler's locks and
// competed for the CPU with the restarts the pass had just queued.
const freeDelay = 5 * time.Second

// freeLaterIfLarge returns memory to the system freeDelay from now, if
// the pass that started when allocated() was since allocated much; a
// later large pass moves the moment on (a.mu held).
func (a *Reconciler) freeLaterIfLarge(since uint64) {
	if allocated()-since <= freeAfterBytes {
		return
	}
	if a.freeTimer == nil {
		a.freeTimer = time.AfterFunc(freeDelay, debug.FreeOSMemory)
		return
	}
	a.freeTimer.Reset(freeDelay)
}

// collectAboveBytes is the allocation of a pass below which CollectIfTight
// leaves the collector alone: a cycle during such a pass is short.
const collectAboveBytes = 32 << 20

// CollectIfTight runs a collection now when the heap has less room left
// before the collector's goal than twice what the last applied pass
// allocated: the next pass — a commit — would otherwise start a cycle of
// its own halfway, marking the whole heap (at 100,000 daemons ~300 MB,
// half a second of CPU) on the cores that pass and supervisord need; in
// the load test that was a third of the agent's CPU between the commit and
// the new process. The cycle was due soon anyway: idle work (checks,
// events) fills the room too. It does nothing while a pass runs, nor in
// the freeDelay after one (the restarts it queued run then, and a large
// pass's memory is given back at its end). The agent calls it every few
// seconds.
func (a *Reconciler) CollectIfTight() {
	need := a.passAlloc.Load()
	if need < collectAboveBytes || a.now().Sub(time.Unix(0, a.passEnd.Load())) < freeDelay {
		return // a small node, or the restarts of a pass just done are under way
	}
	room, ok := a.heapRoom()
	if !ok || room >= 2*need {
		return
	}
	if !a.passMu.TryLock() {
		return // a pass runs: its cycle is under way or due anyway
	}
	a.passMu.Unlock()
	a.collect()
}

// heapRoom is how many bytes the heap may still grow before the
// collector's goal: the goal less the heap's objects (live and not yet
// swept).
func heapRoom() (uint64, bool) {
	s := []rtmetrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	if s[0].Value.Kind() != rtmetrics.KindUint64 || s[1].Value.Kind() != rtmetrics.KindUint64 {
		return 0, false
	}
	goal, used := s[0].Value.Uint64(), s[1].Value.Uint64()
	if used >= goal {
		return 0, true
	}
	return goal - used, true
}

// collectNow is the collection CollectIfTight runs.
func collectNow() { runtime.GC() }
