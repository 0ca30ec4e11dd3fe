package config

import (
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/drover-sh/drover/internal/trust"
	"github.com/drover-sh/drover/spec"
)

// Parsing: the file's raw blocks, decoded and checked into a Config with
// every problem located.

type rawConfig struct {
	Node        *string        `hcl:"node,optional"`
	StateDir    *string        `hcl:"state_dir,optional"`
	StateRange  hcl.Range      `hcl:"state_dir,attr_value_range"`
	StorageRoot *string        `hcl:"storage_root,optional"`
	StorageRng  hcl.Range      `hcl:"storage_root,attr_value_range"`
	Binary      *string        `hcl:"binary,optional"`
	BinaryRange hcl.Range      `hcl:"binary,attr_value_range"`
	ExecBinary  *string        `hcl:"exec_binary,optional"`
	ExecRange   hcl.Range      `hcl:"exec_binary,attr_value_range"`
	Source      *rawSource     `hcl:"source,block"`
	Supervisor  *rawSupervisor `hcl:"supervisor,block"`
	Nginx       *rawNginx      `hcl:"nginx,block"`
	Network     *rawNetwork    `hcl:"network,block"`
	API         *rawAPI        `hcl:"api,block"`
	Tenants     *rawTenants    `hcl:"tenants,block"`
	Pool        *rawPool       `hcl:"pool,block"`
	Trust       *trust.Block   `hcl:"trust,block"`
	Secrets     *rawSecrets    `hcl:"secrets,block"`
}

type rawSecrets struct {
	KeyFile      *string   `hcl:"key_file,optional"`
	KeyFileRange hcl.Range `hcl:"key_file,attr_value_range"`
}

type rawSource struct {
	URL            *string   `hcl:"url,optional"`
	Branch         *string   `hcl:"branch,optional"`
	Path           *string   `hcl:"path,optional"`
	PollInterval   *string   `hcl:"poll_interval,optional"`
	PollRange      hcl.Range `hcl:"poll_interval,attr_value_range"`
	SSHKeyFile     *string   `hcl:"ssh_key_file,optional"`
	KnownHostsFile *string   `hcl:"known_hosts_file,optional"`
	TokenFile      *string   `hcl:"token_file,optional"`
	AllowInsecure  *bool     `hcl:"allow_insecure_transport,optional"`
	Timeout        *string   `hcl:"timeout,optional"`
	TimeoutRange   hcl.Range `hcl:"timeout,attr_value_range"`
	MaxConfigMB    *int      `hcl:"max_config_mb,optional"`
	MaxConfigRange hcl.Range `hcl:"max_config_mb,attr_value_range"`
}

type rawSupervisor struct {
	ConfDir      *string   `hcl:"conf_dir,optional"`
	ConfDirRange hcl.Range `hcl:"conf_dir,attr_value_range"`
	Socket       *string   `hcl:"socket,optional"`
	SocketRange  hcl.Range `hcl:"socket,attr_value_range"`
	MaxRestarts  *int      `hcl:"max_parallel_restarts,optional"`
	MaxRange     hcl.Range `hcl:"max_parallel_restarts,attr_value_range"`
	CallTimeout  *string   `hcl:"call_timeout,optional"`
	TimeoutRange hcl.Range `hcl:"call_timeout,attr_value_range"`
}

type rawNginx struct {
	ConfDir        *string   `hcl:"conf_dir,optional"`
	ConfDirRange   hcl.Range `hcl:"conf_dir,attr_value_range"`
	Listen         []string  `hcl:"listen,optional"`
	ListenRange    hcl.Range `hcl:"listen,attr_value_range"`
	TestCommand    []string  `hcl:"test_command,optional"`
	TestRange      hcl.Range `hcl:"test_command,attr_value_range"`
	ReloadCommand  []string  `hcl:"reload_command,optional"`
	ReloadRange    hcl.Range `hcl:"reload_command,attr_value_range"`
	CommandTimeout *string   `hcl:"command_timeout,optional"`
	TimeoutRange   hcl.Range `hcl:"command_timeout,attr_value_range"`
}

type rawNetwork struct {
	TenantInterface  *string   `hcl:"tenant_interface,optional"`
	TenantRange      hcl.Range `hcl:"tenant_interface,attr_value_range"`
	TransitInterface *string   `hcl:"transit_interface,optional"`
	TransitRange     hcl.Range `hcl:"transit_interface,attr_value_range"`
	NftTable         *string   `hcl:"nft_table,optional"`
	NftRange         hcl.Range `hcl:"nft_table,attr_value_range"`
}

type rawAPI struct {
	Socket            *string   `hcl:"socket,optional"`
	SocketRange       hcl.Range `hcl:"socket,attr_value_range"`
	MetricsListen     *string   `hcl:"metrics_listen,optional"`
	WebhookListen     *string   `hcl:"webhook_listen,optional"`
	WebhookSecretFile *string   `hcl:"webhook_secret_file,optional"`
}

type rawTenants struct {
	UIDMin      *int64    `hcl:"uid_min,optional"`
	UIDMinRange hcl.Range `hcl:"uid_min,attr_value_range"`
	UIDMax      *int64    `hcl:"uid_max,optional"`
	UIDMaxRange hcl.Range `hcl:"uid_max,attr_value_range"`
}

// Load reads and validates an agent configuration file. The returned files
// feed spec.WriteDiagnostics.
func Load(path string) (*Config, spec.ParsedFiles, hcl.Diagnostics) {
	src, err := readConfig(path)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read agent configuration", Detail: err.Error()}}
	}
	cfg, hf, diags := Parse(path, src)
	files := spec.ParsedFiles{}
	if hf != nil {
		files[path] = hf
	}
	return cfg, files, diags
}

// readConfig reads the configuration file, bounded like a config file of
// the repository (spec.MaxFileBytes): a FIFO or /dev/zero put in its place
// is an error, not an agent reading forever.
func readConfig(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	src, err := spec.ReadLimited(f)
	if err == nil && len(src) > spec.MaxFileBytes {
		err = fmt.Errorf("%s is larger than %d bytes", path, spec.MaxFileBytes)
	}
	return src, err
}

// Parse decodes an agent configuration. The Config is nil on errors.
func Parse(name string, src []byte) (*Config, *hcl.File, hcl.Diagnostics) {
	hf, diags := hclparse.NewParser().ParseHCL(src, name)
	if diags.HasErrors() {
		return nil, hf, diags
	}
	// Decoding fills every attribute it can even when others are wrong, so
	// the checks below still run and all problems are reported at once.
	var raw rawConfig
	diags = gohcl.DecodeBody(hf.Body, nil, &raw)
	c := Default()
	set(&c.Node, raw.Node)
	set(&c.StateDir, raw.StateDir)
	diags = append(diags, checkPath("state_dir", c.StateDir, raw.StateRange)...)
	set(&c.StorageRoot, raw.StorageRoot)
	diags = append(diags, checkPath("storage_root", c.StorageRoot, raw.StorageRng)...)
	set(&c.Binary, raw.Binary)
	diags = append(diags, checkPath("binary", c.Binary, raw.BinaryRange)...)
	if raw.ExecBinary != nil {
		set(&c.ExecBinary, raw.ExecBinary)
		diags = append(diags, checkPath("exec_binary", c.ExecBinary, raw.ExecRange)...)
	}
	if s := raw.Source; s != nil {
		set(&c.Source.URL, s.URL)
		set(&c.Source.Branch, s.Branch)
		set(&c.Source.Path, s.Path)
		set(&c.Source.SSHKeyFile, s.SSHKeyFile)
		set(&c.Source.KnownHostsFile, s.KnownHostsFile)
		set(&c.Source.TokenFile, s.TokenFile)
		set(&c.Source.AllowInsecureTransport, s.AllowInsecure)
		if s.PollInterval != nil {
			d, err := time.ParseDuration(*s.PollInterval)
			if err != nil || d < time.Second {
				diags = append(diags, errorAt(s.PollRange, "Invalid poll interval",
					"%q is not a duration of at least 1s. Write it like \"30s\" or \"5m\".", *s.PollInterval))
			}
			c.Source.PollInterval = d
		}
		if s.Timeout != nil {
			d, more := parseTimeout(*s.Timeout, s.TimeoutRange)
			diags = append(diags, more...)
			c.Source.Timeout = d
		}
		if mb := s.MaxConfigMB; mb != nil {
			if *mb < 1 || *mb > spec.MaxMaxRepoBytes>>20 {
				diags = append(diags, errorAt(s.MaxConfigRange, "Invalid max_config_mb",
					"max_config_mb must be between 1 and %d (MiB); it is %d. The default is %d.", spec.MaxMaxRepoBytes>>20, *mb, spec.DefaultMaxRepoBytes>>20))
			} else {
				c.Source.MaxConfigBytes = *mb << 20
			}
		}
	}
	if s := raw.Supervisor; s != nil {
		set(&c.Supervisor.ConfDir, s.ConfDir)
		diags = append(diags, checkPath("supervisor.conf_dir", c.Supervisor.ConfDir, s.ConfDirRange)...)
		set(&c.Supervisor.Socket, s.Socket)
		// The guard's command line names it (render.GuardSection).
		diags = append(diags, checkPath("supervisor.socket", c.Supervisor.Socket, s.SocketRange)...)
		if n := s.MaxRestarts; n != nil {
			if *n < 1 || *n > maxParallelRestarts {
				diags = append(diags, errorAt(s.MaxRange, "Invalid max_parallel_restarts",
					"max_parallel_restarts must be between 1 and %d; it is %d.", maxParallelRestarts, *n))
			}
			c.Supervisor.MaxParallelRestarts = *n
		}
		if s.CallTimeout != nil {
			d, more := parseTimeout(*s.CallTimeout, s.TimeoutRange)
			diags = append(diags, more...)
			c.Supervisor.CallTimeout = d
		}
	}
	if n := raw.Nginx; n != nil {
		set(&c.Nginx.ConfDir, n.ConfDir)
		diags = append(diags, checkPath("nginx.conf_dir", c.Nginx.ConfDir, n.ConfDirRange)...)
		if n.Listen != nil {
			c.Nginx.Listen = n.Listen
			for _, l := range n.Listen {
				if !listenRe.MatchString(l) {
					diags = append(diags, errorAt(n.ListenRange, "Invalid nginx listen value",
						"%q is not a plain nginx listen value. Use an address and port such as \"80\", \"[::]:80\" or \"10.0.0.1:8080 default_server\": letters, digits, '.', ':', '[', ']', '_', '-' and spaces.", l))
				}
			}
		}
		if n.TestCommand != nil {
			c.Nginx.TestCommand = n.TestCommand
			diags = append(diags, checkCommand("nginx.test_command", n.TestCommand, n.TestRange)...)
		}
		if n.ReloadCommand != nil {
			c.Nginx.ReloadCommand = n.ReloadCommand
			diags = append(diags, checkCommand("nginx.reload_command", n.ReloadCommand, n.ReloadRange)...)
		}
		if n.CommandTimeout != nil {
			d, more := parseTimeout(*n.CommandTimeout, n.TimeoutRange)
			diags = append(diags, more...)
			c.Nginx.CommandTimeout = d
		}
	}
	if n := raw.Network; n != nil {
		nw := DefaultNetwork
		set(&nw.TenantInterface, n.TenantInterface)
		diags = append(diags, checkIfName("network.tenant_interface", nw.TenantInterface, n.TenantRange)...)
		set(&nw.TransitInterface, n.TransitInterface)
		diags = append(diags, checkIfName("network.transit_interface", nw.TransitInterface, n.TransitRange)...)
		set(&nw.NftTable, n.NftTable)
		if !nftNameRe.MatchString(nw.NftTable) {
			diags = append(diags, errorAt(n.NftRange, "Invalid nftables table name",
				"%q is not a plain table name. Use letters, digits and '_', starting with a letter.", nw.NftTable))
		}
		c.Network = &nw
	}
	if a := raw.API; a != nil {
		set(&c.API.Socket, a.Socket)
		diags = append(diags, checkPath("api.socket", c.API.Socket, a.SocketRange)...)
		set(&c.API.MetricsListen, a.MetricsListen)
		set(&c.API.WebhookListen, a.WebhookListen)
		set(&c.API.WebhookSecretFile, a.WebhookSecretFile)
	}
	if t := raw.Tenants; t != nil {
		diags = append(diags, parseTenants(&c.Tenants, t)...)
	}
	if raw.Pool != nil {
		var more hcl.Diagnostics
		c.Pool, more = parsePool(raw.Pool, c.Network != nil)
		diags = append(diags, more...)
	}
	if raw.Trust != nil {
		var more hcl.Diagnostics
		c.Trust, more = trust.Decode(raw.Trust)
		diags = append(diags, more...)
	}
	if r := raw.Secrets; r != nil {
		c.Secrets = &Secrets{KeyFile: DefaultSecretsKeyFile}
		set(&c.Secrets.KeyFile, r.KeyFile)
		diags = append(diags, checkPath("secrets.key_file", c.Secrets.KeyFile, r.KeyFileRange)...)
	}
	if diags.HasErrors() {
		return nil, hf, diags
	}
	return c, hf, diags
}

// parseTenants checks the tenant uid range: 32-bit uids, none of the
// system's (below 1000), uid_min <= uid_max.
func parseTenants(dst *Tenants, t *rawTenants) hcl.Diagnostics {
	var diags hcl.Diagnostics
	check := func(key string, v *int64, rng hcl.Range, out *uint32) {
		if v == nil {
			return
		}
		if *v < minTenantUID || *v > maxTenantUID {
			diags = append(diags, errorAt(rng, "Invalid tenant uid bound",
				"tenants.%s = %d must be between %d and %d: lower uids belong to the system, 4294967295 is (uid_t)-1.", key, *v, minTenantUID, int64(maxTenantUID)))
			return
		}
		*out = uint32(*v)
	}
	check("uid_min", t.UIDMin, t.UIDMinRange, &dst.UIDMin)
	check("uid_max", t.UIDMax, t.UIDMaxRange, &dst.UIDMax)
	if !diags.HasErrors() && dst.UIDMin > dst.UIDMax {
		rng := t.UIDMinRange
		if t.UIDMin == nil {
			rng = t.UIDMaxRange
		}
		diags = append(diags, errorAt(rng, "Empty tenant uid range",
			"tenants.uid_min (%d) is above tenants.uid_max (%d): no tenant could run. Raise uid_max or lower uid_min.", dst.UIDMin, dst.UIDMax))
	}
	return diags
}

// The widest tenant uid range (spec.MinUID..spec.MaxUID).
const (
	minTenantUID = 1000
	maxTenantUID = 1<<32 - 2
)

// parseTimeout reads a deadline setting: a duration from 1s to 1h, or a
// diagnostic at rng.
func parseTimeout(s string, rng hcl.Range) (time.Duration, hcl.Diagnostics) {
	d, err := time.ParseDuration(s)
	if err != nil || d < time.Second || d > time.Hour {
		return d, hcl.Diagnostics{errorAt(rng, "Invalid timeout",
			"%q is not a duration between 1s and 1h. Write it like \"30s\" or \"2m\".", s)}
	}
	return d, nil
}
