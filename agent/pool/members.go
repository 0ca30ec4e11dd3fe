package pool

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/memberlist"
)

// State is a configured node's state as this node sees it.
type State int

// The states of a configured node.
const (
	// Unknown: not seen since the pool started (treated as dead since the
	// start).
	Unknown State = iota
	// Alive: a member, answering.
	Alive
	// Suspect: memberlist still lists the node, but it has not answered this
	// node's pings for a quorum window. memberlist keeps its own suspicion
	// to itself (the State of the nodes Members returns is never updated,
	// hashicorp/memberlist#266), so the pool takes its direct evidence.
	Suspect
	// Dead: memberlist declared the node failed, or it left.
	Dead
)

func (s State) String() string {
	switch s {
	case Alive:
		return "alive"
	case Suspect:
		return "suspect"
	case Dead:
		return "dead"
	}
	return "unknown"
}

// Member is one configured node of the shard.
type Member struct {
	Name string
	// Addr is where the pool reaches the node: the address it announced in
	// the pool while it is a member (alive or suspect), else the configured
	// one.
	Addr  string
	State State
	// Since is when the node entered State; for Unknown, when the pool
	// started.
	Since time.Time
}

// memberView is what memberlist told the pool about a node: alive (joined)
// or dead (failed or left), since when, at which address.
type memberView struct {
	dead  bool
	since time.Time
	addr  string
}

// Members returns every configured node of the shard, self included
// (always alive), sorted by name.
func (p *Pool) Members() []Member {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.membersLocked(p.now())
}

func (p *Pool) membersLocked(now time.Time) []Member {
	ms := make([]Member, 0, len(p.shard))
	for name, peer := range p.shard {
		ms = append(ms, p.memberLocked(name, peer, now))
	}
	slices.SortFunc(ms, func(a, b Member) int { return strings.Compare(a.Name, b.Name) })
	return ms
}

func (p *Pool) memberLocked(name string, peer Peer, now time.Time) Member {
	m := Member{Name: name, Addr: peer.Addr, State: Unknown, Since: p.start}
	if name == p.cfg.Node {
		m.Addr, m.State = p.self, Alive
		return m
	}
	v := p.view[name]
	switch {
	case v == nil:
	case v.dead:
		m.State, m.Since = Dead, v.since
	default:
		m.Addr, m.State, m.Since = v.addr, Alive, v.since
		if lapsed, ok := p.suspectSinceLocked(name, v, now); ok {
			m.State, m.Since = Suspect, lapsed
		}
	}
	return m
}

// suspectSinceLocked reports whether a node memberlist lists alive is
// suspect: no ping ack for a quorum window, counted from its last ack or,
// when it acked none since it joined, from the join. It returns when that
// window lapsed.
func (p *Pool) suspectSinceLocked(name string, v *memberView, now time.Time) (time.Time, bool) {
	from := v.since
	if ack := p.acks[name]; ack.After(from) {
		from = ack
	}
	lapsed := from.Add(p.cfg.QuorumWindow)
	return lapsed, !now.Before(lapsed)
}

// recordAck notes a ping ack from name at t. A suspect node that answers is
// alive again from t on.
func (p *Pool) recordAck(name string, t time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if v := p.view[name]; v != nil && !v.dead {
		if _, suspect := p.suspectSinceLocked(name, v, t); suspect {
			v.since = t
		}
	}
	if t.After(p.acks[name]) {
		p.acks[name] = t
	}
}

// summaryLocked is the states and quorum as one comparable string: the
// pool calls changed when it differs from the last one.
func (p *Pool) summaryLocked(now time.Time) string {
	var b strings.Builder
	for _, m := range p.membersLocked(now) {
		fmt.Fprintf(&b, "%s %s %d;", m.Name, m.State, m.Since.UnixNano())
	}
	ok, _ := p.quorumLocked(now)
	fmt.Fprintf(&b, "quorum=%t", ok)
	return b.String()
}

// checkChanged calls changed (asynchronously) when the states or the
// quorum differ from what it last reported. Suspicion and quorum lapse
// with time, so the probe loop calls it every round.
func (p *Pool) checkChanged() {
	p.mu.Lock()
	s := p.summaryLocked(p.now())
	diff := s != p.last
	p.last = s
	p.mu.Unlock()
	if diff {
		p.notify()
	}
}

// memberlist.EventDelegate: the delegate is called with memberlist's node
// lock held, so it only updates the pool's view.

func (d *delegate) NotifyJoin(n *memberlist.Node) { d.p.setView(n, false) }

func (d *delegate) NotifyLeave(n *memberlist.Node) { d.p.setView(n, true) }

func (d *delegate) NotifyUpdate(n *memberlist.Node) { d.p.setView(n, false) }

func (p *Pool) setView(n *memberlist.Node, dead bool) {
	if n.Name == p.cfg.Node {
		return
	}
	p.mu.Lock()
	v := p.view[n.Name]
	if v == nil || v.dead != dead {
		v = &memberView{dead: dead, since: p.now()}
		p.view[n.Name] = v
	}
	v.addr = n.Address()
	p.mu.Unlock()
	p.checkChanged()
}
