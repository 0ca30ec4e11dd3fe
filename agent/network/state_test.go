package network

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// shardRepo is cluster osl-1 with shard web-1 (nodes 1..3) and web-2 (node
// 4); acme and charlie live on web-1, zulu on web-2.
var shardRepo = map[string]string{
	"cluster.hcl": `
cluster "osl-1" {}
shard "web-1" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
  node "web-1c" { index = 3 }
}
shard "web-2" {
  node "web-2a" { index = 4 }
}
`,
	"tenants.hcl": `
tenant "charlie" {
  uid   = 100000
  shard = "web-1"
}
tenant "acme" {
  uid   = 10042
  shard = "web-1"
}
tenant "zulu" {
  uid   = 10099
  shard = "web-2"
}
`,
}

// nodePlan loads files and returns the plan of node.
func nodePlan(t *testing.T, files map[string]string, node string) *netplan.NodePlan {
	t.Helper()
	srcs := map[string][]byte{}
	for n, s := range files {
		srcs[n] = []byte(s)
	}
	cfg, _, diags := spec.Load(srcs)
	if diags.HasErrors() {
		t.Fatalf("config invalid: %v", diags)
	}
	c, err := netplan.Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Node(node)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestDesired(t *testing.T) {
	s := Desired(nodePlan(t, shardRepo, "web-1b"), config.DefaultNetwork)
	got, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "tenant_interface": "tenant0",
  "transit_interface": "eth0",
  "nft_table": "drover",
  "cluster": "fd00:5ccd::/32",
  "node": "fd00:5ccd:2::/48",
  "transit": "fd00:5ccd::2/64",
  "addresses": [
    {
      "name": "acme",
      "uid": 10042,
      "addr": "fd00:5ccd:2::273a"
    },
    {
      "name": "charlie",
      "uid": 100000,
      "addr": "fd00:5ccd:2::1:86a0"
    }
  ],
  "routes": [
    {
      "dst": "fd00:5ccd:1::/48",
      "via": "fd00:5ccd::1"
    },
    {
      "dst": "fd00:5ccd:3::/48",
      "via": "fd00:5ccd::3"
    }
  ]
}`
	if string(got) != want {
		t.Errorf("Desired(web-1b) =\n%s\nwant\n%s", got, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	var back State
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	again, _ := json.MarshalIndent(back, "", "  ")
	if string(again) != string(got) {
		t.Errorf("JSON round trip changed the state:\n%s", again)
	}

	// A node alone in its shard has no routes, and an empty list rather
	// than null.
	lone := Desired(nodePlan(t, shardRepo, "web-2a"), config.Network{TenantInterface: "br-t", TransitInterface: "ens3", NftTable: "iso"})
	b, _ := json.Marshal(lone)
	if !strings.Contains(string(b), `"routes":[]`) || !strings.Contains(string(b), `"tenant_interface":"br-t"`) {
		t.Errorf("Desired(web-2a) = %s", b)
	}
}

func TestSortedIsStable(t *testing.T) {
	a := state([]Tenant{charlie, acme, bravo}, route3, route2)
	b := state([]Tenant{bravo, charlie, acme}, route2, route3)
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if string(ja) != string(jb) {
		t.Errorf("same state, different order, different JSON:\n%s\n%s", ja, jb)
	}
	if a.Addresses[0].Name != "acme" || a.Routes[0] != route2 {
		t.Errorf("Sorted: %+v", a)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name   string
		change func(s *State)
		want   string
	}{
		{"address outside node prefix", func(s *State) {
			s.Addresses = append(s.Addresses, Tenant{Name: "x", UID: 2000, Addr: netip.MustParseAddr("fd00:5ccd:2::7d0")})
		}, "address fd00:5ccd:2::7d0 of tenant x is not inside the node prefix fd00:5ccd:1::/48"},
		{"system uid", func(s *State) { s.Addresses[0].UID = 33 }, "tenant acme has uid 33"},
		{"duplicate address", func(s *State) { s.Addresses[1].Addr = s.Addresses[0].Addr }, "is given to tenants acme and bravo"},
		{"route to own prefix", func(s *State) { s.Routes[0].Dst = node1 }, "route destination fd00:5ccd:1::/48 is not another node's /48"},
		{"route outside cluster", func(s *State) { s.Routes[0].Dst = netip.MustParsePrefix("fd01:5ccd:2::/48") }, "is not another node's /48 inside fd00:5ccd::/32"},
		{"route via off transit", func(s *State) { s.Routes[0].Via = netip.MustParseAddr("fd00:5ccd:7::2") }, "not another address of the transit network"},
		{"no node prefix", func(s *State) { s.Node = netip.Prefix{} }, "node prefix invalid Prefix is not a /48"},
		{"node prefix /32", func(s *State) { s.Node = cluster }, "is not a /48 inside"},
		{"transit /48", func(s *State) { s.Node = netip.MustParsePrefix("fd00:5ccd::/48") }, "is not a /48 inside"},
		{"no tenant interface", func(s *State) { s.TenantInterface = "" }, "network.tenant_interface"},
		{"no table", func(s *State) { s.NftTable = "" }, "no nft table name"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := state([]Tenant{acme, bravo}, route2, route3)
			tc.change(&s)
			err := s.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}
