package failover

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/spec"
)

var (
	t0       = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	settings = Settings{FailoverAfter: 10 * time.Second, FailbackAfter: 60 * time.Second, QuorumWindow: 3 * time.Second}
	avail    = &spec.Daemon{Name: "web", StopWaitSecs: 10}
	single   = &spec.Daemon{Name: "cron", Singleton: true, StopWaitSecs: 5}
)

func at(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }

// observe records n3 in the given state since `since` seconds, n2 always up.
func observe(tl *Timeline, down bool, since, now float64) {
	tl.Observe([]Observation{{Name: "n1", Since: at(0)}, {Name: "n2", Since: at(0)}, {Name: "n3", Down: down, Since: at(since)}}, at(now))
}

func TestFailoverAndFailbackThresholds(t *testing.T) {
	tl := New("n1", settings, Resume{})
	observe(tl, false, 0, 0)
	fence := settings.Fence(single) // 3 + 5 + 2 = 10 s
	if fence != 10*time.Second {
		t.Fatalf("fence = %s, want 10s", fence)
	}
	observe(tl, true, 100, 101) // n3 dies at 100
	for _, c := range []struct {
		now           float64
		avail, single bool
	}{
		{105, false, false},
		{109.9, false, false},
		{110, true, false}, // failover_after
		{119.9, true, false},
		{120, true, true}, // failover_after + fence
	} {
		s := tl.At(at(c.now))
		if got := s.Out("n3", avail); got != c.avail {
			t.Errorf("at %v: available out = %v, want %v", c.now, got, c.avail)
		}
		if got := s.Out("n3", single); got != c.single {
			t.Errorf("at %v: singleton out = %v, want %v", c.now, got, c.single)
		}
		if s.Out("n2", avail) || s.Out("n1", single) {
			t.Errorf("at %v: an alive node or self is out", c.now)
		}
	}
	observe(tl, false, 200, 200) // back at 200: out until 260 (failback_after)
	for _, c := range []struct {
		now float64
		out bool
	}{{200, true}, {259.9, true}, {260, false}, {400, false}} {
		s := tl.At(at(c.now))
		if s.Out("n3", avail) != c.out || s.Out("n3", single) != c.out {
			t.Errorf("at %v after the return: out = %v/%v, want %v", c.now, s.Out("n3", avail), s.Out("n3", single), c.out)
		}
	}
	observe(tl, false, 200, 300)
	if tl.nodes["n3"].episode != (time.Time{}) {
		t.Error("an outage did not end after failback_after")
	}
}

// A node down shorter than a threshold is not out when it returns, for the
// kinds whose threshold it did not reach.
func TestShortOutageMovesOnlyWhatItReached(t *testing.T) {
	tl := New("n1", settings, Resume{})
	observe(tl, false, 0, 0)
	observe(tl, true, 100, 100)
	observe(tl, false, 115, 115) // down 15 s: past failover_after, not past the singleton's 20 s
	s := tl.At(at(116))
	if !s.Out("n3", avail) {
		t.Error("available daemons went back at once after an outage that moved them")
	}
	if s.Out("n3", single) {
		t.Error("a singleton that never moved is out after its node returned")
	}
	tl2 := New("n1", settings, Resume{})
	observe(tl2, false, 0, 0)
	observe(tl2, true, 100, 100)
	observe(tl2, false, 103, 103) // a blip
	if tl2.At(at(104)).Out("n3", avail) {
		t.Error("a 3 s blip takes a node out")
	}
}

// A flapping node stays out: its outage goes on through returns shorter
// than failback_after, and every return starts the failback again.
func TestFlappingNodeStaysOut(t *testing.T) {
	tl := New("n1", settings, Resume{})
	observe(tl, false, 0, 0)
	observe(tl, true, 100, 100)
	observe(tl, false, 105, 105)
	observe(tl, true, 106, 106)
	if !tl.At(at(110)).Out("n3", avail) {
		t.Error("a node down 5 s, up 1 s, down 4 s is not out after failover_after from its first death")
	}
	observe(tl, false, 130, 130)
	observe(tl, true, 150, 150)
	observe(tl, false, 151, 151)
	if !tl.At(at(200)).Out("n3", avail) {
		t.Error("a node back 49 s after its last return is in again before failback_after")
	}
	if tl.At(at(211)).Out("n3", avail) {
		t.Error("a node back for failback_after is still out")
	}
}

// A node never seen since the start counts as down since the start.
func TestNeverSeenNodeIsDownSinceStart(t *testing.T) {
	tl := New("n1", settings, Resume{})
	observe(tl, true, 0, 0)
	if tl.At(at(9)).Out("n3", avail) || !tl.At(at(10)).Out("n3", avail) {
		t.Error("a never-seen node is not out exactly failover_after after the start")
	}
	tl.Observe([]Observation{{Name: "n2", Since: at(0)}}, at(11))
	if tl.At(at(11)).Out("n3", avail) {
		t.Error("a node no longer configured is still out")
	}
}

func TestGate(t *testing.T) {
	wait := settings.FailbackAfter + settings.Fence(single) // 70 s
	tl := New("n1", settings, Resume{})
	if ok, why := tl.At(at(0)).MayRun(single); ok || !strings.Contains(why, "majority") {
		t.Errorf("without quorum: MayRun = %v, %q", ok, why)
	}
	tl.ObserveQuorum(true, at(5))
	if ok, why := tl.At(at(5).Add(wait - time.Millisecond)).MayRun(single); ok || !strings.Contains(why, "failback_after") {
		t.Errorf("quorum held less than failback_after + fence: MayRun = %v, %q", ok, why)
	}
	if ok, _ := tl.At(at(5).Add(wait)).MayRun(single); !ok {
		t.Error("quorum held failback_after + fence: gate still closed")
	}
	tl.ObserveQuorum(true, at(100)) // still held: since unchanged
	if ok, _ := tl.At(at(101)).MayRun(single); !ok {
		t.Error("an observation of a quorum that goes on restarted the wait")
	}
	tl.ObserveQuorum(false, at(102))
	if ok, _ := tl.At(at(102)).MayRun(single); ok {
		t.Error("gate open without quorum")
	}
	tl.ObserveQuorum(true, at(103))
	if ok, _ := tl.At(at(104)).MayRun(single); ok {
		t.Error("gate open at once after quorum came back")
	}
	// An agent that restarted within its lease goes on with the quorum
	// of its previous run: the gate is as it was, open or still waiting.
	kept := New("n1", settings, Resume{Since: at(-100), Until: at(2)})
	if ok, _ := kept.At(at(0)).MayRun(single); !ok {
		t.Error("a lease kept since 100 s did not keep the gate open")
	}
	kept.ObserveQuorum(true, at(1))
	if ok, _ := kept.At(at(1)).MayRun(single); !ok {
		t.Error("the first quorum observation after a kept lease closed the gate")
	}
	waiting := New("n1", settings, Resume{Since: at(-10), Until: at(2)})
	if ok, _ := waiting.At(at(0)).MayRun(single); ok {
		t.Error("a lease whose quorum began 10 s ago opened the gate at once")
	}
	if ok, _ := waiting.At(at(-10).Add(wait)).MayRun(single); !ok {
		t.Error("a kept lease's wait does not end failback_after + fence after its quorum began")
	}
	waiting.ObserveQuorum(false, at(3)) // the pool did not answer before the lease ran out
	waiting.ObserveQuorum(true, at(4))
	if ok, _ := waiting.At(at(-10).Add(wait)).MayRun(single); ok {
		t.Error("a break after the restart kept the old quorum's wait")
	}
}

func TestKeyAndNext(t *testing.T) {
	waits := []int{5}
	tl := New("n1", settings, Resume{})
	tl.ObserveQuorum(true, at(0))
	observe(tl, false, 0, 0)
	k0 := tl.At(at(80)).Key(waits) // the gate is open from 70 s
	observe(tl, true, 100, 100)
	if k := tl.At(at(101)).Key(waits); k != k0 {
		t.Errorf("a death changed the key before any threshold: %q vs %q", k, k0)
	}
	if next := tl.At(at(101)).Next(waits); !next.Equal(at(110)) {
		t.Errorf("next = %v, want failover_after after the death", next.Sub(t0))
	}
	k1 := tl.At(at(110)).Key(waits)
	if k1 == k0 {
		t.Error("the key did not change at failover_after")
	}
	if next := tl.At(at(110)).Next(waits); !next.Equal(at(120)) {
		t.Errorf("next after failover = %v, want the singleton threshold at 120 s", next.Sub(t0))
	}
	if k := tl.At(at(120)).Key(waits); k == k1 {
		t.Error("the key did not change when the singleton moved")
	}
	if k := tl.At(at(120)).Key(nil); k != tl.At(at(115)).Key(nil) {
		t.Error("without singletons the key changed at a singleton's threshold")
	}
}

// A singleton moves off a node only once the node has been dead for its
// threshold without a break: a return shorter than failback_after keeps the
// outage going for available daemons, but the node may have held quorum
// and run the singleton meanwhile, and the fence counts from the moment it
// lost quorum again.
func TestSingletonWaitsForTheCurrentDeath(t *testing.T) {
	tl := New("n1", settings, Resume{})
	observe(tl, false, 0, 0)
	observe(tl, true, 100, 100)
	observe(tl, false, 105, 105) // back after 5 s: nothing moved
	observe(tl, true, 150, 150)  // dead again, within failback_after
	s := tl.At(at(150))
	if !s.Out("n3", avail) {
		t.Error("available daemons of a flapping node did not move at once")
	}
	if s.Out("n3", single) {
		t.Error("a singleton moved as soon as its node died again: the fence did not count from this death")
	}
	if tl.At(at(169.9)).Out("n3", single) || !tl.At(at(170)).Out("n3", single) {
		t.Error("a singleton is not out exactly failover_after + fence after its node's last death")
	}
	if next := tl.At(at(151)).Next([]int{single.StopWaitSecs}); !next.Equal(at(170)) {
		t.Errorf("next = %v, want the singleton's threshold after the last death (170 s)", next.Sub(t0))
	}
	// Once a singleton moved in an outage, it stays out through its returns.
	observe(tl, false, 175, 175)
	observe(tl, true, 180, 180)
	if !tl.At(at(180)).Out("n3", single) {
		t.Error("a singleton that moved in this outage went back when its node died again")
	}
}

// A node the pool has not seen since it started counts as down from the
// start; seen before failover_after, it was never down: its next death
// waits the full failover_after.
func TestUnseenAtStartIsNoOutage(t *testing.T) {
	unseen := func(tl *Timeline, now float64) {
		tl.Observe([]Observation{{Name: "n2", Since: at(0)}, {Name: "n3", Down: true, Unseen: true, Since: at(0)}}, at(now))
	}
	tl := New("n1", settings, Resume{})
	unseen(tl, 0)
	observe(tl, false, 1, 1) // the pool joined it
	observe(tl, true, 20, 20)
	if tl.At(at(20)).Out("n3", avail) {
		t.Error("a node seen 1 s after the start is out as soon as it dies")
	}
	if !tl.At(at(30)).Out("n3", avail) {
		t.Error("a node dead for failover_after is not out")
	}
	// Unseen for failover_after: its daemons moved, it fails back.
	tl = New("n1", settings, Resume{})
	unseen(tl, 0)
	observe(tl, false, 12, 12)
	if !tl.At(at(13)).Out("n3", avail) || tl.At(at(72)).Out("n3", avail) {
		t.Error("a node unseen for failover_after does not fail back after failback_after")
	}
}
