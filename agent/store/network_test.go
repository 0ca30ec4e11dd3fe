package store

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/drover-sh/drover/netstate"
	"github.com/drover-sh/drover/render"
)

func TestNetworkStateAndOwners(t *testing.T) {
	s := openTest(t)
	if _, ok, err := s.Network(); ok || err != nil {
		t.Fatalf("empty store has a network state: %v %v", ok, err)
	}
	st := netstate.State{TenantInterface: "tenant0", TransitInterface: "eth0", NftTable: "drover", NodeName: "web-1a",
		Cluster: netip.MustParsePrefix("fd00:5ccd::/32"), Node: netip.MustParsePrefix("fd00:5ccd:1::/48"),
		Transit: netip.MustParsePrefix("fd00:5ccd::1/64"), TransitNoDAD: true, TenantNoDAD: true,
		Addresses: []netstate.Tenant{{Name: "acme", UID: 10042, Addr: netip.MustParseAddr("fd00:5ccd:1::273a")}}}.Sorted()
	owner := render.Owner{Daemon: "acme/main/ws", Program: "daemon-acme-ws", Tenant: "acme", Webroot: "main"}
	r := res("exec/daemon-acme-ws.json", "{}", 0o600)
	r.Owner = owner
	if err := s.Record(Change{Revision: "a", Put: []Resource{r}, Network: &st}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	got, ok, err := s.Network()
	if !ok || err != nil || !got.Equal(st) {
		t.Errorf("Network() = %+v, %v, %v; want %+v", got, ok, err, st)
	}
	if got, _, _ := s.Resource(r.Key); got.Owner != owner {
		t.Errorf("Resource owner = %+v, want %+v", got.Owner, owner)
	}
	if all, _ := s.Resources(); all[r.Key].Owner != owner {
		t.Errorf("Resources owner = %+v, want %+v", all[r.Key].Owner, owner)
	}

	// A change without a network state leaves it; a bad change leaves it
	// too; a delete forgets it.
	if err := s.Record(Change{Revision: "b"}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Network(); !ok {
		t.Error("a change without a network state forgot it")
	}
	if err := s.Record(Change{Network: &st, DeleteNetwork: true}); err == nil || !strings.Contains(err.Error(), "both put and deleted") {
		t.Errorf("put and delete: %v", err)
	}
	if err := s.Record(Change{DeleteNetwork: true}); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Network(); ok {
		t.Error("DeleteNetwork kept the state")
	}
}

// An agent before the network state had its own key recorded it as the
// resource network/state.json: it is still what Network returns until a
// pass records it in its place, so an upgraded node rebooted with Git down
// gets its addresses back.
func TestNetworkStateOfAnEarlierAgent(t *testing.T) {
	s := openTest(t)
	old := `{
  "tenant_interface": "tenant0",
  "transit_interface": "eth0",
  "nft_table": "drover",
  "cluster": "fd00:5ccd::/32",
  "node": "fd00:5ccd:1::/48",
  "transit": "fd00:5ccd::1/64",
  "addresses": [{"name": "acme", "uid": 10042, "addr": "fd00:5ccd:1::273a"}],
  "routes": [{"dst": "fd00:5ccd:2::/48", "via": "fd00:5ccd::2"}]
}
`
	if err := s.Record(Change{Revision: "a", Put: []Resource{res("network/state.json", old, 0o600)}}); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Network()
	if !ok || err != nil || got.TenantInterface != "tenant0" || len(got.Addresses) != 1 || got.Addresses[0].UID != 10042 ||
		len(got.Routes) != 1 || !got.TransitNoDAD || !got.TenantNoDAD {
		t.Fatalf("Network() = %+v, %v, %v", got, ok, err)
	}
	st := got
	st.NftTable = "other"
	if err := s.Record(Change{Revision: "b", Network: &st, Delete: []string{"network/state.json"}}); err != nil {
		t.Fatal(err)
	}
	if got, ok, _ := s.Network(); !ok || got.NftTable != "other" {
		t.Errorf("after a pass recorded it: %+v, %v", got, ok)
	}
}
