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
