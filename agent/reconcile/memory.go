package reconcile

import (
	"os"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"time"
)

// How the agent holds its memory: a pass that starts with nothing to
// reuse decodes and renders the whole repository, allocating many times
// what the agent keeps (5 GB for a node of 100,000 daemons), and what it
// keeps is scattered over the spans that held the rest. Go's collector
// does not move objects, so a span holding one kept object stays resident:
// at Go's default growth target, a node of 100,000 daemons kept ~210 MB of
// such span space beside a ~300 MB live heap. Such a pass therefore loads
// and renders with the collector at leanPercent (collectLeanlyIfFirst),
// and any large pass gives its memory back some time after it ends, the
// store's pages it read included (freeLaterIfLarge).

// leanPercent is the collector's growth target (GOGC) while a pass with
// nothing to reuse loads and renders: the heap grows to 1.25 times what
// is live before a collection instead of twice, so the pass's garbage
// lies in fewer spans. At 100,000 daemons (BenchmarkAgentPass, frag-MB)
// the span space left unusable falls from ~210 to ~80 MB (~50 MB with the
// Git cache's smaller object cache), for ~2.5 s more CPU in a first pass
// of ~10 s.
const leanPercent = 25

// collectLeanlyIfFirst sets the collector's growth target to leanPercent
// when this process has loaded no revision yet, and returns what sets it
// back; GOGC in the environment still decides. It covers the loading and
// rendering of a pass (a.mu held), not its apply: that waits mostly on
// supervisord and nginx, and more collections there would take CPU from
// the processes supervisord is starting.
func (a *Reconciler) collectLeanlyIfFirst() (restore func()) {
	if a.placed != nil || os.Getenv("GOGC") != "" {
		return func() {}
	}
	old := debug.SetGCPercent(leanPercent)
	return func() { debug.SetGCPercent(old) }
}

// freeAfterBytes is how much a pass allocates before the agent gives the
// memory back to the system at its end (a first pass, a changed node
// list): a pass that changed one daemon allocates far less, and a forced
// collection of the whole heap would cost it more than its own work.
var freeAfterBytes uint64 = 64 << 20 // a variable for tests

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
		a.freeTimer = time.AfterFunc(freeDelay, a.giveMemoryBack)
		return
	}
	a.freeTimer.Reset(freeDelay)
}

// giveMemoryBack returns the heap's free memory to the system and drops
// the store's pages the pass read from the process (store.ReleasePages).
func (a *Reconciler) giveMemoryBack() {
	debug.FreeOSMemory()
	if err := a.store.ReleasePages(); err != nil {
		a.log.Warn("giving memory back", "error", err)
	}
}
