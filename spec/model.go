// Package spec decodes and validates a drover config repository: every *.hcl
// and *.hcl.json file below a config root forms one Config. Everything the
// later stages (netplan, render) rely on is checked here, with diagnostics that
// carry the source range of the offending input.
package spec

import (
	"net/netip"

	"github.com/hashicorp/hcl/v2"
)

// Defaults applied when an optional attribute is omitted; a daemon's are
// in fields.go.
const (
	DefaultMaxDaemonsPerWebroot = 10
	DefaultWeight               = 1
)

// Config is one validated configuration: a cluster, its shards and tenants.
// Slices are sorted by name so every consumer sees the same order.
type Config struct {
	Cluster *Cluster
	Shards  []*Shard
	Tenants []*Tenant
}

// Cluster holds cluster-wide settings.
type Cluster struct {
	Name string
	// ULAPrefix is the configured /32, or the zero Prefix when the cluster
	// uses the derived default (see netplan.ClusterPrefix).
	ULAPrefix            netip.Prefix
	MaxDaemonsPerWebroot int
	DefRange             hcl.Range
}

// Shard is a group of nodes that serve the same tenants.
type Shard struct {
	Name     string
	Nodes    []*Node // sorted by name
	DefRange hcl.Range
}

// Node is one machine of a shard.
type Node struct {
	Name   string
	Shard  string
	Index  int
	Weight float64
	Drain  bool
	// AgeRecipient is the public half of the node's age key ("age1…"),
	// to which sealed environment values are encrypted; "" when the node
	// has none.
	AgeRecipient string
	DefRange     hcl.Range
}

// Tenant is a hosting customer: one Linux user on every node of its shard.
type Tenant struct {
	Name string
	// UID is 32 bits, as the kernel's uid_t: MinUID..MaxUID.
	UID      uint32
	Shard    string
	Webroots []*Webroot // sorted by name
}

// Webroot is a document root of a tenant; daemons hang off it.
type Webroot struct {
	Tenant       string
	Name         string
	ServerNames  []string
	PublicFolder string
	Daemons      []*Daemon // sorted by name
}

// Daemon is one long-running program of a webroot, with defaults applied.
// Its attributes are described in DaemonFields.
type Daemon struct {
	Tenant       string
	Webroot      string
	Name         string
	Command      string
	ProxyPath    string // "" when the daemon is not proxied
	NumProcs     int
	StopSignal   string
	StopWaitSecs int
	MaxMemoryMB  int    // 0 when unlimited
	MaxOpenFiles int    // RLIMIT_NOFILE; 0 when inherited
	Restart      string // "always" or "on-failure" (RestartPolicies)
	Environment  Env
	// EnvFile is a file relative to the webroot that drover exec reads
	// variables from, as the tenant; "" when there is none.
	EnvFile string
	// RestartOnChange is a file relative to the webroot whose content,
	// when it changes, has the agent restart the daemon (a deploy's
	// REVISION); "" when there is none.
	RestartOnChange string
	// Health is the daemon's health check; nil when it has none (only a
	// proxied daemon may have one).
	Health  *Health
	Enabled bool
	// Singleton: at most one copy runs in the cluster, also during a
	// partition; false ("available") may run on both sides of one.
	Singleton bool
	Port      int    // pinned port, 0 when not pinned
	Node      string // pinned node, "" when not pinned
}

// Key is the daemon's identity everywhere: "{tenant}/{webroot}/{daemon}".
func (d *Daemon) Key() string { return d.Tenant + "/" + d.Webroot + "/" + d.Name }

// Program is the supervisord program name: "daemon-{tenant}-{daemon}".
func (d *Daemon) Program() string { return ProgramName(d.Tenant, d.Name) }

// Shard returns the shard called name, or nil.
func (c *Config) Shard(name string) *Shard {
	for _, s := range c.Shards {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Node returns the node called name in any shard, or nil.
func (c *Config) Node(name string) *Node {
	for _, s := range c.Shards {
		if n := s.Node(name); n != nil {
			return n
		}
	}
	return nil
}

// Node returns the shard's node called name, or nil.
func (s *Shard) Node(name string) *Node {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}
