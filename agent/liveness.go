package agent

import (
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/failover"
	"github.com/drover-sh/drover/agent/lease"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/pool"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// liveness is the agent's side of failover (design.md §6.13): the shard's
// pool, the timeline of what it saw (agent/failover decides from it) and
// the lease the guard watches. The pool starts once a revision names the
// node's shard (its peers and, by default, its transit address come from
// there) and follows the shard's nodes through later revisions.
type liveness struct {
	cfg  config.Pool
	node string
	key  []byte
	log  *slog.Logger
	// resume is the quorum the lease of the previous run carries on;
	// until the pool answers, quorum holds until resume.Until.
	resume failover.Resume
	// changed has a value when the pool reported a change (buffer 1).
	changed chan struct{}

	mu   sync.Mutex
	tl   *failover.Timeline
	pool *pool.Pool  // nil until started
	peer []pool.Peer // the shard's nodes as last given to the pool
	// undrained are the shard's undrained nodes: the pool's majority.
	undrained map[string]bool
	// startErr is why the pool did not start at the last try.
	startErr string
}

// newLiveness reads the pool's key and the lease of the previous run.
func newLiveness(cfg *config.Config, log *slog.Logger) (*liveness, error) {
	p := *cfg.Pool
	key, err := pool.ReadKey(p.KeyFile)
	if err != nil {
		return nil, err
	}
	l := &liveness{cfg: p, node: cfg.Node, key: key, log: log, changed: make(chan struct{}, 1)}
	if old, err := lease.Read(p.LeaseFile); err == nil && old.Valid(lease.Now()) && old.QuorumSince != 0 {
		l.resume = failover.Resume{Since: lease.Time(old.QuorumSince), Until: lease.Time(old.Expires)}
		log.Info("the lease of the previous run is still valid: its quorum goes on",
			"quorum_since", l.resume.Since.Format(time.RFC3339), "lease_until", l.resume.Until.Format(time.RFC3339Nano))
	}
	l.tl = failover.New(cfg.Node, failover.Settings{FailoverAfter: p.FailoverAfter, FailbackAfter: p.FailbackAfter,
		QuorumWindow: p.QuorumWindow}, l.resume)
	return l, nil
}

// snapshot is reconcile.Deps.Liveness: the pool's observations now, and
// what the timeline decides from them.
func (l *liveness) snapshot() *failover.Snapshot {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	l.observe(now)
	return l.tl.At(now)
}

// observe gives the timeline what the pool sees now (l.mu held).
func (l *liveness) observe(now time.Time) {
	if l.pool == nil {
		l.tl.ObserveQuorum(!l.resume.Until.IsZero() && now.Before(l.resume.Until), now)
		return
	}
	members := l.pool.Members()
	obs := make([]failover.Observation, 0, len(members))
	alive := 0
	for _, m := range members {
		down := m.State == pool.Dead || m.State == pool.Unknown
		obs = append(obs, failover.Observation{Name: m.Name, Down: down, Unseen: m.State == pool.Unknown, Since: m.Since})
		if !down && l.undrained[m.Name] {
			alive++
		}
	}
	l.tl.Observe(obs, now)
	q, _ := l.pool.Quorum()
	// The gate wants the pool to list a majority alive too: a node cut off
	// learns that in the exchange in which the others learn it alive.
	l.tl.ObserveQuorum(q && 2*alive > len(l.undrained), now)
}

// follow starts the pool once the node's shard is known, and gives it the
// shard's nodes whenever a revision changes them. shard is nil before a
// revision is loaded.
func (l *liveness) follow(shard *spec.Shard, prefix netip.Prefix) {
	if shard == nil {
		return
	}
	peers := make([]pool.Peer, 0, len(shard.Nodes))
	undrained := map[string]bool{}
	for _, n := range shard.Nodes {
		peers = append(peers, pool.Peer{Name: n.Name, Addr: l.addrOf(n, prefix), Drained: n.Drain})
		if !n.Drain {
			undrained[n.Name] = true
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pool == nil && !l.start(shard, prefix) {
		return
	}
	if slices.Equal(peers, l.peer) {
		return
	}
	l.peer, l.undrained = peers, undrained
	l.pool.SetShard(peers)
}

// addrOf is a node's pool address: pool.peers, else its transit address.
func (l *liveness) addrOf(n *spec.Node, prefix netip.Prefix) string {
	if a, ok := l.cfg.Peers[n.Name]; ok {
		return a
	}
	return net.JoinHostPort(netplan.TransitAddr(prefix, n.Index).Addr().String(), strconv.Itoa(l.cfg.Port))
}

// start starts the pool on pool.bind, by default this node's transit
// address (l.mu held). A failure (the address not there yet) is logged
// once and tried again after the next pass.
func (l *liveness) start(shard *spec.Shard, prefix netip.Prefix) bool {
	bind := l.cfg.Bind
	if bind == "" {
		n := shard.Node(l.node)
		bind = netplan.TransitAddr(prefix, n.Index).Addr().String()
	}
	advertise := ""
	if l.cfg.Advertise != "" {
		advertise = net.JoinHostPort(l.cfg.Advertise, strconv.Itoa(l.cfg.Port))
	}
	p, err := pool.Start(pool.Config{
		Node: l.node, Bind: net.JoinHostPort(bind, strconv.Itoa(l.cfg.Port)), Advertise: advertise, Key: l.key,
		ProbeInterval: l.cfg.ProbeInterval, ProbeTimeout: l.cfg.ProbeTimeout, GossipInterval: l.cfg.GossipInterval,
		SuspicionMult: l.cfg.SuspicionMult, QuorumWindow: l.cfg.QuorumWindow, Log: l.log,
	}, l.notify)
	if err != nil {
		if err.Error() != l.startErr {
			l.log.Error("the pool did not start; trying again after the next pass", "error", err)
		}
		l.startErr = err.Error()
		return false
	}
	l.startErr = ""
	l.pool = p
	l.log.Info("pool started", "bind", p.Addr(), "shard", shard.Name)
	return true
}

// notify is the pool's change callback: it wakes the loop to place again.
func (l *liveness) notify() {
	select {
	case l.changed <- struct{}{}:
	default:
	}
}

// renew writes the lease while the pool sees quorum, naming the singleton
// programs the guard must stop once it lapses. It takes no lock of the
// reconciler's: a pass waiting for a hung dependency does not hold it up.
func (l *liveness) renew(programs []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pool == nil {
		return
	}
	now := time.Now()
	l.observe(now)
	ok, until := l.pool.Quorum()
	if !ok {
		return
	}
	ls := lease.Lease{Expires: lease.ExpiresIn(until.Sub(now)), Programs: programs}
	if since, held := l.tl.QuorumSince(); held {
		ls.QuorumSince = lease.Now() - int64(now.Sub(since))
	}
	if err := lease.Write(l.cfg.LeaseFile, ls); err != nil {
		l.log.Error("renew the lease", "file", l.cfg.LeaseFile, "error", err)
	}
}

// status is the pool as GET /v1/status shows it; nil before it started.
func (l *liveness) status() *localapi.Pool {
	snap := l.snapshot()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pool == nil {
		return nil
	}
	s := &localapi.Pool{Quorum: snap.Quorum(), Members: []localapi.PoolMember{}}
	available := &spec.Daemon{}
	for _, m := range l.pool.Members() {
		s.Members = append(s.Members, localapi.PoolMember{Name: m.Name, State: m.State.String(), Since: m.Since,
			Out: snap.Out(m.Name, available)})
	}
	return s
}

// close leaves the pool.
func (l *liveness) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.pool != nil {
		if err := l.pool.Close(); err != nil {
			l.log.Warn("leave the pool", "error", err)
		}
		l.pool = nil
	}
}

// collectors are the pool's metrics: its configured nodes by state, the
// quorum, and its pings, joins and refusals.
func (l *liveness) collectors() []prometheus.Collector {
	stats := func() pool.Stats {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.pool == nil {
			return pool.Stats{}
		}
		return l.pool.Stats()
	}
	var cs []prometheus.Collector
	for _, st := range []struct {
		state string
		n     func(pool.Stats) int
	}{
		{"alive", func(s pool.Stats) int { return s.Alive }},
		{"suspect", func(s pool.Stats) int { return s.Suspect }},
		{"dead", func(s pool.Stats) int { return s.Dead }},
		{"unknown", func(s pool.Stats) int { return s.Unknown }},
	} {
		cs = append(cs, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "drover_pool_members", Help: "Configured nodes of the shard by state, as this node's pool sees them.",
			ConstLabels: prometheus.Labels{"state": st.state},
		}, func() float64 { return float64(st.n(stats())) }))
	}
	cs = append(cs,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "drover_pool_quorum", Help: "1 while this node sees a majority of its shard's undrained nodes (it may run singletons).",
		}, func() float64 {
			if stats().Quorum {
				return 1
			}
			return 0
		}),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "drover_pool_ping_failures_total", Help: "Pings of the shard's nodes not answered within the probe timeout.",
		}, func() float64 { return float64(stats().PingFailures) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "drover_pool_refused_total", Help: "Messages from nodes not in the shard, refused.",
		}, func() float64 { return float64(stats().Refused) }),
	)
	return cs
}
