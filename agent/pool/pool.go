// Package pool is a node's membership in its shard's pool: a
// hashicorp/memberlist cluster of the shard's agents, encrypted with a
// shared key, that admits only the nodes the config repository names. It
// reports each configured node's state (alive, suspect, dead, unknown, each
// with the time it entered it) and whether this node sees a majority of its
// shard, from direct pings (Quorum).
//
// memberlist runs its own SWIM probes and gossip; the pool adds three things
// memberlist does not do: it refuses strangers (AliveDelegate,
// MergeDelegate), it pings every configured peer itself each second for the
// quorum evidence, and it joins again the peers that answer those pings but
// memberlist does not list alive (memberlist stops gossiping to a dead node
// after GossipToTheDeadTime and never dials it again, so a partition that
// healed later would stay split).
package pool

import (
	"errors"
	"fmt"
	"log"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Config configures a pool. Zero durations and counts take memberlist's LAN
// defaults (probe every 1s with a 500ms timeout, gossip every 200ms,
// suspicion multiplier 4) and a quorum window of 3s.
type Config struct {
	// Node is this node's name, its memberlist name.
	Node string
	// Bind is the address memberlist listens on (TCP and UDP), "host:port";
	// port 0 picks a free port (tests). Advertise is the address the others
	// reach this node at; "" is Bind.
	Bind, Advertise string
	// Key is the shared encryption key: 16, 24 or 32 bytes (AES-128, -192,
	// -256). Required: a pool never runs in clear text.
	Key []byte

	ProbeInterval, ProbeTimeout, GossipInterval time.Duration
	SuspicionMult                               int
	// QuorumWindow is how long a ping acknowledgement counts as evidence
	// that a peer is up (see Quorum).
	QuorumWindow time.Duration

	// Log receives the pool's own lines; memberlist's go to it at debug
	// level. nil is slog.Default().
	Log *slog.Logger
	// Now is the clock of the pool's bookkeeping (ack times, state
	// changes); nil is time.Now. memberlist keeps its own.
	Now func() time.Time

	// tune, when set (tests only), adjusts memberlist's configuration last.
	tune func(*memberlist.Config) error
}

// DefaultQuorumWindow is Config.QuorumWindow when it is zero.
const DefaultQuorumWindow = 3 * time.Second

// PingInterval is how often the pool pings every configured peer: the pace
// of the quorum evidence.
const PingInterval = time.Second

// leaveTimeout bounds the leave broadcast of Close.
const leaveTimeout = time.Second

// Pool is a running membership. Its methods are safe for concurrent use.
type Pool struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	ml      *memberlist.Memberlist
	start   time.Time
	changed func()

	notifyCh chan struct{} // capacity 1: coalesces calls of changed
	kickCh   chan struct{} // capacity 1: a ping round now (new shard)
	done     chan struct{}
	loops    sync.WaitGroup // the probe and notify loops
	joins    sync.WaitGroup // Join calls in flight
	closed   sync.Once

	mu    sync.Mutex
	self  string          // the advertised address, "host:port"
	shard map[string]Peer // configured nodes by name, self included
	view  map[string]*memberView
	acks  map[string]time.Time // last ping ack by peer name
	// lastJoin is when the pool last began joining a peer; joining marks
	// those in flight.
	lastJoin  map[string]time.Time
	joining   map[string]bool
	strangers map[string]bool // names already logged as not configured
	last      string          // the states and quorum last reported to changed
	stats     Stats
}

// Start creates this node's memberlist, listening on cfg.Bind, but joins
// nobody until SetShard names the shard's nodes. changed is called, from a
// goroutine of the pool and never twice at once, after a member's state or
// the quorum changed; calls are coalesced, so it sees the latest state,
// not every step. Close stops it.
func Start(cfg Config, changed func()) (*Pool, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	mc, err := cfg.memberlistConfig()
	if err != nil {
		return nil, err
	}
	p := &Pool{
		cfg: cfg, log: cfg.Log, now: cfg.Now, changed: changed,
		notifyCh: make(chan struct{}, 1), kickCh: make(chan struct{}, 1), done: make(chan struct{}),
		shard: map[string]Peer{}, view: map[string]*memberView{}, acks: map[string]time.Time{},
		lastJoin: map[string]time.Time{}, joining: map[string]bool{}, strangers: map[string]bool{},
	}
	p.start = p.now()
	d := &delegate{p}
	mc.Events, mc.Alive, mc.Merge = d, d, d
	mc.Logger = log.New(&debugWriter{p.log}, "", 0)
	if cfg.tune != nil {
		if err := cfg.tune(mc); err != nil {
			return nil, err
		}
	}
	p.ml, err = memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("start pool on %s: %w", cfg.Bind, err)
	}
	p.mu.Lock()
	p.self = p.ml.LocalNode().Address()
	p.mu.Unlock()
	p.loops.Add(2)
	go p.notifyLoop()
	go p.probeLoop()
	return p, nil
}

// fill applies the defaults and checks what has none.
func (c *Config) fill() error {
	if c.Node == "" {
		return errors.New("start pool: no node name")
	}
	switch len(c.Key) {
	case 16, 24, 32:
	default:
		return fmt.Errorf("start pool: the key is %d bytes; it must be 16, 24 or 32", len(c.Key))
	}
	lan := memberlist.DefaultLANConfig()
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.ProbeInterval, lan.ProbeInterval)
	def(&c.ProbeTimeout, lan.ProbeTimeout)
	def(&c.GossipInterval, lan.GossipInterval)
	def(&c.QuorumWindow, DefaultQuorumWindow)
	if c.SuspicionMult <= 0 {
		c.SuspicionMult = lan.SuspicionMult
	}
	if c.Advertise == "" {
		c.Advertise = c.Bind
	}
	if c.Log == nil {
		c.Log = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// memberlistConfig is memberlist's LAN configuration with the pool's
// settings: encrypted, verifying both ways, no delegates yet.
func (c *Config) memberlistConfig() (*memberlist.Config, error) {
	mc := memberlist.DefaultLANConfig()
	mc.Name = c.Node
	var err error
	if mc.BindAddr, mc.BindPort, err = splitHostPort("bind", c.Bind); err != nil {
		return nil, err
	}
	if mc.AdvertiseAddr, mc.AdvertisePort, err = splitHostPort("advertise", c.Advertise); err != nil {
		return nil, err
	}
	mc.SecretKey = c.Key
	mc.GossipVerifyIncoming, mc.GossipVerifyOutgoing = true, true
	mc.ProbeInterval, mc.ProbeTimeout = c.ProbeInterval, c.ProbeTimeout
	mc.GossipInterval, mc.SuspicionMult = c.GossipInterval, c.SuspicionMult
	return mc, nil
}

func splitHostPort(what, addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		var n int
		if n, err = strconv.Atoi(port); err == nil && n >= 0 && n <= 65535 {
			return host, n, nil
		}
		err = fmt.Errorf("port %q is not a number from 0 to 65535", port)
	}
	return "", 0, fmt.Errorf("start pool: %s address %q: %w; write it as host:port", what, addr, err)
}

// Addr is the address the pool advertises, "host:port" (with the port
// memberlist picked when Bind asked for port 0).
func (p *Pool) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.self
}

// Close leaves the pool (telling the others, for at most a second), stops
// memberlist and waits for every goroutine of the pool.
func (p *Pool) Close() error {
	var err error
	p.closed.Do(func() {
		close(p.done)
		p.loops.Wait()
		if e := p.ml.Leave(leaveTimeout); e != nil {
			p.log.Debug("pool leave", "err", e)
		}
		err = p.ml.Shutdown()
		p.joins.Wait()
	})
	if err != nil {
		return fmt.Errorf("stop pool: %w", err)
	}
	return nil
}

// notify asks for one call of changed without waiting for it.
func (p *Pool) notify() {
	select {
	case p.notifyCh <- struct{}{}:
	default:
	}
}

func (p *Pool) notifyLoop() {
	defer p.loops.Done()
	for {
		select {
		case <-p.done:
			return
		case <-p.notifyCh:
			if p.changed != nil {
				p.changed()
			}
		}
	}
}

// debugWriter carries memberlist's log lines to slog at debug level.
type debugWriter struct{ log *slog.Logger }

func (w *debugWriter) Write(b []byte) (int, error) {
	n := len(b)
	for n > 0 && b[n-1] == '\n' {
		n--
	}
	w.log.Debug(string(b[:n]), "component", "memberlist")
	return len(b), nil
}
