package pool

import (
	"fmt"
	"testing"
	"time"
)

// quorumPool is a Pool without memberlist, on a fake clock: enough for the
// quorum bookkeeping.
func quorumPool(now *time.Time, self string, nodes ...Peer) *Pool {
	p := &Pool{
		cfg:  Config{Node: self, QuorumWindow: 3 * time.Second},
		now:  func() time.Time { return *now },
		acks: map[string]time.Time{}, view: map[string]*memberView{},
	}
	p.start = *now
	p.SetShard(nodes)
	return p
}

func peers(names ...string) []Peer {
	var ps []Peer
	for _, n := range names {
		ps = append(ps, Peer{Name: n, Addr: n + ":7946"})
	}
	return ps
}

// TestQuorumArithmetic checks Quorum for shards of 1 to 5 undrained nodes
// and a drained self: the majority, the window's bound (an ack counts for
// exactly W) and until, the moment the majority breaks with no new ack.
func TestQuorumArithmetic(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	s := time.Second
	type ack struct {
		name string
		at   time.Duration // after t0
	}
	for _, c := range []struct {
		name  string
		nodes []Peer
		acks  []ack
		now   time.Duration // after t0
		ok    bool
		until time.Duration // after t0; -1: Forever
	}{
		{name: "N=1 alone", nodes: peers("a"), now: 10 * s, ok: true, until: -1},
		{name: "N=2 no ack", nodes: peers("a", "b"), now: 10 * s},
		{name: "N=2 acked", nodes: peers("a", "b"), acks: []ack{{"b", 0}}, now: 1 * s, ok: true, until: 3 * s},
		{name: "N=2 ack just inside the window", nodes: peers("a", "b"), acks: []ack{{"b", 0}}, now: 3*s - 1, ok: true, until: 3 * s},
		{name: "N=2 ack at the window's end", nodes: peers("a", "b"), acks: []ack{{"b", 0}}, now: 3 * s},
		{name: "N=3 no ack", nodes: peers("a", "b", "c"), now: 0},
		{name: "N=3 one ack", nodes: peers("a", "b", "c"), acks: []ack{{"c", 0}}, now: 2 * s, ok: true, until: 3 * s},
		{name: "N=3 freshest ack decides", nodes: peers("a", "b", "c"), acks: []ack{{"b", 0}, {"c", 1 * s}}, now: 2 * s, ok: true, until: 4 * s},
		{name: "N=3 stale acks", nodes: peers("a", "b", "c"), acks: []ack{{"b", 0}, {"c", 1 * s}}, now: 4 * s},
		{name: "N=4 one ack is not enough", nodes: peers("a", "b", "c", "d"), acks: []ack{{"d", 2 * s}}, now: 2 * s},
		{name: "N=4 second freshest decides", nodes: peers("a", "b", "c", "d"), acks: []ack{{"b", 0}, {"c", 1 * s}, {"d", 2 * s}}, now: 2500 * time.Millisecond, ok: true, until: 4 * s},
		{name: "N=4 one lapsed", nodes: peers("a", "b", "c", "d"), acks: []ack{{"b", 0}, {"c", 1 * s}}, now: 3 * s},
		{name: "N=5 two acks", nodes: peers("a", "b", "c", "d", "e"), acks: []ack{{"b", 1 * s}, {"e", 2 * s}}, now: 2 * s, ok: true, until: 4 * s},
		{name: "N=5 one ack", nodes: peers("a", "b", "c", "d", "e"), acks: []ack{{"b", 1 * s}}, now: 2 * s},
		{name: "N=5 four acks", nodes: peers("a", "b", "c", "d", "e"), acks: []ack{{"b", 0}, {"c", 1 * s}, {"d", 2 * s}, {"e", 500 * time.Millisecond}}, now: 2 * s, ok: true, until: 4 * s},
		{name: "drained self, N=3 peers, one ack", nodes: drain(peers("a", "b", "c", "d"), "a"), acks: []ack{{"b", 0}}, now: 1 * s},
		{name: "drained self, N=3 peers, two acks", nodes: drain(peers("a", "b", "c", "d"), "a"), acks: []ack{{"b", 0}, {"c", 1 * s}}, now: 1 * s, ok: true, until: 3 * s},
		{name: "drained self alone", nodes: drain(peers("a"), "a"), now: 0},
		{name: "drained peer does not count", nodes: drain(peers("a", "b", "c"), "c"), acks: []ack{{"c", 0}}, now: 1 * s},
		{name: "drained peer shrinks N", nodes: drain(peers("a", "b", "c"), "c"), acks: []ack{{"b", 0}}, now: 1 * s, ok: true, until: 3 * s},
		{name: "self not configured", nodes: peers("b", "c", "d"), acks: []ack{{"b", 0}}, now: 1 * s},
	} {
		t.Run(c.name, func(t *testing.T) {
			now := t0
			p := quorumPool(&now, "a", c.nodes...)
			for _, a := range c.acks {
				p.recordAck(a.name, t0.Add(a.at))
			}
			now = t0.Add(c.now)
			ok, until := p.Quorum()
			want := t0.Add(c.until)
			switch {
			case !c.ok:
				want = time.Time{}
			case c.until < 0:
				want = Forever
			}
			if ok != c.ok || !until.Equal(want) {
				t.Errorf("Quorum() = %t, %s; want %t, %s", ok, fmtTime(t0, until), c.ok, fmtTime(t0, want))
			}
			// Holding quorum until `until`, not a nanosecond longer.
			if ok && until != Forever {
				now = until.Add(-1)
				if ok, _ := p.Quorum(); !ok {
					t.Errorf("quorum lost before until")
				}
				now = until
				if ok, _ := p.Quorum(); ok {
					t.Errorf("quorum still holds at until")
				}
			}
		})
	}
}

func drain(ps []Peer, name string) []Peer {
	for i := range ps {
		if ps[i].Name == name {
			ps[i].Drained = true
		}
	}
	return ps
}

func fmtTime(t0, t time.Time) string {
	switch {
	case t.IsZero():
		return "zero"
	case t.Equal(Forever):
		return "forever"
	}
	return fmt.Sprintf("t0+%s", t.Sub(t0))
}

// TestSuspectFromPings checks the states a node memberlist lists alive
// takes from the pings: suspect a quorum window after its last ack (or its
// join), alive again from the next ack.
func TestSuspectFromPings(t *testing.T) {
	t0 := time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)
	now := t0
	p := quorumPool(&now, "a", peers("a", "b", "c")...)
	p.self = "a:7946"
	p.view["b"] = &memberView{since: t0, addr: "10.0.0.2:7946"}
	p.view["c"] = &memberView{dead: true, since: t0.Add(time.Second), addr: "10.0.0.3:7946"}
	states := func() string {
		var s string
		for _, m := range p.Members() {
			s += fmt.Sprintf("%s %s %s %s; ", m.Name, m.Addr, m.State, m.Since.Sub(t0))
		}
		return s
	}
	check := func(want string) {
		t.Helper()
		if got := states(); got != want {
			t.Errorf("at t0+%s:\n got %s\nwant %s", now.Sub(t0), got, want)
		}
	}
	now = t0.Add(2 * time.Second)
	check("a a:7946 alive 0s; b 10.0.0.2:7946 alive 0s; c c:7946 dead 1s; ")
	now = t0.Add(3 * time.Second) // no ack since the join
	check("a a:7946 alive 0s; b 10.0.0.2:7946 suspect 3s; c c:7946 dead 1s; ")
	now = t0.Add(4 * time.Second)
	p.recordAck("b", now)
	check("a a:7946 alive 0s; b 10.0.0.2:7946 alive 4s; c c:7946 dead 1s; ")
	now = t0.Add(5 * time.Second)
	p.recordAck("b", now)
	check("a a:7946 alive 0s; b 10.0.0.2:7946 alive 4s; c c:7946 dead 1s; ")
	now = t0.Add(8 * time.Second)
	check("a a:7946 alive 0s; b 10.0.0.2:7946 suspect 8s; c c:7946 dead 1s; ")
	// A node never seen is unknown since the start, at its configured
	// address.
	p.SetShard(peers("a", "b", "c", "d"))
	check("a a:7946 alive 0s; b 10.0.0.2:7946 suspect 8s; c c:7946 dead 1s; d d:7946 unknown 0s; ")
	if s := p.Stats(); s.Alive != 1 || s.Suspect != 1 || s.Dead != 1 || s.Unknown != 1 || s.Quorum {
		t.Errorf("Stats() = %+v", s)
	}
}
