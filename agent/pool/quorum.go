package pool

import (
	"slices"
	"time"
)

// Forever is the until of a quorum that cannot lapse: a shard whose only
// undrained node is this one.
var Forever = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Quorum reports whether this node sees a majority of its shard now, by
// direct evidence: with N the shard's configured undrained nodes, it holds
// when this node (if undrained) and the undrained peers that acked one of
// its pings within the last quorum window are more than N/2. until is when
// it lapses if no new ack comes (Forever when it needs no peer); it is the
// zero time when quorum does not hold.
func (p *Pool) Quorum() (ok bool, until time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.quorumLocked(p.now())
}

func (p *Pool) quorumLocked(now time.Time) (bool, time.Time) {
	n := 0
	self := false
	var acks []time.Time
	for name, peer := range p.shard {
		if peer.Drained {
			continue
		}
		n++
		if name == p.cfg.Node {
			self = true
		} else if a, ok := p.acks[name]; ok {
			acks = append(acks, a)
		}
	}
	return majority(n, self, acks, now, p.cfg.QuorumWindow)
}

// majority is the quorum arithmetic: n voters, self among them or not, the
// last ack time of each other voter that acked (any order), the window w.
// An ack at a counts until a+w (exclusive).
func majority(n int, self bool, acks []time.Time, now time.Time, w time.Duration) (bool, time.Time) {
	need := n/2 + 1
	if self {
		need--
	}
	if need <= 0 {
		return true, Forever // self alone is a majority (n = 1)
	}
	var fresh []time.Time
	for _, a := range acks {
		if now.Before(a.Add(w)) {
			fresh = append(fresh, a)
		}
	}
	if len(fresh) < need {
		return false, time.Time{}
	}
	// The need-th freshest ack is the one whose lapse breaks the majority.
	slices.SortFunc(fresh, func(a, b time.Time) int { return b.Compare(a) })
	return true, fresh[need-1].Add(w)
}
