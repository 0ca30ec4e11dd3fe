package network

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/drover-sh/drover/netstate"
)

var ctx = context.Background()

// foreignTenant0 and foreignEth0 are addresses drover does not manage: it
// must leave them alone.
var (
	foreignTenant0 = []netip.Prefix{
		netip.MustParsePrefix("fe80::1/64"),
		netip.MustParsePrefix("fd00:5ccd:2::5/128"), // another node's /48
		netip.MustParsePrefix("10.0.0.1/24"),
		netip.MustParsePrefix("2001:db8:1::1/128"),
	}
	foreignEth0 = []netip.Prefix{
		netip.MustParsePrefix("fe80::2/64"),
		netip.MustParsePrefix("192.0.2.10/24"),
		netip.MustParsePrefix("2001:db8::10/64"),
		netip.MustParsePrefix("fd00:5ccd::99/64"), // another address on the transit network
	}
)

// newFake returns a fake node with tenant0 and eth0 carrying foreign
// addresses and a foreign route.
func newFake(t *testing.T) *Fake {
	t.Helper()
	f := NewFake()
	f.AddLink("lo")
	f.AddLink("tenant0")
	f.AddLink("eth0")
	for _, p := range foreignTenant0 {
		must(t, f.AddAddress("tenant0", p, false))
	}
	for _, p := range foreignEth0 {
		must(t, f.AddAddress("eth0", p, false))
	}
	must(t, f.AddRoute("eth0", netip.MustParsePrefix("2001:db8:5::/48"), netip.MustParseAddr("2001:db8::1"), 4))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func apply(t *testing.T, a Applier, s netstate.State) []string {
	t.Helper()
	r, err := a.Apply(ctx, s)
	if err != nil {
		t.Fatalf("Apply: %v (changes so far: %q)", err, r.Changes)
	}
	return r.Changes
}

func observe(t *testing.T, a Applier, s netstate.State) []string {
	t.Helper()
	d, err := a.Observe(ctx, s)
	if err != nil {
		t.Fatalf("Observe: %v", err)
	}
	return d.Items
}

func lines(s ...string) []string { return s }

func equalLines(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s:\n got %s\nwant %s", what, strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}

func equalText(t *testing.T, what, got, want string) {
	t.Helper()
	if got != want {
		t.Errorf("%s:\n--- got\n%s--- want\n%s", what, got, want)
	}
}

const foreignSnapshot = `link eth0
  addr 192.0.2.10/24
  addr 2001:db8::10/64
  addr fd00:5ccd::99/64
  addr fe80::2/64
link lo
link tenant0
  addr 10.0.0.1/24
  addr 2001:db8:1::1/128
  addr fd00:5ccd:2::5/128
  addr fe80::1/64
route 2001:db8:5::/48 via 2001:db8::1 dev eth0 proto 4
`

// appliedSnapshot is newFake after applying state(acme, bravo, charlie;
// route2, route3).
const appliedSnapshot = `link eth0
  addr 192.0.2.10/24
  addr 2001:db8::10/64
  addr fd00:5ccd::1/64 nodad
  addr fd00:5ccd::99/64
  addr fe80::2/64
link lo
link tenant0
  addr 10.0.0.1/24
  addr 2001:db8:1::1/128
  addr fd00:5ccd:1::273a/128 nodad
  addr fd00:5ccd:1::273b/128 nodad
  addr fd00:5ccd:1::1:86a0/128 nodad
  addr fd00:5ccd:2::5/128
  addr fe80::1/64
route 2001:db8:5::/48 via 2001:db8::1 dev eth0 proto 4
route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213
route fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 proto 213
table ip6 drover
  set tenant_addrs type ipv6_addr
    element fd00:5ccd:1::273a
    element fd00:5ccd:1::273b
    element fd00:5ccd:1::1:86a0
  set tenant_owners type ipv6_addr . uid
    element fd00:5ccd:1::273a . 10042
    element fd00:5ccd:1::273b . 10043
    element fd00:5ccd:1::1:86a0 . 100000
  chain output type filter hook output priority filter; policy accept;
    rule ip6 saddr != @tenant_addrs accept
    rule meta skuid < 1000 accept
    rule ip6 saddr . meta skuid @tenant_owners accept
    rule meta skuid >= 1000 reject with icmpv6 admin-prohibited
`

var full = state([]netstate.Tenant{acme, bravo, charlie}, route2, route3)

func TestApplyFromScratch(t *testing.T) {
	f := newFake(t)
	equalText(t, "before", f.Snapshot(), foreignSnapshot)
	equalLines(t, "drift", observe(t, f, full), lines(
		"nft table ip6 drover missing",
		"address fd00:5ccd:1::273a/128 of acme missing on tenant0",
		"address fd00:5ccd:1::273b/128 of bravo missing on tenant0",
		"address fd00:5ccd:1::1:86a0/128 of charlie missing on tenant0",
		"transit address fd00:5ccd::1/64 missing on eth0",
		"route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213 missing",
		"route fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 proto 213 missing",
	))
	equalText(t, "Observe changed the machine", f.Snapshot(), foreignSnapshot)
	equalLines(t, "changes", apply(t, f, full), lines(
		"created nft table ip6 drover (3 tenant addresses)",
		"added address fd00:5ccd:1::273a/128 on tenant0 (acme)",
		"added address fd00:5ccd:1::273b/128 on tenant0 (bravo)",
		"added address fd00:5ccd:1::1:86a0/128 on tenant0 (charlie)",
		"added transit address fd00:5ccd::1/64 on eth0",
		"added route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213",
		"added route fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 proto 213",
	))
	equalText(t, "after", f.Snapshot(), appliedSnapshot)
	if n := f.NftBatches(); n != 1 {
		t.Errorf("%d nftables batches, want 1", n)
	}

	// Converged: nothing differs, a second Apply changes nothing and sends
	// no batch.
	equalLines(t, "drift after apply", observe(t, f, full), nil)
	equalLines(t, "second apply", apply(t, f, full), nil)
	if n := f.NftBatches(); n != 1 {
		t.Errorf("%d nftables batches after an idempotent Apply, want 1", n)
	}
}

func TestApplyTenantsChange(t *testing.T) {
	f := newFake(t)
	apply(t, f, full)
	batches := f.NftBatches()

	// bravo leaves, dora arrives, charlie's uid changes (a new address).
	dora := netstate.Tenant{Name: "dora", UID: 20000, Addr: netip.MustParseAddr("fd00:5ccd:1::4e20")}
	charlie2 := netstate.Tenant{Name: "charlie", UID: 100001, Addr: netip.MustParseAddr("fd00:5ccd:1::1:86a1")}
	next := state([]netstate.Tenant{acme, charlie2, dora}, route2, route3)
	equalLines(t, "changes", apply(t, f, next), lines(
		"removed stale address fd00:5ccd:1::273b/128 from tenant0",
		"removed stale address fd00:5ccd:1::1:86a0/128 from tenant0",
		"removed element fd00:5ccd:1::273b from set tenant_addrs",
		"removed element fd00:5ccd:1::1:86a0 from set tenant_addrs",
		"removed element fd00:5ccd:1::273b . 10043 from set tenant_owners",
		"removed element fd00:5ccd:1::1:86a0 . 100000 from set tenant_owners",
		"added element fd00:5ccd:1::1:86a1 to set tenant_addrs",
		"added element fd00:5ccd:1::4e20 to set tenant_addrs",
		"added element fd00:5ccd:1::1:86a1 . 100001 to set tenant_owners",
		"added element fd00:5ccd:1::4e20 . 20000 to set tenant_owners",
		"added address fd00:5ccd:1::1:86a1/128 on tenant0 (charlie)",
		"added address fd00:5ccd:1::4e20/128 on tenant0 (dora)",
	))
	if n := f.NftBatches() - batches; n != 1 {
		t.Errorf("element changes took %d nftables batches, want 1", n)
	}
	snap := f.Snapshot()
	for _, want := range []string{
		"addr fd00:5ccd:1::273a/128 nodad", "addr fd00:5ccd:1::1:86a1/128 nodad", "addr fd00:5ccd:1::4e20/128 nodad",
		"element fd00:5ccd:1::4e20 . 20000", "element fd00:5ccd:1::1:86a1 . 100001",
	} {
		if !strings.Contains(snap, want) {
			t.Errorf("snapshot lacks %q:\n%s", want, snap)
		}
	}
	for _, gone := range []string{"273b", "1::1:86a0"} {
		if strings.Contains(snap, gone) {
			t.Errorf("snapshot still holds %q:\n%s", gone, snap)
		}
	}

	// Every tenant leaves: the table stays, empty; only Remove deletes it.
	equalLines(t, "all leave", apply(t, f, state(nil, route2, route3)), lines(
		"removed stale address fd00:5ccd:1::273a/128 from tenant0",
		"removed stale address fd00:5ccd:1::4e20/128 from tenant0",
		"removed stale address fd00:5ccd:1::1:86a1/128 from tenant0",
		"removed element fd00:5ccd:1::273a from set tenant_addrs",
		"removed element fd00:5ccd:1::4e20 from set tenant_addrs",
		"removed element fd00:5ccd:1::1:86a1 from set tenant_addrs",
		"removed element fd00:5ccd:1::273a . 10042 from set tenant_owners",
		"removed element fd00:5ccd:1::4e20 . 20000 from set tenant_owners",
		"removed element fd00:5ccd:1::1:86a1 . 100001 from set tenant_owners",
	))
	if !strings.Contains(f.Snapshot(), "table ip6 drover\n  set tenant_addrs type ipv6_addr\n  set tenant_owners") {
		t.Errorf("the table should stay, with empty sets:\n%s", f.Snapshot())
	}
}

// TestFlagsComeFromTheState checks that the applier adds addresses with
// the DAD flags the state carries rather than flags of its own: the
// network files render writes from the same value say what is applied.
func TestFlagsComeFromTheState(t *testing.T) {
	f := newFake(t)
	s := state([]netstate.Tenant{acme}, route2)
	s.TransitNoDAD, s.TenantNoDAD = false, false
	apply(t, f, s)
	snap := f.Snapshot()
	for _, want := range []string{"addr fd00:5ccd::1/64\n", "addr fd00:5ccd:1::273a/128\n"} {
		if !strings.Contains(snap, want) {
			t.Errorf("state with DAD: machine lacks %q:\n%s", want, snap)
		}
	}
	s.TenantNoDAD = true
	equalLines(t, "changes", apply(t, f, s), lines("set nodad on address fd00:5ccd:1::273a/128 on tenant0 (acme)"))
	s.TenantNoDAD = false
	equalLines(t, "changes", apply(t, f, s), lines("cleared nodad on address fd00:5ccd:1::273a/128 on tenant0 (acme)"))
}

func TestOnlyManagedAddressesTouched(t *testing.T) {
	f := newFake(t)
	// By hand, inside this node's /48: a stale /128, acme's address with
	// DAD and bravo's on a /64. Outside it: foreignTenant0.
	must(t, f.AddAddress("tenant0", netip.MustParsePrefix("fd00:5ccd:1::dead/128"), true))
	must(t, f.AddAddress("tenant0", netip.MustParsePrefix("fd00:5ccd:1::273a/128"), false))
	must(t, f.AddAddress("tenant0", netip.MustParsePrefix("fd00:5ccd:1::273b/64"), true))
	// The transit address with the wrong length.
	must(t, f.AddAddress("eth0", netip.MustParsePrefix("fd00:5ccd::1/80"), false))
	s := state([]netstate.Tenant{acme, bravo}, route2)
	equalLines(t, "drift", observe(t, f, s), lines(
		"address fd00:5ccd:1::273b/64 of bravo on tenant0 has the wrong prefix length, want /128",
		"stale address fd00:5ccd:1::dead/128 on tenant0 (no tenant of this node has it)",
		"nft table ip6 drover missing",
		"address fd00:5ccd:1::273a/128 of acme on tenant0 lacks nodad",
		"address fd00:5ccd:1::273b/128 of bravo missing on tenant0",
		"transit address fd00:5ccd::1/80 on eth0 has the wrong prefix length, want /64",
		"transit address fd00:5ccd::1/64 missing on eth0",
		"route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213 missing",
	))
	equalLines(t, "changes", apply(t, f, s), lines(
		"removed address fd00:5ccd:1::273b/64 from tenant0 (bravo, wrong prefix length)",
		"removed stale address fd00:5ccd:1::dead/128 from tenant0",
		"created nft table ip6 drover (2 tenant addresses)",
		"set nodad on address fd00:5ccd:1::273a/128 on tenant0 (acme)",
		"added address fd00:5ccd:1::273b/128 on tenant0 (bravo)",
		"removed transit address fd00:5ccd::1/80 from eth0 (wrong prefix length)",
		"added transit address fd00:5ccd::1/64 on eth0",
		"added route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213",
	))
	snap := f.Snapshot()
	for _, p := range foreignTenant0 {
		if !strings.Contains(snap, "addr "+p.String()+"\n") {
			t.Errorf("foreign address %s on tenant0 was touched:\n%s", p, snap)
		}
	}
	for _, p := range foreignEth0 {
		if !strings.Contains(snap, "addr "+p.String()+"\n") {
			t.Errorf("foreign address %s on eth0 was touched:\n%s", p, snap)
		}
	}
	equalLines(t, "drift after apply", observe(t, f, s), nil)
}

func TestRoutes(t *testing.T) {
	f := newFake(t)
	apply(t, f, full)
	// By hand: a drover route to a node that left the shard, an operator's
	// static route to another /48 of the cluster, a drover-protocol route
	// outside the cluster, and route3 moved to the wrong gateway.
	must(t, f.AddRoute("eth0", netip.MustParsePrefix("fd00:5ccd:9::/48"), netip.MustParseAddr("fd00:5ccd::9"), RouteProtocol))
	must(t, f.AddRoute("eth0", netip.MustParsePrefix("fd00:5ccd:8::/48"), netip.MustParseAddr("fd00:5ccd::8"), unix.RTPROT_STATIC))
	must(t, f.AddRoute("eth0", netip.MustParsePrefix("2001:db8:7::/48"), netip.MustParseAddr("2001:db8::7"), RouteProtocol))
	must(t, f.AddRoute("eth0", route3.Dst, netip.MustParseAddr("fd00:5ccd::33"), RouteProtocol))

	// Node 2 leaves the shard.
	s := state([]netstate.Tenant{acme, bravo, charlie}, route3)
	equalLines(t, "drift", observe(t, f, s), lines(
		"stale route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213",
		"stale route fd00:5ccd:9::/48 via fd00:5ccd::9 dev eth0 proto 213",
		"route fd00:5ccd:3::/48 goes via fd00:5ccd::33, want fd00:5ccd::3",
	))
	equalLines(t, "changes", apply(t, f, s), lines(
		"removed route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213",
		"removed route fd00:5ccd:9::/48 via fd00:5ccd::9 dev eth0 proto 213",
		"replaced route fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 proto 213 (was via fd00:5ccd::33)",
	))
	var routes []string
	for _, l := range strings.Split(f.Snapshot(), "\n") {
		if strings.HasPrefix(l, "route ") {
			routes = append(routes, l)
		}
	}
	equalLines(t, "routes", routes, lines(
		"route 2001:db8:5::/48 via 2001:db8::1 dev eth0 proto 4",
		"route 2001:db8:7::/48 via 2001:db8::7 dev eth0 proto 213",
		"route fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 proto 213",
		"route fd00:5ccd:8::/48 via fd00:5ccd::8 dev eth0 proto 4",
	))
}

func TestDriftRepaired(t *testing.T) {
	for _, tc := range []struct {
		name    string
		alter   func(t *testing.T, f *Fake)
		drift   []string
		changes []string
	}{
		{"address deleted by hand", func(t *testing.T, f *Fake) {
			must(t, f.DeleteAddress("tenant0", netip.MustParsePrefix("fd00:5ccd:1::273b/128")))
		}, lines("address fd00:5ccd:1::273b/128 of bravo missing on tenant0"),
			lines("added address fd00:5ccd:1::273b/128 on tenant0 (bravo)")},
		{"transit address deleted by hand", func(t *testing.T, f *Fake) {
			must(t, f.DeleteAddress("eth0", netip.MustParsePrefix("fd00:5ccd::1/64")))
		}, lines("transit address fd00:5ccd::1/64 missing on eth0"),
			lines("added transit address fd00:5ccd::1/64 on eth0")},
		{"table deleted", func(t *testing.T, f *Fake) {
			must(t, f.DeleteTable("drover"))
		}, lines("nft table ip6 drover missing"),
			lines("created nft table ip6 drover (3 tenant addresses)")},
		{"chain flushed", func(t *testing.T, f *Fake) {
			must(t, f.AlterTable("drover", func(t *FakeTable) { t.FlushChain("output") }))
		}, lines("nft table ip6 drover altered: chain output has 0 rules, want 4"),
			lines("recreated nft table ip6 drover (chain output has 0 rules, want 4; 3 tenant addresses)")},
		{"rule changed", func(t *testing.T, f *Fake) {
			must(t, f.AlterTable("drover", func(t *FakeTable) {
				t.SetRules("output", outputBase, outputRules[0], "meta skuid < 100000 accept", outputRules[2], outputRules[3])
			}))
		}, lines(`nft table ip6 drover altered: rule 2 of chain output is not "meta skuid < 1000 accept"`),
			lines(`recreated nft table ip6 drover (rule 2 of chain output is not "meta skuid < 1000 accept"; 3 tenant addresses)`)},
		{"policy changed", func(t *testing.T, f *Fake) {
			must(t, f.AlterTable("drover", func(t *FakeTable) {
				t.SetRules("output", "type filter hook output priority filter; policy drop;", outputRules...)
			}))
		}, lines("nft table ip6 drover altered: chain output is not `type filter hook output priority filter; policy accept`"),
			lines("recreated nft table ip6 drover (chain output is not `type filter hook output priority filter; policy accept`; 3 tenant addresses)")},
		{"extra chain and set, one set gone", func(t *testing.T, f *Fake) {
			must(t, f.AlterTable("drover", func(t *FakeTable) {
				t.SetRules("sneaky", "type filter hook output priority -10; policy accept;", "accept")
				t.AddSet("extra", "ipv6_addr")
				t.DeleteSet("tenant_owners")
			}))
		}, lines("nft table ip6 drover altered: unexpected set extra, set tenant_owners missing, unexpected chain sneaky"),
			lines("recreated nft table ip6 drover (unexpected set extra, set tenant_owners missing, unexpected chain sneaky; 3 tenant addresses)")},
		{"set with another type", func(t *testing.T, f *Fake) {
			must(t, f.AlterTable("drover", func(t *FakeTable) { t.AddSet("tenant_owners", "ipv6_addr . mark") }))
		}, lines("nft table ip6 drover altered: set tenant_owners is not a plain set of type ipv6_addr . uid"),
			lines("recreated nft table ip6 drover (set tenant_owners is not a plain set of type ipv6_addr . uid; 3 tenant addresses)")},
		{"element deleted and added", func(t *testing.T, f *Fake) {
			must(t, f.AlterTable("drover", func(t *FakeTable) {
				t.DeleteElement("tenant_owners", "fd00:5ccd:1::273a . 10042")
				t.AddElement("tenant_owners", "fd00:5ccd:1::273a . 10043")
				t.DeleteElement("tenant_addrs", "fd00:5ccd:1::1:86a0")
			}))
		}, lines(
			"stale element fd00:5ccd:1::273a . 10043 in set tenant_owners of nft table ip6 drover",
			"element fd00:5ccd:1::1:86a0 missing from set tenant_addrs of nft table ip6 drover",
			"element fd00:5ccd:1::273a . 10042 missing from set tenant_owners of nft table ip6 drover",
		), lines(
			"removed element fd00:5ccd:1::273a . 10043 from set tenant_owners",
			"added element fd00:5ccd:1::1:86a0 to set tenant_addrs",
			"added element fd00:5ccd:1::273a . 10042 to set tenant_owners",
		)},
		{"drover route deleted", func(t *testing.T, f *Fake) {
			f.fm.rt = slices.DeleteFunc(f.fm.rt, func(r fakeRoute) bool { return r.Dst == route2.Dst })
		}, lines("route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213 missing"),
			lines("added route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t)
			apply(t, f, full)
			tc.alter(t, f)
			equalLines(t, "drift", observe(t, f, full), tc.drift)
			batches := f.NftBatches()
			equalLines(t, "changes", apply(t, f, full), tc.changes)
			equalText(t, "repaired", f.Snapshot(), appliedSnapshot)
			equalLines(t, "drift after repair", observe(t, f, full), nil)
			if n := f.NftBatches() - batches; n > 1 {
				t.Errorf("repair took %d nftables batches, want at most 1", n)
			}
		})
	}
}

func TestMissingInterface(t *testing.T) {
	for _, tc := range []struct{ link, key string }{
		{"tenant0", "network.tenant_interface"},
		{"eth0", "network.transit_interface"},
	} {
		f := newFake(t)
		f.DeleteLink(tc.link)
		before := f.Snapshot()
		_, err := f.Apply(ctx, full)
		if err == nil || !strings.Contains(err.Error(), `interface "`+tc.link+`" does not exist`) || !strings.Contains(err.Error(), tc.key) {
			t.Errorf("Apply without %s: %v, want an error naming the interface and %s", tc.link, err, tc.key)
		}
		if _, err := f.Observe(ctx, full); err == nil {
			t.Errorf("Observe without %s: no error", tc.link)
		}
		equalText(t, "Apply without "+tc.link+" changed the machine", f.Snapshot(), before)
	}
}

func TestInvalidStateChangesNothing(t *testing.T) {
	f := newFake(t)
	s := full
	s.Node = cluster // would make every cluster address look like drover's
	if _, err := f.Apply(ctx, s); err == nil || !strings.Contains(err.Error(), "invalid network state") {
		t.Errorf("Apply(invalid) = %v", err)
	}
	equalText(t, "machine", f.Snapshot(), foreignSnapshot)
}

func TestNftFailureStopsAddressAdds(t *testing.T) {
	f := newFake(t)
	apply(t, f, state([]netstate.Tenant{acme, bravo}, route2, route3))
	f.FailNext("writeTable", unix.ENOBUFS)
	r, err := f.Apply(ctx, state([]netstate.Tenant{acme, charlie}, route2, route3))
	if !errors.Is(err, unix.ENOBUFS) || !strings.Contains(err.Error(), "stopped before adding tenant addresses") {
		t.Errorf("Apply = %v", err)
	}
	// The stale address went (removing is always safe); charlie's address
	// was not added, as its nftables elements are missing.
	equalLines(t, "changes", r.Changes, lines("removed stale address fd00:5ccd:1::273b/128 from tenant0"))
	if strings.Contains(f.Snapshot(), "86a0") {
		t.Errorf("charlie's address was added without its elements:\n%s", f.Snapshot())
	}
	// The next pass converges.
	apply(t, f, state([]netstate.Tenant{acme, charlie}, route2, route3))
	equalLines(t, "drift", observe(t, f, state([]netstate.Tenant{acme, charlie}, route2, route3)), nil)
}

func TestOtherFailuresDoNotStopTheRest(t *testing.T) {
	f := newFake(t)
	f.FailNext("addAddr", unix.EACCES)
	r, err := f.Apply(ctx, full)
	if !errors.Is(err, unix.EACCES) || !strings.Contains(err.Error(), "add address fd00:5ccd:1::273a/128 of acme on tenant0") {
		t.Errorf("Apply = %v", err)
	}
	if len(r.Changes) != 6 {
		t.Errorf("changes %q, want all but acme's address", r.Changes)
	}
	equalLines(t, "drift", observe(t, f, full), lines("address fd00:5ccd:1::273a/128 of acme missing on tenant0"))
}

func TestRemove(t *testing.T) {
	f := newFake(t)
	apply(t, f, full)
	must(t, f.AddRoute("eth0", netip.MustParsePrefix("fd00:5ccd:8::/48"), netip.MustParseAddr("fd00:5ccd::8"), unix.RTPROT_STATIC))
	must(t, f.Remove(ctx, "drover", full.Managed()))
	want := strings.Replace(foreignSnapshot, "route 2001:db8:5::/48 via 2001:db8::1 dev eth0 proto 4\n",
		"route 2001:db8:5::/48 via 2001:db8::1 dev eth0 proto 4\nroute fd00:5ccd:8::/48 via fd00:5ccd::8 dev eth0 proto 4\n", 1)
	equalText(t, "after Remove", f.Snapshot(), want)
	// Again: nothing left to remove, no error; nor without the interfaces.
	must(t, f.Remove(ctx, "drover", full.Managed()))
	f.DeleteLink("tenant0")
	f.DeleteLink("eth0")
	must(t, f.Remove(ctx, "drover", full.Managed()))
	if err := f.Remove(ctx, "drover", netstate.Managed{}); err == nil {
		t.Error("Remove with an empty Managed: no error")
	}
}

func TestContextCancelled(t *testing.T) {
	f := newFake(t)
	c, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := f.Apply(c, full); !errors.Is(err, context.Canceled) {
		t.Errorf("Apply = %v", err)
	}
	equalText(t, "machine", f.Snapshot(), foreignSnapshot)
}

// TestFakeRefusesWhatTheKernelRefuses pins the fake's model: operations the
// planner must never issue fail as they would on Linux.
func TestFakeRefusesWhatTheKernelRefuses(t *testing.T) {
	f := newFake(t)
	apply(t, f, full)
	fm := f.fm
	for name, err := range map[string]error{
		"add existing address":  fm.addAddr("tenant0", ifAddr{Prefix: netip.PrefixFrom(acme.Addr, 128), NoDAD: true}),
		"add on missing link":   fm.addAddr("nope0", ifAddr{Prefix: netip.PrefixFrom(acme.Addr, 128)}),
		"delete absent address": fm.delAddr("tenant0", netip.MustParsePrefix("fd00:5ccd:1::1/128")),
		"route via off-link gw": fm.replaceRoute("eth0", netstate.Route{Dst: netip.MustParsePrefix("fd00:5ccd:5::/48"), Via: netip.MustParseAddr("fd00:5ccd:5::1")}),
		"delete absent route":   fm.delRoute("eth0", netstate.Route{Dst: netip.MustParsePrefix("fd00:5ccd:5::/48"), Via: netip.MustParseAddr("fd00:5ccd::5")}),
		"add existing table":    fm.writeTable("drover", nftBatch{Recreate: true}),
		"delete absent element": fm.writeTable("drover", nftBatch{DelAddrs: []netip.Addr{netip.MustParseAddr("fd00::1")}}),
		"add element twice":     fm.writeTable("drover", nftBatch{AddAddrs: []netip.Addr{acme.Addr}}),
		"elements of no table":  fm.writeTable("other", nftBatch{AddAddrs: []netip.Addr{acme.Addr}}),
		"delete absent table":   fm.deleteTable("other"),
	} {
		if err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	// A failed batch changes nothing, even its valid parts.
	err := fm.writeTable("drover", nftBatch{
		AddAddrs: []netip.Addr{netip.MustParseAddr("fd00:5ccd:1::77")},
		DelAddrs: []netip.Addr{netip.MustParseAddr("fd00::1")},
	})
	if err == nil {
		t.Error("batch with a bad delete: no error")
	}
	equalText(t, "after refused operations", f.Snapshot(), appliedSnapshot)
}
