package pool

// Stats are the pool's figures for metrics: gauges of the configured nodes
// by state and of the quorum, counters since Start of the rest.
type Stats struct {
	// Configured nodes by state, self included.
	Alive, Suspect, Dead, Unknown int
	// Quorum is whether quorum holds now.
	Quorum bool
	// Pings sent and those not acked within the probe timeout.
	Pings, PingFailures uint64
	// Joins begun, and those that failed.
	Joins, JoinFailures uint64
	// Refused alive and merge messages from nodes not in the shard.
	Refused uint64
}

// Stats returns the current figures.
func (p *Pool) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	s := p.stats
	for _, m := range p.membersLocked(now) {
		switch m.State {
		case Alive:
			s.Alive++
		case Suspect:
			s.Suspect++
		case Dead:
			s.Dead++
		default:
			s.Unknown++
		}
	}
	s.Quorum, _ = p.quorumLocked(now)
	return s
}
