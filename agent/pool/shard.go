package pool

import (
	"errors"
	"maps"

	"github.com/hashicorp/memberlist"
)

// Peer is a configured node of the shard.
type Peer struct {
	Name string
	// Addr is where its pool listens, "host:port".
	Addr string
	// Drained nodes stay members but do not count for the quorum.
	Drained bool
}

// SetShard sets the shard's configured nodes, self included, as the config
// repository names them; the agent calls it with every applied revision.
// Nodes with other names are refused from then on. It starts a ping round
// at once, which joins the peers that answer (see probeLoop).
func (p *Pool) SetShard(nodes []Peer) {
	shard := make(map[string]Peer, len(nodes))
	for _, n := range nodes {
		shard[n.Name] = n
	}
	p.mu.Lock()
	same := maps.Equal(shard, p.shard)
	p.shard = shard
	for name := range shard {
		delete(p.strangers, name) // log it again if it leaves the shard
	}
	p.mu.Unlock()
	if same {
		return
	}
	select {
	case p.kickCh <- struct{}{}:
	default:
	}
}

// configured reports whether name is a node of the shard.
func (p *Pool) configured(name string) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	_, ok := p.shard[name]
	return ok
}

// refuse logs the first refusal of a stranger's name.
func (p *Pool) refuse(name, addr string) {
	p.mu.Lock()
	first := len(p.shard) > 0 && !p.strangers[name]
	if first {
		p.strangers[name] = true
	}
	p.stats.Refused++
	p.mu.Unlock()
	if first {
		p.log.Warn("ignoring pool member not in the configuration", "member", name, "addr", addr)
	}
}

// delegate is the pool as memberlist's Events, Alive and Merge delegates.
type delegate struct{ p *Pool }

var errStranger = errors.New("not a node of this shard in the configuration")

// NotifyAlive refuses a node that is not a configured node of the shard:
// memberlist then ignores its alive messages, so it never becomes a member
// here, and memberlist logs the refusal (at debug level, as all its lines).
// Before the first SetShard every other node is refused, silently.
func (d *delegate) NotifyAlive(n *memberlist.Node) error {
	if n.Name == d.p.cfg.Node || d.p.configured(n.Name) {
		return nil
	}
	d.p.refuse(n.Name, n.Address())
	return errStranger
}

// NotifyMerge refuses a state exchange (a join, either way) with a pool
// that holds no configured node but this one: a stranger, or another
// shard's pool reached by a wrong address.
func (d *delegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, n := range peers {
		if n.Name != d.p.cfg.Node && d.p.configured(n.Name) {
			return nil
		}
	}
	for _, n := range peers {
		if n.Name != d.p.cfg.Node {
			d.p.refuse(n.Name, n.Address())
		}
	}
	return errStranger
}

// Interface guards.
var (
	_ memberlist.EventDelegate = (*delegate)(nil)
	_ memberlist.AliveDelegate = (*delegate)(nil)
	_ memberlist.MergeDelegate = (*delegate)(nil)
)
