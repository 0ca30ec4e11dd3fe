package netstate

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
)

// Cluster osl-1 (fd00:5ccd::/32), node web-1a (index 1) of a three-node shard.
var (
	cluster = netip.MustParsePrefix("fd00:5ccd::/32")
	node1   = netip.MustParsePrefix("fd00:5ccd:1::/48")
	acme    = Tenant{Name: "acme", UID: 10042, Addr: netip.MustParseAddr("fd00:5ccd:1::273a")}
	bravo   = Tenant{Name: "bravo", UID: 10043, Addr: netip.MustParseAddr("fd00:5ccd:1::273b")}
	charlie = Tenant{Name: "charlie", UID: 100000, Addr: netip.MustParseAddr("fd00:5ccd:1::1:86a0")}
	route2  = Route{Dst: netip.MustParsePrefix("fd00:5ccd:2::/48"), Via: netip.MustParseAddr("fd00:5ccd::2"), Node: "web-1b"}
	route3  = Route{Dst: netip.MustParsePrefix("fd00:5ccd:3::/48"), Via: netip.MustParseAddr("fd00:5ccd::3"), Node: "web-1c"}
)

// state returns node web-1a's state with the given tenants and routes.
func state(tenants []Tenant, routes ...Route) State {
	return State{
		TenantInterface:  "tenant0",
		TransitInterface: "eth0",
		NftTable:         "drover",
		NodeName:         "web-1a",
		Cluster:          cluster,
		Node:             node1,
		Transit:          netip.MustParsePrefix("fd00:5ccd::1/64"),
		TransitNoDAD:     true,
		TenantNoDAD:      true,
		Addresses:        tenants,
		Routes:           routes,
	}.Sorted()
}

func TestEncodeDecode(t *testing.T) {
	s := state([]Tenant{charlie, acme}, route3, route2)
	back, err := Decode(s.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(s) {
		t.Errorf("round trip changed the state:\n%s\nwant\n%s", back.Encode(), s.Encode())
	}
	other := s
	other.TransitNoDAD = false
	if other.Equal(s) {
		t.Error("states differing in TransitNoDAD are Equal")
	}
	if back, _ := Decode(other.Encode()); back.TransitNoDAD {
		t.Error("an explicit transit_nodad false decoded as true")
	}

	// A state stored before the nodad fields existed was applied without
	// DAD: it decodes so.
	old := `{"tenant_interface":"tenant0","transit_interface":"eth0","nft_table":"drover","cluster":"fd00:5ccd::/32","node":"fd00:5ccd:1::/48","transit":"fd00:5ccd::1/64","addresses":[],"routes":[]}`
	got, err := Decode([]byte(old))
	if err != nil {
		t.Fatal(err)
	}
	if !got.TransitNoDAD || !got.TenantNoDAD {
		t.Errorf("old state decoded with DAD: %+v", got)
	}
	if _, err := Decode([]byte("{")); err == nil || !strings.Contains(err.Error(), "decode network state") {
		t.Errorf("Decode of bad JSON: %v", err)
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
