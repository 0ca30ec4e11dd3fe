// Package config decodes the agent configuration (/etc/drover/agent.hcl,
// design.md §6.1). Every key has a default; unknown keys are errors. Paths and names
// that end up in supervisord or nginx files are checked to be plain, so no
// setting can inject syntax there.
package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/internal/trust"
	"github.com/drover-sh/drover/render"
)

// Config is the agent configuration with defaults applied.
type Config struct {
	Node        string
	StateDir    string
	Source      Source
	Supervisor  Supervisor
	Nginx       Nginx
	StorageRoot string
	Binary      string
	// ExecBinary is the exec wrapper supervisord starts for every daemon;
	// "" is Binary. drover-exec, built from agent/launch alone, starts in
	// half the CPU (README, "Running a daemon exactly as written").
	ExecBinary string
	// Network is nil when the block is omitted: drover then manages no
	// addresses, routes or nftables.
	Network *Network
	API     API
	Tenants Tenants
	// Pool is nil when the block is omitted: no failover.
	Pool *Pool
	// Trust is nil when the block is omitted: commits are applied whoever
	// signed them. Otherwise a revision the policy refuses is rejected
	// (internal/trust, design.md §6.15).
	Trust *trust.Policy
	// Secrets is nil when the block is omitted: the node has no age key,
	// and a daemon with an encrypted environment value fails here.
	Secrets *Secrets
}

// Secrets is the node's age key, which opens the encrypted environment
// values of its daemons (design.md §2.14).
type Secrets struct {
	// KeyFile holds the node's age X25519 identity: root-owned, mode 0600
	// or stricter (checked when the agent opens).
	KeyFile string
}

// DefaultSecretsKeyFile is the usual place of the node's age key.
const DefaultSecretsKeyFile = "/etc/drover/age.key"

// Source is where the config repository comes from.
type Source struct {
	URL            string
	Branch         string
	Path           string
	PollInterval   time.Duration
	SSHKeyFile     string
	KnownHostsFile string
	TokenFile      string
	// AllowInsecureTransport admits http:// and git:// URLs, which let
	// anyone on the network path serve the node a repository of their own.
	AllowInsecureTransport bool
	// Timeout bounds each contact with the repository: one ls-remote, one
	// fetch.
	Timeout time.Duration
	// MaxConfigBytes bounds the config files of a revision together
	// (spec.Loader.MaxBytes; 0 is spec.DefaultMaxRepoBytes). CI sets the
	// same with DROVER_MAX_CONFIG_MB.
	MaxConfigBytes int
}

// Supervisor locates supervisord and bounds how drover drives it.
type Supervisor struct {
	ConfDir string
	Socket  string
	// MaxParallelRestarts bounds the processes being restarted at once
	// when a change touches many programs.
	MaxParallelRestarts int
	// CallTimeout bounds every request to supervisord.
	CallTimeout time.Duration
}

// Nginx locates nginx and how to test and reload it.
type Nginx struct {
	ConfDir       string
	Listen        []string
	TestCommand   []string
	ReloadCommand []string
	// CommandTimeout bounds each test and reload command.
	CommandTimeout time.Duration
}

// Network names the interfaces and nftables table drover manages.
type Network struct {
	TenantInterface  string
	TransitInterface string
	NftTable         string
}

// API is where the agent serves its local API and metrics.
type API struct {
	Socket        string
	MetricsListen string
	// WebhookListen is the TCP address of the webhook endpoint, "" for none.
	WebhookListen string
	// WebhookSecretFile holds the HMAC secret of the webhook.
	WebhookSecretFile string
}

// Tenants bounds the uids the config repository may give tenants. The
// agent runs a tenant's daemons only as a uid inside the range whose passwd
// entry carries the tenant's name.
type Tenants struct {
	UIDMin, UIDMax uint32
}

// Defaults, as documented in design.md §6.1 and the README.
var defaults = Config{
	StateDir: "/var/lib/drover",
	Source: Source{
		Branch:       "main",
		PollInterval: 30 * time.Second,
		Timeout:      2 * time.Minute,
	},
	Supervisor: Supervisor{
		ConfDir:             "/etc/supervisor/conf.d",
		Socket:              "/var/run/supervisor.sock",
		MaxParallelRestarts: 32,
		CallTimeout:         30 * time.Second,
	},
	Nginx: Nginx{
		ConfDir:        "/etc/nginx/drover",
		Listen:         []string{"80", "[::]:80"},
		TestCommand:    []string{"nginx", "-t"},
		ReloadCommand:  []string{"nginx", "-s", "reload"},
		CommandTimeout: time.Minute,
	},
	StorageRoot: "/var/www/storage",
	Binary:      "/usr/local/bin/drover",
	API: API{
		Socket:        "/run/drover/agent.sock",
		MetricsListen: "127.0.0.1:9181",
	},
	// Below 10000: the machine's own login accounts (Debian's first is
	// 1000); above 59999: Debian's reserved and dynamic ranges, nobody
	// (65534) and container subordinate uids.
	Tenants: Tenants{UIDMin: 10000, UIDMax: 59999},
}

// maxParallelRestarts bounds supervisor.max_parallel_restarts: more would
// be a thundering herd, not a rolling restart.
const maxParallelRestarts = 1000

// Default returns the configuration used when no file is given (drover
// render without --config): every default, no node, no network block.
func Default() *Config {
	c := defaults
	c.Nginx.Listen = append([]string(nil), defaults.Nginx.Listen...)
	c.Nginx.TestCommand = append([]string(nil), defaults.Nginx.TestCommand...)
	c.Nginx.ReloadCommand = append([]string(nil), defaults.Nginx.ReloadCommand...)
	return &c
}

// DefaultNetwork is the network block with every key omitted.
var DefaultNetwork = Network{TenantInterface: "tenant0", TransitInterface: "eth0", NftTable: "drover"}

// RenderOptions are the render settings this configuration implies.
func (c *Config) RenderOptions() render.Options {
	nw := DefaultNetwork
	if c.Network != nil {
		nw = *c.Network
	}
	o := render.Options{
		SupervisorConfDir: c.Supervisor.ConfDir,
		NginxConfDir:      c.Nginx.ConfDir,
		NginxListen:       c.Nginx.Listen,
		StateDir:          c.StateDir,
		StorageRoot:       c.StorageRoot,
		Binary:            c.Binary,
		ExecBinary:        c.ExecBinary,
		APISocket:         c.API.Socket,
		NftTable:          nw.NftTable,
		TenantInterface:   nw.TenantInterface,
		TransitInterface:  nw.TransitInterface,
	}
	if c.Pool != nil { // the guard (design.md §6.13)
		o.Lease, o.SupervisorSocket = c.Pool.LeaseFile, c.Supervisor.Socket
	}
	return o
}

var (
	// safePathRe admits absolute paths that need no quoting in supervisord
	// or nginx files: no spaces, '%', ';', '#', quotes, '$' or braces.
	safePathRe = regexp.MustCompile(`^(/[A-Za-z0-9._+@-]+)+$`)
	listenRe   = regexp.MustCompile(`^[A-Za-z0-9.:\[\]_= -]+$`)
	ifNameRe   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,15}$`)
	nftNameRe  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]{0,31}$`)
)

func set[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

func errorAt(rng hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	r := rng
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: &r}
}

func checkPath(key, p string, rng hcl.Range) hcl.Diagnostics {
	if safePathRe.MatchString(p) && !strings.Contains(p, "/../") && !strings.HasSuffix(p, "/..") {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid path",
		"%s = %q must be an absolute path of plain names (letters, digits, '.', '_', '+', '@', '-'), without a trailing '/' or '..': it is written into supervisord and nginx files.", key, p)}
}

func checkIfName(key, name string, rng hcl.Range) hcl.Diagnostics {
	if ifNameRe.MatchString(name) {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid interface name",
		"%s = %q is not a Linux interface name (1 to 15 letters, digits, '.', '_' or '-').", key, name)}
}

func checkCommand(key string, argv []string, rng hcl.Range) hcl.Diagnostics {
	if len(argv) > 0 && argv[0] != "" {
		return nil
	}
	return hcl.Diagnostics{errorAt(rng, "Invalid command", "%s must name a program, like [\"nginx\", \"-t\"].", key)}
}
