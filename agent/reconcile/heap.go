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

// collectAboveBytes is the room a collection leaves (what the last one
// left: the collector's goal less the live heap) below which
// CollectIfTight leaves the collector alone: a cycle of such a heap during
// a pass is short.
const collectAboveBytes = 64 << 20

// CollectIfTight runs a collection now, while the agent is idle, when the
// heap has too little room left before the collector's goal for the next
// pass: a commit would otherwise start a cycle halfway through its pass,
// marking the whole heap (at 100,000 daemons ~300 MB, half a second of
// CPU) on the cores the pass and supervisord need — in the load test a
// third of the agent's CPU between the commit and the new process.
//
// A pass needs half the room a collection leaves, or what the last
// applied one allocated if that was more, at most 70% of the room (a
// one-daemon pass at 100,000 daemons allocates ~140 MB beside a live heap
// of ~300 MB, which is the room at GOGC=100; the agent's start-up pass,
// which reuses everything, far less). The collection runs when less than
// 1.2 times that is left. Right after a
// collection the room is the whole of it, so collections never follow
// each other without the heap having grown. The cycle was due soon
// anyway: idle work (checks, events) fills the room too; what this adds
// is collecting a little earlier than the collector would while idle. It
// does nothing while a pass runs, nor in the freeDelay after one (the
// restarts it queued run then, and a large pass's memory is given back at
// its end). The agent calls it every few seconds.
func (a *Reconciler) CollectIfTight() {
	if a.now().Sub(time.Unix(0, a.passEnd.Load())) < freeDelay {
		return
	}
	h, ok := a.heap()
	if !ok || !h.tight(a.passAlloc.Load()) {
		return
	}
	if !a.passMu.TryLock() {
		return // a pass runs: its cycle is under way or due anyway
	}
	a.passMu.Unlock()
	a.collect()
}

// heapState is the collector's view of the heap, in bytes: its goal, the
// live heap its last cycle found, and the heap's objects now (live and
// not yet collected).
type heapState struct{ goal, live, used uint64 }

// tight reports whether the heap lacks room for a pass after one that
// allocated need bytes, as CollectIfTight says.
func (h heapState) tight(need uint64) bool {
	if h.goal <= h.live || h.goal-h.live < collectAboveBytes {
		return false
	}
	full := h.goal - h.live
	need = min(max(need, full/2), full/10*7)
	return h.used+need+need/5 > h.goal
}

// readHeap reads the heap's state from the runtime.
func readHeap() (heapState, bool) {
	s := []rtmetrics.Sample{{Name: "/gc/heap/goal:bytes"}, {Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/objects:bytes"}}
	rtmetrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() != rtmetrics.KindUint64 {
			return heapState{}, false
		}
	}
	return heapState{goal: s[0].Value.Uint64(), live: s[1].Value.Uint64(), used: s[2].Value.Uint64()}, true
}

// collectNow is the collection CollectIfTight runs.
func collectNow() { runtime.GC() }
