package config

import (
	"strings"
	"testing"
	"time"
)

func TestDefaults(t *testing.T) {
	c, _, diags := Parse("agent.hcl", []byte(`node = "web-1a"`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := Default()
	want.Node = "web-1a"
	if c.StateDir != "/var/lib/drover" || c.Source.Branch != "main" || c.Source.PollInterval != 30*time.Second ||
		c.Supervisor.ConfDir != "/etc/supervisor/conf.d" || c.Supervisor.Socket != "/var/run/supervisor.sock" ||
		c.Nginx.ConfDir != "/etc/nginx/drover" || strings.Join(c.Nginx.Listen, ",") != "80,[::]:80" ||
		strings.Join(c.Nginx.TestCommand, " ") != "nginx -t" || strings.Join(c.Nginx.ReloadCommand, " ") != "nginx -s reload" ||
		c.StorageRoot != "/var/www/storage" || c.Binary != "/usr/local/bin/drover" || c.Network != nil ||
		c.API.Socket != "/run/drover/agent.sock" || c.API.MetricsListen != "127.0.0.1:9181" ||
		c.Tenants != (Tenants{UIDMin: 10000, UIDMax: 59999}) || c.Source.AllowInsecureTransport ||
		c.Supervisor.MaxParallelRestarts != 32 || c.Supervisor.CallTimeout != 30*time.Second || c.Nginx.CommandTimeout != time.Minute {
		t.Errorf("defaults: %+v", c)
	}
	// An empty network block means every network default.
	c, _, _ = Parse("agent.hcl", []byte("network {}\n"))
	if c.Network == nil || *c.Network != DefaultNetwork {
		t.Errorf("network {} = %+v, want %+v", c.Network, DefaultNetwork)
	}
}

func TestFullConfig(t *testing.T) {
	c, _, diags := Parse("agent.hcl", []byte(`
node      = "web-1b"
state_dir = "/srv/drover"
source {
  url              = "ssh://git@git.example.com/ops/hosting-config.git"
  branch           = "prod"
  path             = "hosting"
  poll_interval    = "2m"
  ssh_key_file     = "/etc/drover/id_ed25519"
  known_hosts_file = "/etc/drover/known_hosts"
  allow_insecure_transport = true
  max_config_mb    = 200
}
supervisor {
  conf_dir = "/etc/supervisor/drover.d"
  socket   = "/run/supervisor.sock"
  max_parallel_restarts = 8
  call_timeout          = "45s"
}
nginx {
  conf_dir       = "/etc/nginx/tenants"
  listen         = ["443 ssl", "[::]:443 ssl"]
  test_command   = ["/usr/sbin/nginx", "-t", "-q"]
  reload_command = ["systemctl", "reload", "nginx"]
  command_timeout = "20s"
}
storage_root = "/home/storage"
network {
  tenant_interface  = "br-tenant"
  transit_interface = "eth1"
  nft_table         = "tenants"
}
api {
  socket              = "/run/drover/api.sock"
  metrics_listen      = ""
  webhook_listen      = "0.0.0.0:9180"
  webhook_secret_file = "/etc/drover/webhook.secret"
}
tenants {
  uid_min = 100000
  uid_max = 4294967294
}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	if c.Node != "web-1b" || c.Source.Path != "hosting" || c.Source.PollInterval != 2*time.Minute || c.Source.Branch != "prod" ||
		!c.Source.AllowInsecureTransport || c.Network.TenantInterface != "br-tenant" || c.Network.NftTable != "tenants" || c.API.MetricsListen != "" ||
		c.API.WebhookListen != "0.0.0.0:9180" || c.Nginx.ReloadCommand[0] != "systemctl" ||
		c.Tenants != (Tenants{UIDMin: 100000, UIDMax: 4294967294}) ||
		c.Supervisor.MaxParallelRestarts != 8 || c.Source.MaxConfigBytes != 200<<20 || c.Supervisor.CallTimeout != 45*time.Second || c.Nginx.CommandTimeout != 20*time.Second {
		t.Errorf("parsed: %+v", c)
	}
	o := c.RenderOptions()
	if o.ExecDir() != "/srv/drover/exec" || o.NftTable != "tenants" || o.APISocket != "/run/drover/api.sock" || o.StorageRoot != "/home/storage" {
		t.Errorf("render options: %+v", o)
	}
}

func TestInvalid(t *testing.T) {
	for _, c := range []struct {
		name, src, summary string
		line               int
	}{
		{"unknown key", "node = \"a\"\ncolour = \"red\"\n", "Unsupported argument", 2},
		{"config bound zero", "source {\n  max_config_mb = 0\n}\n", "Invalid max_config_mb", 2},
		{"config bound huge", "source {\n  max_config_mb = 4096\n}\n", "Invalid max_config_mb", 2},
		{"restart bound zero", "supervisor {\n  max_parallel_restarts = 0\n}\n", "Invalid max_parallel_restarts", 2},
		{"restart bound huge", "supervisor {\n  max_parallel_restarts = 5000\n}\n", "Invalid max_parallel_restarts", 2},
		{"call timeout", "supervisor {\n  call_timeout = \"5ms\"\n}\n", "Invalid timeout", 2},
		{"nginx timeout", "nginx {\n  command_timeout = \"forever\"\n}\n", "Invalid timeout", 2},
		{"unknown block", "bogus {}\n", "Unsupported block type", 1},
		{"unknown key in block", "nginx {\n  colour = 1\n}\n", "Unsupported argument", 2},
		{"relative state_dir", "state_dir = \"var/lib\"\n", "Invalid path", 1},
		{"injecting state_dir", "state_dir = \"/var/lib/drover; rm -rf /\"\n", "Invalid path", 1},
		{"percent in storage_root", "storage_root = \"/srv/%(here)s\"\n", "Invalid path", 1},
		{"dotdot in binary", "binary = \"/usr/../bin/drover\"\n", "Invalid path", 1},
		{"relative exec_binary", "exec_binary = \"drover-exec\"\n", "Invalid path", 1},
		{"bad socket", "api {\n  socket = \"/run/a b.sock\"\n}\n", "Invalid path", 2},
		{"bad conf_dir", "supervisor {\n  conf_dir = \"/etc/#x\"\n}\n", "Invalid path", 2},
		{"injecting supervisor socket", "supervisor {\n  socket = \"/run/s.sock --lease /tmp/x\"\n}\n", "Invalid path", 2},
		{"injecting listen", "nginx {\n  listen = [\"80; include /etc/passwd\"]\n}\n", "Invalid nginx listen value", 2},
		{"empty test_command", "nginx {\n  test_command = []\n}\n", "Invalid command", 2},
		{"bad poll interval", "source {\n  poll_interval = \"often\"\n}\n", "Invalid poll interval", 2},
		{"too short poll interval", "source {\n  poll_interval = \"10ms\"\n}\n", "Invalid poll interval", 2},
		{"bad source timeout", "source {\n  timeout = \"forever\"\n}\n", "Invalid timeout", 2},
		{"too long source timeout", "source {\n  url = \"/srv/config\"\n  timeout = \"2h\"\n}\n", "Invalid timeout", 3},
		{"bad interface", "network {\n  tenant_interface = \"tenant interface 0\"\n}\n", "Invalid interface name", 2},
		{"bad nft table", "network {\n  nft_table = \"1; flush ruleset\"\n}\n", "Invalid nftables table name", 2},
		{"wrong type", "node = [1]\n", "Unsuitable value type", 1},
		{"system uid_min", "tenants {\n  uid_min = 999\n}\n", "Invalid tenant uid bound", 2},
		{"uid_max (uid_t)-1", "tenants {\n  uid_max = 4294967295\n}\n", "Invalid tenant uid bound", 2},
		{"uid_max beyond 32 bits", "tenants {\n  uid_max = 4294968296\n}\n", "Invalid tenant uid bound", 2},
		{"fractional uid_min", "tenants {\n  uid_min = 10000.5\n}\n", "Unsuitable value type", 2},
		{"empty range", "tenants {\n  uid_min = 20000\n  uid_max = 19999\n}\n", "Empty tenant uid range", 2},
		{"uid_max below the default min", "tenants {\n  uid_max = 5000\n}\n", "Empty tenant uid range", 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, _, diags := Parse("agent.hcl", []byte(c.src))
			if cfg != nil || !diags.HasErrors() {
				t.Fatalf("accepted: %+v", cfg)
			}
			d := diags[0]
			if d.Summary != c.summary || d.Subject == nil || d.Subject.Start.Line != c.line || d.Subject.Filename != "agent.hcl" {
				t.Errorf("got %q at %v, want %q on line %d", d.Summary, d.Subject, c.summary, c.line)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, _, diags := Load("/nonexistent/agent.hcl")
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "no such file") {
		t.Errorf("diags = %v", diags)
	}
}

func TestExampleAgentConfigs(t *testing.T) {
	for _, name := range []string{"web-1a.hcl", "https-token.hcl"} {
		c, _, diags := Load("../../examples/agent/" + name)
		if diags.HasErrors() || c == nil || c.Node == "" || c.Source.URL == "" {
			t.Errorf("examples/agent/%s: %v", name, diags)
		}
	}
}

func TestSourceTimeout(t *testing.T) {
	for src, want := range map[string]time.Duration{
		`node = "a"`:                        2 * time.Minute,
		"source {\n  timeout = \"5m\"\n}\n": 5 * time.Minute,
		"source {\n  timeout = \"1s\"\n}\n": time.Second,
	} {
		c, _, diags := Parse("agent.hcl", []byte(src))
		if diags.HasErrors() {
			t.Fatalf("%q: %v", src, diags)
		}
		if c.Source.Timeout != want {
			t.Errorf("%q: source.timeout = %s, want %s", src, c.Source.Timeout, want)
		}
	}
}

// An endless file in the configuration's place is an error, not a read
// that never ends.
func TestLoadBounded(t *testing.T) {
	_, _, diags := Load("/dev/zero")
	if !diags.HasErrors() || !strings.Contains(diags.Error(), "larger than") {
		t.Errorf("Load(/dev/zero) = %v", diags)
	}
}
