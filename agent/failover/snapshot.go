package failover

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/drover-sh/drover/spec"
)

// Snapshot is the timeline's decisions at one moment, for one pass: it
// places daemons (netplan.Outage) and opens the gate of singletons. It is a
// copy: the timeline goes on without changing it.
type Snapshot struct {
	t   Timeline
	now time.Time
}

// At is the timeline's decisions at now.
func (t *Timeline) At(now time.Time) *Snapshot {
	s := &Snapshot{t: *t, now: now}
	s.t.nodes = make(map[string]*record, len(t.nodes))
	for name, r := range t.nodes {
		c := *r
		s.t.nodes[name] = &c
	}
	return s
}

// Out reports whether daemon d, configured on node, must run elsewhere.
func (s *Snapshot) Out(node string, d *spec.Daemon) bool { return s.t.out(node, d, s.now) }

// MayRun reports whether this node may run singleton d now, and if not, why.
func (s *Snapshot) MayRun(d *spec.Daemon) (bool, string) { return s.t.gate(d, s.now) }

// Quorum reports whether this node sees a majority of its shard.
func (s *Snapshot) Quorum() bool { return s.t.quorum }

// classes are the kinds of daemons the decisions tell apart: an available
// daemon, and a singleton for each stop wait (the fence depends on it).
func classes(stopWaits []int) []*spec.Daemon {
	out := []*spec.Daemon{{}}
	for _, w := range stopWaits {
		out = append(out, &spec.Daemon{Singleton: true, StopWaitSecs: w})
	}
	return out
}

// Key sums up every decision of s for daemons with the given stop waits
// (of the shard's singletons): two snapshots with the same key place every
// daemon alike and open the same gates for the same reasons, so a pass
// need not place again.
func (s *Snapshot) Key(stopWaits []int) string {
	var b strings.Builder
	cs := classes(stopWaits)
	for _, name := range slices.Sorted(maps.Keys(s.t.nodes)) {
		b.WriteString(name)
		b.WriteByte(':')
		for _, d := range cs {
			if s.Out(name, d) {
				b.WriteByte('1')
			} else {
				b.WriteByte('0')
			}
		}
		b.WriteByte(' ')
	}
	// The quorum too: it is the reason a closed gate gives.
	b.WriteString("quorum:" + strconv.FormatBool(s.t.quorum) + " gate:")
	for _, d := range cs[1:] {
		ok, _ := s.MayRun(d)
		b.WriteString(strconv.FormatBool(ok))
		b.WriteByte(',')
	}
	return b.String()
}

// Next is the earliest time after the snapshot's at which a decision for
// daemons with the given stop waits changes with no new observation (a
// node down long enough to move its daemons, a failback done, a gate
// opening); zero when nothing waits for time.
func (s *Snapshot) Next(stopWaits []int) time.Time {
	var next time.Time
	consider := func(at time.Time) {
		if at.After(s.now) && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	cs := classes(stopWaits)
	for _, r := range s.t.nodes {
		switch {
		case r.episode.IsZero():
		case r.down:
			for _, d := range cs {
				consider(s.t.downFrom(r, d).Add(s.t.threshold(d)))
			}
		default:
			consider(r.since.Add(s.t.settings.FailbackAfter))
		}
	}
	if s.t.quorum {
		for _, d := range cs[1:] {
			consider(s.t.quorumSince.Add(s.t.settings.FailbackAfter + s.t.settings.Fence(d)))
		}
	}
	return next
}

// Cause says why node's daemons run elsewhere now, or ran elsewhere, for
// the log: how long it has been down, or back.
func (s *Snapshot) Cause(node string) string {
	r := s.t.nodes[node]
	switch {
	case node == s.t.self:
		return "this node"
	case r == nil:
		return node + " is not a configured node of the shard"
	case r.down:
		return node + " down for " + s.now.Sub(r.episode).Round(time.Second).String()
	case !r.episode.IsZero() && s.now.Sub(r.since) < s.t.settings.FailbackAfter:
		return node + " back for " + s.now.Sub(r.since).Round(time.Second).String() + ", used again after failback_after " + s.t.settings.FailbackAfter.String()
	default:
		return node + " alive"
	}
}
