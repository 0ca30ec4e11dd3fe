// Package failover decides, from what the pool has seen, which nodes of a
// shard are out of the placement now and whether this node may run its
// singleton daemons (design.md §6.13). It is pure: observations and the
// time in, decisions out; package agent feeds it from the pool, and the
// reconciler places daemons with what it decides (netplan.Failover).
package failover

import (
	"time"

	"github.com/drover-sh/drover/spec"
)

// Margin is added to a singleton's fence: it covers clock rates that differ
// between nodes, the guard's and the agent's scheduling, and the time two
// nodes take to learn of each other when a partition heals.
const Margin = 2 * time.Second

// Settings are the pool's timings from the agent configuration.
type Settings struct {
	// FailoverAfter: a node dead this long is out for available daemons.
	FailoverAfter time.Duration
	// FailbackAfter: a node that was out is used again once alive this
	// long.
	FailbackAfter time.Duration
	// QuorumWindow: how old the last answer of a peer may be for it to
	// count towards this node's quorum (and the lease's length).
	QuorumWindow time.Duration
}

// Fence is how much longer a singleton daemon waits than an available one,
// both before it moves off a dead node and before the node it belongs to
// starts it again: the quorum window (the lease of a cut-off node lapses
// within it), the daemon's stop wait (supervisord kills it within it) and
// Margin.
func (s Settings) Fence(d *spec.Daemon) time.Duration {
	return s.QuorumWindow + time.Duration(d.StopWaitSecs)*time.Second + Margin
}

// Observation is what the pool says about one configured node now.
type Observation struct {
	Name string
	// Down: dead, left, or never seen since the pool started.
	Down bool
	// Unseen: down because the pool has not seen the node since it
	// started (no evidence of an outage: the node may have been up all
	// along).
	Unseen bool
	// Since is when the node entered that state.
	Since time.Time
}

// record is one node's history as far as the decisions need it.
type record struct {
	down  bool
	since time.Time
	// episode is when the node's current outage began: it went down and
	// has not been up for FailbackAfter since (zero: none). An outage
	// goes on through short returns, so a flapping node stays out.
	episode time.Time
	// reached is how long the outage had lasted when the node last came
	// up: the node stays out, while it is failing back, for every
	// threshold it reached.
	reached time.Duration
	// unseen: the node is down because it has not been seen since the
	// pool started.
	unseen bool
}

// Timeline is the history of the shard's nodes and of this node's quorum.
// The zero value is not usable: see New.
type Timeline struct {
	self     string
	settings Settings
	nodes    map[string]*record
	// quorum: whether it holds, and since when it has held without a
	// break.
	quorum      bool
	quorumSince time.Time
}

// Resume is what an agent finds in the lease of its previous run: the
// quorum that run had held since Since, valid until Until. Zero: none.
type Resume struct{ Since, Until time.Time }

// New is the timeline of node self. An agent that restarted while its
// lease was valid kept its quorum through the restart (the lease is
// renewed only with quorum, and the guard stops the singletons when it
// lapses): r carries the quorum on, so the gate stays as it was. Until the
// pool answers, the agent observes quorum while r.Until has not passed.
func New(self string, s Settings, r Resume) *Timeline {
	t := &Timeline{self: self, settings: s, nodes: map[string]*record{}}
	if !r.Until.IsZero() {
		t.quorum, t.quorumSince = true, r.Since
	}
	return t
}

// Observe records the pool's view of the shard's configured nodes (self
// among them or not: self is never out). Nodes no longer listed are
// forgotten.
func (t *Timeline) Observe(obs []Observation, now time.Time) {
	seen := make(map[string]bool, len(obs))
	for _, o := range obs {
		if o.Name == t.self {
			continue
		}
		seen[o.Name] = true
		r := t.nodes[o.Name]
		if r == nil {
			r = &record{down: !o.Down, since: o.Since} // so the first observation is a change
			t.nodes[o.Name] = r
		}
		t.end(r, now)
		if o.Down == r.down {
			continue
		}
		since := o.Since
		if since.IsZero() || since.After(now) {
			since = now
		}
		if o.Down {
			if r.episode.IsZero() {
				r.episode = since
			}
		} else if !r.episode.IsZero() {
			r.reached = since.Sub(r.episode)
			// Not seen at first, then seen before anything moved: the
			// pool was joining, the node was not down.
			if r.unseen && r.reached < t.settings.FailoverAfter {
				r.episode, r.reached = time.Time{}, 0
			}
		}
		r.down, r.since, r.unseen = o.Down, since, o.Down && o.Unseen
	}
	for name := range t.nodes {
		if !seen[name] {
			delete(t.nodes, name)
		}
	}
}

// end closes r's outage once the node has been up for FailbackAfter.
func (t *Timeline) end(r *record, now time.Time) {
	if !r.down && !r.episode.IsZero() && now.Sub(r.since) >= t.settings.FailbackAfter {
		r.episode, r.reached = time.Time{}, 0
	}
}

// ObserveQuorum records whether this node has quorum now. Any break
// restarts the wait of the gate: while this node was cut off, the others
// may have started its singletons, and they stop them only failback_after
// after they see it again.
func (t *Timeline) ObserveQuorum(ok bool, now time.Time) {
	if ok && !t.quorum {
		t.quorumSince = now
	}
	t.quorum = ok
}

// threshold is how long a node must be down for d to move off it.
func (t *Timeline) threshold(d *spec.Daemon) time.Duration {
	if d.Singleton {
		return t.settings.FailoverAfter + t.settings.Fence(d)
	}
	return t.settings.FailoverAfter
}

// out reports whether daemon d may not run on node at now.
func (t *Timeline) out(node string, d *spec.Daemon, now time.Time) bool {
	r := t.nodes[node]
	if node == t.self || r == nil || r.episode.IsZero() {
		return false
	}
	if r.down {
		return now.Sub(t.downFrom(r, d)) >= t.threshold(d)
	}
	return now.Sub(r.since) < t.settings.FailbackAfter && r.reached >= t.threshold(d)
}

// downFrom is when the wait for d to move off a down node began. For an
// available daemon, the outage's start: it goes on through short returns,
// so a flapping node is out soon. For a singleton, the node's current
// death, unless d moved off it earlier in the outage: the fence bounds
// the time from the node's loss of quorum, so the wait must not count a
// time the node was up (it may have held quorum and run d then).
func (t *Timeline) downFrom(r *record, d *spec.Daemon) time.Time {
	if d.Singleton && r.reached < t.threshold(d) {
		return r.since
	}
	return r.episode
}

// QuorumSince is since when quorum has held; false without quorum. The
// lease carries it to the agent's next run (Resume).
func (t *Timeline) QuorumSince() (time.Time, bool) { return t.quorumSince, t.quorum }

// gate reports whether this node may run singleton d at now, and if not,
// why.
func (t *Timeline) gate(d *spec.Daemon, now time.Time) (bool, string) {
	if !t.quorum {
		return false, "this node does not see a majority of its shard's nodes"
	}
	// The reason stays the same while the wait lasts: it is a daemon's
	// status, updated when the decisions change (Key), not every second.
	wait := t.settings.FailbackAfter + t.settings.Fence(d)
	if now.Sub(t.quorumSince) < wait {
		return false, "this node sees a majority again; a singleton starts once it has for " + wait.String() +
			" (failback_after + fence), when no other node runs it"
	}
	return true, ""
}
