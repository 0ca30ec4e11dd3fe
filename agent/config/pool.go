package config

import (
	"errors"
	"maps"
	"net"
	"net/netip"
	"regexp"
	"slices"
	"strconv"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// Pool is the failover membership: the agents of a shard form a memberlist
// pool, and the daemons of a node the pool has seen dead run elsewhere.
// Without a pool block there is no failover.
type Pool struct {
	// Port is the pool's TCP and UDP port.
	Port int
	// Bind is the address the pool listens on; "" is this node's transit
	// address (the network block must be set then). Advertise is the
	// address the other nodes reach this one at; "" is Bind.
	Bind, Advertise string
	// Peers are the other nodes' pool addresses by node name, "host:port";
	// nil (or an empty map) is every other node of the shard at its transit
	// address and Port.
	Peers map[string]string
	// KeyFile holds the shared encryption key (pool.ReadKey checks it when
	// the agent opens).
	KeyFile string
	// LeaseFile is the singleton lease the agent renews while the node
	// holds quorum and `drover guard` watches.
	LeaseFile string
	// FailoverAfter is how long a node must be dead before its daemons
	// move; FailbackAfter how long it must be alive again before they move
	// back.
	FailoverAfter, FailbackAfter time.Duration
	// QuorumWindow is how long a peer's ping ack counts as evidence that it
	// is up.
	QuorumWindow time.Duration
	// memberlist's timings.
	ProbeInterval, ProbeTimeout, GossipInterval time.Duration
	SuspicionMult                               int
}

// DefaultPool is the pool block with only key_file set to its usual place.
var DefaultPool = Pool{
	Port:           7946,
	KeyFile:        "/etc/drover/pool.key",
	LeaseFile:      "/run/drover/lease",
	FailoverAfter:  10 * time.Second,
	FailbackAfter:  60 * time.Second,
	QuorumWindow:   3 * time.Second,
	ProbeInterval:  time.Second,
	ProbeTimeout:   500 * time.Millisecond,
	GossipInterval: 200 * time.Millisecond,
	SuspicionMult:  4,
}

// nodeNameRe is a node name as the config repository allows it.
var nodeNameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// minQuorumWindow: the pool pings every peer each second, so a shorter
// window would lose quorum between two acks.
const minQuorumWindow = 2 * time.Second

type rawPool struct {
	DefRange       hcl.Range         `hcl:",def_range"`
	Port           *int              `hcl:"port,optional"`
	PortRange      hcl.Range         `hcl:"port,attr_value_range"`
	Bind           *string           `hcl:"bind,optional"`
	BindRange      hcl.Range         `hcl:"bind,attr_value_range"`
	Advertise      *string           `hcl:"advertise,optional"`
	AdvertiseRange hcl.Range         `hcl:"advertise,attr_value_range"`
	Peers          map[string]string `hcl:"peers,optional"`
	PeersRange     hcl.Range         `hcl:"peers,attr_value_range"`
	KeyFile        *string           `hcl:"key_file,optional"`
	KeyFileRange   hcl.Range         `hcl:"key_file,attr_value_range"`
	LeaseFile      *string           `hcl:"lease_file,optional"`
	LeaseFileRange hcl.Range         `hcl:"lease_file,attr_value_range"`
	FailoverAfter  *string           `hcl:"failover_after,optional"`
	FailoverRange  hcl.Range         `hcl:"failover_after,attr_value_range"`
	FailbackAfter  *string           `hcl:"failback_after,optional"`
	FailbackRange  hcl.Range         `hcl:"failback_after,attr_value_range"`
	QuorumWindow   *string           `hcl:"quorum_window,optional"`
	QuorumRange    hcl.Range         `hcl:"quorum_window,attr_value_range"`
	ProbeInterval  *string           `hcl:"probe_interval,optional"`
	IntervalRange  hcl.Range         `hcl:"probe_interval,attr_value_range"`
	ProbeTimeout   *string           `hcl:"probe_timeout,optional"`
	TimeoutRange   hcl.Range         `hcl:"probe_timeout,attr_value_range"`
	GossipInterval *string           `hcl:"gossip_interval,optional"`
	GossipRange    hcl.Range         `hcl:"gossip_interval,attr_value_range"`
	SuspicionMult  *int              `hcl:"suspicion_mult,optional"`
	SuspicionRange hcl.Range         `hcl:"suspicion_mult,attr_value_range"`
}

// parsePool checks the pool block; network tells whether the network block
// is set (it supplies the default bind address).
func parsePool(r *rawPool, network bool) (*Pool, hcl.Diagnostics) {
	p := DefaultPool
	var diags hcl.Diagnostics
	if r.Port != nil {
		p.Port = *r.Port
		if p.Port < 1 || p.Port > 65535 {
			diags = append(diags, errorAt(r.PortRange, "Invalid pool port", "pool.port must be between 1 and 65535; it is %d.", p.Port))
		}
	}
	addr := func(key string, v *string, rng hcl.Range, dst *string) {
		if v == nil || *v == "" {
			return
		}
		*dst = *v
		if _, err := netip.ParseAddr(*v); err != nil {
			diags = append(diags, errorAt(rng, "Invalid pool address",
				"pool.%s = %q is not an IP address. Write an address of this node, like \"10.0.0.1\" or \"fd00::1\", without a port (the port is pool.port).", key, *v))
		}
	}
	addr("bind", r.Bind, r.BindRange, &p.Bind)
	addr("advertise", r.Advertise, r.AdvertiseRange, &p.Advertise)
	switch {
	case p.Bind == "" && !network:
		diags = append(diags, errorAt(r.DefRange, "Missing pool bind address",
			"Without a network block there is no transit address to bind the pool to: set pool.bind to an address of this node the other nodes of the shard reach."))
	case p.Advertise == "" && isUnspecified(p.Bind):
		diags = append(diags, errorAt(r.BindRange, "Missing pool advertise address",
			"pool.bind = %q listens on every address; set pool.advertise to the one the other nodes of the shard reach this node at.", p.Bind))
	}
	if len(r.Peers) > 0 {
		p.Peers = r.Peers
		for _, name := range slices.Sorted(maps.Keys(r.Peers)) {
			diags = append(diags, checkPeer(name, r.Peers[name], r.PeersRange)...)
		}
	}
	if r.KeyFile == nil {
		diags = append(diags, errorAt(r.DefRange, "Missing pool key file",
			"pool.key_file is required: the pool never runs unencrypted. Create the key once with `head -c 32 /dev/urandom > %[1]s && chmod 600 %[1]s`, copy the same file to every node of the shard and set key_file = %[1]q.", DefaultPool.KeyFile))
	} else {
		p.KeyFile = *r.KeyFile
		diags = append(diags, checkPath("pool.key_file", p.KeyFile, r.KeyFileRange)...)
	}
	set(&p.LeaseFile, r.LeaseFile)
	diags = append(diags, checkPath("pool.lease_file", p.LeaseFile, r.LeaseFileRange)...)
	for _, d := range []struct {
		key string
		v   *string
		rng hcl.Range
		dst *time.Duration
	}{
		{"failover_after", r.FailoverAfter, r.FailoverRange, &p.FailoverAfter},
		{"failback_after", r.FailbackAfter, r.FailbackRange, &p.FailbackAfter},
		{"quorum_window", r.QuorumWindow, r.QuorumRange, &p.QuorumWindow},
		{"probe_interval", r.ProbeInterval, r.IntervalRange, &p.ProbeInterval},
		{"probe_timeout", r.ProbeTimeout, r.TimeoutRange, &p.ProbeTimeout},
		{"gossip_interval", r.GossipInterval, r.GossipRange, &p.GossipInterval},
	} {
		if d.v == nil {
			continue
		}
		v, err := time.ParseDuration(*d.v)
		if err != nil || v <= 0 {
			diags = append(diags, errorAt(d.rng, "Invalid pool duration",
				"pool.%s = %q is not a positive duration. Write it like \"10s\", \"500ms\" or \"2m\".", d.key, *d.v))
			continue
		}
		*d.dst = v
	}
	if r.SuspicionMult != nil {
		p.SuspicionMult = *r.SuspicionMult
		if p.SuspicionMult < 1 || p.SuspicionMult > 100 {
			diags = append(diags, errorAt(r.SuspicionRange, "Invalid suspicion_mult",
				"pool.suspicion_mult must be between 1 and 100; it is %d.", p.SuspicionMult))
		}
	}
	if diags.HasErrors() {
		return nil, diags
	}
	if p.QuorumWindow < minQuorumWindow {
		diags = append(diags, errorAt(r.QuorumRange, "Quorum window too short",
			"pool.quorum_window = %s: the pool pings its peers every second, so the window must be at least %s (the default, 3s, outlasts one lost ping).", p.QuorumWindow, minQuorumWindow))
	}
	if p.ProbeTimeout >= p.ProbeInterval {
		rng := r.TimeoutRange
		if r.ProbeTimeout == nil {
			rng = r.IntervalRange
		}
		diags = append(diags, errorAt(rng, "Probe timeout not below the interval",
			"pool.probe_timeout (%s) must be shorter than pool.probe_interval (%s): a probe must end before the next one starts.", p.ProbeTimeout, p.ProbeInterval))
	}
	if diags.HasErrors() {
		return nil, diags
	}
	return &p, nil
}

func isUnspecified(addr string) bool {
	a, err := netip.ParseAddr(addr)
	return err == nil && a.IsUnspecified()
}

// checkPeer checks one entry of pool.peers: a node name and a host:port.
func checkPeer(name, addr string, rng hcl.Range) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if !nodeNameRe.MatchString(name) {
		diags = append(diags, errorAt(rng, "Invalid pool peer",
			"pool.peers has the key %q, which is not a node name (lower-case letters, digits, '_' and '-', starting with a letter or digit).", name))
	}
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 1 || n > 65535 || host == "" {
			err = errors.New("bad port or host")
		}
	}
	if err != nil {
		diags = append(diags, errorAt(rng, "Invalid pool peer",
			"pool.peers[%q] = %q is not a host:port address. Write it like \"10.0.0.2:7946\" or \"[fd00::2]:7946\".", name, addr))
	}
	return diags
}
