package pool

import (
	"net"
	"sync"
	"time"
)

// joinRetry is how often the pool joins again a peer that answers its pings
// but is not a member.
const joinRetry = 5 * time.Second

// target is a peer to ping: its name and the address to reach it at.
type target struct{ name, addr string }

// probeLoop pings every configured peer each PingInterval (and at once
// after SetShard changed the shard), joins the peers that answered but are
// not members, and reports changes. Pings go to drained peers too: they do
// not count for the quorum, but their state is shown and they are joined
// like the others.
func (p *Pool) probeLoop() {
	defer p.loops.Done()
	tick := time.NewTicker(PingInterval)
	defer tick.Stop()
	for {
		select {
		case <-p.done:
			return
		case <-tick.C:
		case <-p.kickCh:
		}
		acked := p.pingRound()
		p.join(acked)
		p.checkChanged()
	}
}

// pingRound pings every peer at once, each bounded by the probe timeout,
// records the acks and returns the peers that acked.
func (p *Pool) pingRound() []target {
	targets := p.targets()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		acked []target
	)
	for _, t := range targets {
		wg.Go(func() {
			ok := p.ping(t)
			p.mu.Lock()
			p.stats.Pings++
			if !ok {
				p.stats.PingFailures++
			}
			p.mu.Unlock()
			if ok {
				mu.Lock()
				acked = append(acked, t)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return acked
}

// targets are the configured peers, at the address memberlist knows for the
// members and at the configured one for the others.
func (p *Pool) targets() []target {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ts []target
	for name, peer := range p.shard {
		if name == p.cfg.Node {
			continue
		}
		addr := peer.Addr
		if v := p.view[name]; v != nil && !v.dead {
			addr = v.addr
		}
		ts = append(ts, target{name, addr})
	}
	return ts
}

// ping sends one memberlist ping, which only the node of that name answers
// (the ping carries the name, and only holders of the key can read it). An
// ack is recorded at the time the ping was sent: the peer answered no
// earlier, and a late-scheduled goroutine cannot stretch the evidence.
func (p *Pool) ping(t target) bool {
	ua, err := net.ResolveUDPAddr("udp", t.addr)
	if err != nil {
		p.log.Debug("pool ping", "member", t.name, "addr", t.addr, "err", err)
		return false
	}
	sent := p.now()
	if _, err := p.ml.Ping(t.name, ua); err != nil {
		return false
	}
	p.recordAck(t.name, sent)
	return true
}

// join joins the peers that acked but are not members, each at most every
// joinRetry, one goroutine each. A peer that answers a ping is up, so the
// dial does not hang for memberlist's TCP timeout; peers that do not answer
// are not dialled at all. memberlist itself never dials a dead node again,
// so without this a partition that outlived its gossip to the dead would
// not heal.
func (p *Pool) join(acked []target) {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, t := range acked {
		if v := p.view[t.name]; v != nil && !v.dead {
			continue
		}
		if p.joining[t.name] || now.Sub(p.lastJoin[t.name]) < joinRetry {
			continue
		}
		p.joining[t.name] = true
		p.lastJoin[t.name] = now
		p.stats.Joins++
		p.joins.Add(1)
		go func() {
			defer p.joins.Done()
			_, err := p.ml.Join([]string{t.name + "/" + t.addr})
			p.mu.Lock()
			delete(p.joining, t.name)
			if err != nil {
				p.stats.JoinFailures++
			}
			p.mu.Unlock()
			if err != nil {
				p.log.Debug("pool join", "member", t.name, "addr", t.addr, "err", err)
			}
		}()
	}
}
