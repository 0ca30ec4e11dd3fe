package netplan

import (
	"fmt"
	"net/netip"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/drover-sh/drover/spec"
)

// NodeReason says why a daemon runs on its node.
type NodeReason string

const (
	NodeRendezvous NodeReason = "rendezvous"  // highest weighted score
	NodePinned     NodeReason = "pinned"      // the daemon's node attribute
	NodePinDrained NodeReason = "pin-drained" // pinned to a drained node: placed by rendezvous
	NodeFailover   NodeReason = "failover"    // its configured node is out: placed by rendezvous over the others (Failover)
)

// Cluster is the placement of every daemon of a configuration.
type Cluster struct {
	Config  *spec.Config
	Prefix  netip.Prefix
	Daemons []*Daemon // sorted by key
	// byKey indexes Daemons, built at the first Daemon call: no pass of
	// the agent needs it, and at 100,000 daemons building it for every
	// revision was 10 MB and ~15 ms.
	byKey     map[string]*Daemon
	indexOnce sync.Once
	// programs are the daemons placed on each node, sorted by program;
	// webroots the webroot plans of each shard (the same on every node of
	// it). Node hands them out shared.
	programs map[*spec.Node][]*Daemon
	webroots map[string][]*WebrootPlan
	// tenants are the configured placement of each tenant, for
	// ComputeFrom and Failover (a Failover result keeps its configured
	// cluster's: failovers are never reused).
	tenants map[*spec.Tenant]*tenantPlan
	// configured is, in a Failover result, the placement it moved daemons
	// from; nil in Compute's.
	configured *Cluster
}

// Daemon is a daemon with its place in the cluster.
type Daemon struct {
	*spec.Daemon
	Key        string
	Program    string
	UID        uint32
	Node       *spec.Node
	NodeReason NodeReason
	// From is the configured node of a daemon a failover moved (Node is
	// where it runs instead); nil otherwise.
	From *spec.Node
	// Port is the daemon's port, 0 when it has no proxy_path.
	Port       int
	PortReason PortReason
	// Host is the tenant's address on the daemon's node.
	Host netip.Addr
}

// Env is the daemon's environment as the process sees it, without the
// standard variables the exec wrapper adds (PATH, HOME, ...): the configured
// environment plus HOST and PORT when the daemon is proxied.
func (d *Daemon) Env() map[string]string {
	env := make(map[string]string, len(d.Environment)+2)
	for _, v := range d.Environment {
		env[v.Name] = v.Value
	}
	if d.ProxyPath != "" {
		env["HOST"] = d.Host.String()
		env["PORT"] = fmt.Sprint(d.Port)
	}
	return env
}

// Compute places every daemon of cfg. cfg must be valid (spec.Build without
// errors).
func Compute(cfg *spec.Config) (*Cluster, error) { return ComputeFrom(nil, cfg) }

// ComputeFrom is Compute reusing what prev (the placement of an earlier
// Config, or nil) computed for a tenant whose model is the same object,
// when the cluster and its shards are the same objects too: a spec.Loader
// builds a revision that changed a few tenant files from the last one
// sharing everything else, and a tenant's placement depends only on its
// own model, its shard's nodes and the cluster's prefix.
func ComputeFrom(prev *Cluster, cfg *spec.Config) (*Cluster, error) {
	c := &Cluster{Config: cfg, Prefix: ClusterPrefix(cfg.Cluster),
		programs: map[*spec.Node][]*Daemon{}, webroots: map[string][]*WebrootPlan{},
		tenants: make(map[*spec.Tenant]*tenantPlan, len(cfg.Tenants))}
	if prev != nil && !sameShards(prev.Config, cfg) {
		prev = nil
	}
	for _, t := range cfg.Tenants {
		var tp *tenantPlan
		if prev != nil {
			tp = prev.tenants[t]
		}
		if tp == nil {
			var err error
			if tp, err = c.placeTenant(t); err != nil {
				return nil, err
			}
		}
		c.tenants[t] = tp
		for _, d := range tp.daemons {
			c.Daemons = append(c.Daemons, d)
			c.programs[d.Node] = append(c.programs[d.Node], d)
		}
		c.webroots[t.Shard] = append(c.webroots[t.Shard], tp.webroots...)
	}
	// The generic sort: sort.Slice's reflection cost a one-daemon pass
	// ~10 ms at 100,000 daemons.
	slices.SortFunc(c.Daemons, func(a, b *Daemon) int { return strings.Compare(a.Key, b.Key) })
	for _, ds := range c.programs {
		slices.SortFunc(ds, func(a, b *Daemon) int { return strings.Compare(a.Program, b.Program) })
	}
	return c, nil
}

// tenantPlan is the placement of one tenant's daemons.
type tenantPlan struct {
	daemons  []*Daemon      // in webroot, then daemon order
	webroots []*WebrootPlan // see webrootPlans
}

// placeTenant places the daemons of t.
func (c *Cluster) placeTenant(t *spec.Tenant) (*tenantPlan, error) {
	shard := c.Config.Shard(t.Shard)
	var all []*spec.Daemon
	for _, w := range t.Webroots {
		all = append(all, w.Daemons...)
	}
	ports := allocatePorts(all)
	placed := make(map[*spec.Daemon]*Daemon, len(all))
	tp := &tenantPlan{daemons: make([]*Daemon, 0, len(all))}
	for _, sd := range all {
		d := &Daemon{Daemon: sd, Key: sd.Key(), Program: sd.Program(), UID: t.UID}
		d.Node, d.NodeReason = place(shard, sd)
		if d.Node == nil {
			return nil, fmt.Errorf("place %s: shard %q has no active node", d.Key, t.Shard)
		}
		d.Host = TenantAddr(c.Prefix, d.Node.Index, t.UID)
		if sd.ProxyPath != "" {
			pa, ok := ports[d.Key]
			if !ok {
				return nil, fmt.Errorf("allocate port for %s: tenant %q has no free port left", d.Key, t.Name)
			}
			d.Port, d.PortReason = pa.Port, pa.Reason
		}
		tp.daemons = append(tp.daemons, d)
		placed[sd] = d
	}
	tp.webroots = webrootPlans(t, placed)
	return tp, nil
}

// sameShards reports whether a and b have the same cluster and shard
// objects (their nodes are part of the shard objects).
func sameShards(a, b *spec.Config) bool {
	if a.Cluster != b.Cluster || len(a.Shards) != len(b.Shards) {
		return false
	}
	for i := range a.Shards {
		if a.Shards[i] != b.Shards[i] {
			return false
		}
	}
	return true
}

// webrootPlans are the plans of the tenant's webroots that need nginx
// configuration (a proxied daemon or server names), in webroot order.
func webrootPlans(t *spec.Tenant, placed map[*spec.Daemon]*Daemon) []*WebrootPlan {
	var out []*WebrootPlan
	for _, w := range t.Webroots {
		var locations []*Daemon
		for _, sd := range w.Daemons {
			if d := placed[sd]; d.ProxyPath != "" {
				locations = append(locations, d)
			}
		}
		if len(locations) > 0 || len(w.ServerNames) > 0 {
			sort.Slice(locations, func(i, j int) bool { return locations[i].ProxyPath < locations[j].ProxyPath })
			out = append(out, &WebrootPlan{Tenant: t, Webroot: w, Locations: locations})
		}
	}
	return out
}

func place(shard *spec.Shard, d *spec.Daemon) (*spec.Node, NodeReason) {
	if d.Node != "" {
		if n := shard.Node(d.Node); n != nil && !n.Drain {
			return n, NodePinned
		}
		return Rendezvous(shard.Nodes, d.Key()), NodePinDrained
	}
	return Rendezvous(shard.Nodes, d.Key()), NodeRendezvous
}

// Daemon returns the placed daemon with the given key, or nil.
func (c *Cluster) Daemon(key string) *Daemon {
	c.indexOnce.Do(func() {
		c.byKey = make(map[string]*Daemon, len(c.Daemons))
		for _, d := range c.Daemons {
			c.byKey[d.Key] = d
		}
	})
	return c.byKey[key]
}
