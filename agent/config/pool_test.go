package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPoolDefaults(t *testing.T) {
	c, _, diags := Parse("agent.hcl", []byte("node = \"a\"\n"))
	if diags.HasErrors() || c.Pool != nil {
		t.Fatalf("no pool block: pool %+v, %v", c.Pool, diags)
	}
	c, _, diags = Parse("agent.hcl", []byte("network {}\npool {\n  key_file = \"/etc/drover/pool.key\"\n  peers = {}\n}\n"))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := DefaultPool
	if c.Pool == nil || c.Pool.Peers != nil || c.Pool.Bind != "" || !equalPool(*c.Pool, want) {
		t.Errorf("pool = %+v, want %+v", c.Pool, want)
	}
	if want.FailoverAfter != 10*time.Second || want.FailbackAfter != time.Minute || want.QuorumWindow != 3*time.Second ||
		want.LeaseFile != "/run/drover/lease" || want.Port != 7946 || want.SuspicionMult != 4 {
		t.Errorf("DefaultPool = %+v", want)
	}
}

func equalPool(a, b Pool) bool { return reflect.DeepEqual(a, b) }

func TestPoolFull(t *testing.T) {
	c, _, diags := Parse("agent.hcl", []byte(`
pool {
  port            = 7947
  bind            = "0.0.0.0"
  advertise       = "10.0.0.1"
  peers           = { "web-1b" = "10.0.0.2:7947", "web-1c" = "[fd00::3]:7947" }
  key_file        = "/etc/drover/shard.key"
  lease_file      = "/run/drover-pool/lease"
  failover_after  = "5s"
  failback_after  = "2m"
  quorum_window   = "4s"
  probe_interval  = "2s"
  probe_timeout   = "1s"
  gossip_interval = "100ms"
  suspicion_mult  = 6
}
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	want := Pool{
		Port: 7947, Bind: "0.0.0.0", Advertise: "10.0.0.1",
		Peers:   map[string]string{"web-1b": "10.0.0.2:7947", "web-1c": "[fd00::3]:7947"},
		KeyFile: "/etc/drover/shard.key", LeaseFile: "/run/drover-pool/lease",
		FailoverAfter: 5 * time.Second, FailbackAfter: 2 * time.Minute, QuorumWindow: 4 * time.Second,
		ProbeInterval: 2 * time.Second, ProbeTimeout: time.Second, GossipInterval: 100 * time.Millisecond, SuspicionMult: 6,
	}
	if c.Pool == nil || !equalPool(*c.Pool, want) {
		t.Errorf("pool = %+v\nwant %+v", c.Pool, want)
	}
}

// TestPoolInvalid: one case per rule, each with its message's summary, the
// line it points at and a phrase of its advice.
func TestPoolInvalid(t *testing.T) {
	const key = "  key_file = \"/etc/drover/pool.key\"\n"
	for _, c := range []struct {
		name, src, summary string
		line               int
		detail             string
	}{
		{"no key file", "network {}\npool {}\n", "Missing pool key file", 2, "head -c 32 /dev/urandom > /etc/drover/pool.key && chmod 600"},
		{"no bind without network", "pool {\n" + key + "}\n", "Missing pool bind address", 1, "set pool.bind"},
		{"bind on every address", "pool {\n  bind = \"::\"\n" + key + "}\n", "Missing pool advertise address", 2, "set pool.advertise"},
		{"bind with a port", "pool {\n  bind = \"10.0.0.1:7946\"\n" + key + "}\n", "Invalid pool address", 2, "without a port"},
		{"advertise a name", "network {}\npool {\n  advertise = \"web-1a\"\n" + key + "}\n", "Invalid pool address", 3, "is not an IP address"},
		{"port zero", "network {}\npool {\n  port = 0\n" + key + "}\n", "Invalid pool port", 3, "between 1 and 65535"},
		{"peer without port", "network {}\npool {\n  peers = { \"web-1b\" = \"10.0.0.2\" }\n" + key + "}\n", "Invalid pool peer", 3, "host:port"},
		{"peer bad name", "network {}\npool {\n  peers = { \"Web 1b\" = \"10.0.0.2:7946\" }\n" + key + "}\n", "Invalid pool peer", 3, "not a node name"},
		{"relative key file", "network {}\npool {\n  key_file = \"pool.key\"\n}\n", "Invalid path", 3, "pool.key_file"},
		{"injecting lease file", "network {}\npool {\n" + key + "  lease_file = \"/run/lease --socket /tmp/x\"\n}\n", "Invalid path", 4, "pool.lease_file"},
		{"zero duration", "network {}\npool {\n" + key + "  failover_after = \"0s\"\n}\n", "Invalid pool duration", 4, "positive duration"},
		{"negative duration", "network {}\npool {\n" + key + "  failback_after = \"-1m\"\n}\n", "Invalid pool duration", 4, "pool.failback_after"},
		{"not a duration", "network {}\npool {\n" + key + "  gossip_interval = \"fast\"\n}\n", "Invalid pool duration", 4, "pool.gossip_interval"},
		{"suspicion zero", "network {}\npool {\n" + key + "  suspicion_mult = 0\n}\n", "Invalid suspicion_mult", 4, "between 1 and 100"},
		{"short quorum window", "network {}\npool {\n" + key + "  quorum_window = \"1s\"\n}\n", "Quorum window too short", 4, "at least 2s"},
		{"timeout above interval", "network {}\npool {\n" + key + "  probe_timeout = \"1s\"\n}\n", "Probe timeout not below the interval", 4, "must be shorter"},
		{"interval below default timeout", "network {}\npool {\n" + key + "  probe_interval = \"400ms\"\n}\n", "Probe timeout not below the interval", 4, "must be shorter"},
		{"unknown key", "network {}\npool {\n" + key + "  gossip = 1\n}\n", "Unsupported argument", 4, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, _, diags := Parse("agent.hcl", []byte(c.src))
			if cfg != nil || !diags.HasErrors() {
				t.Fatalf("accepted: %+v", cfg)
			}
			d := diags[0]
			if len(diags) != 1 || d.Summary != c.summary || d.Subject == nil || d.Subject.Start.Line != c.line || !strings.Contains(d.Detail, c.detail) {
				t.Errorf("got %v; want one %q on line %d saying %q", diags, c.summary, c.line, c.detail)
			}
		})
	}
}
