package network

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"github.com/drover-sh/drover/netstate"
	"github.com/drover-sh/drover/render"
)

// These tests program real network namespaces (rootNetns) through
// NewLinuxAt; nothing outside the namespaces is touched.

func newLinux(t *testing.T, h netns.NsHandle) *Linux {
	t.Helper()
	l, err := NewLinuxAt(h)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// normalizeNft makes `nft list table` output and render.Nftables text
// comparable: the rendered file's header and its `table`/`delete table`
// preamble go, whitespace collapses, and set elements are sorted (the
// kernel lists a hash set in its own order).
func normalizeNft(s string) string {
	if i := strings.Index(s, "{"); i >= 0 {
		if j := strings.LastIndex(s[:i], "table "); j >= 0 {
			s = s[j:]
		}
	}
	s = strings.Join(strings.Fields(s), " ")
	return regexp.MustCompile(`elements = \{ ([^}]*) \}`).ReplaceAllStringFunc(s, func(m string) string {
		inner := strings.TrimSuffix(strings.TrimPrefix(m, "elements = { "), " }")
		elems := strings.Split(inner, ", ")
		slices.Sort(elems)
		return "elements = { " + strings.Join(elems, ", ") + " }"
	})
}

func TestLinuxApplyReadsBackAsRendered(t *testing.T) {
	ns, h := rootNetns(t)
	l := newLinux(t, h)
	s := renderedState(t, shardRepo, "web-1a")
	equalLines(t, "changes", apply(t, l, s), lines(
		"created nft table ip6 drover (2 tenant addresses)",
		"added address fd00:5ccd:1::273a/128 on tenant0 (acme)",
		"added address fd00:5ccd:1::1:86a0/128 on tenant0 (charlie)",
		"added transit address fd00:5ccd::1/64 on eth0",
		"added route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213",
		"added route fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 proto 213",
	))

	// The ruleset reads back as the text drover renders for this node.
	rendered := render.Nftables(s)
	got := inNetns(t, ns, "nft", "list", "table", "ip6", "drover")
	if normalizeNft(got) != normalizeNft(string(rendered)) {
		t.Errorf("nft list table ip6 drover:\n%s\nrendered:\n%s", got, rendered)
	}

	// The JSON form: set types, concatenated elements with host-order uids
	// read back as numbers, and the four rules.
	var doc struct {
		Nftables []map[string]json.RawMessage `json:"nftables"`
	}
	if err := json.Unmarshal([]byte(inNetns(t, ns, "nft", "-j", "list", "table", "ip6", "drover")), &doc); err != nil {
		t.Fatal(err)
	}
	sets, rules := map[string]string{}, 0
	for _, obj := range doc.Nftables {
		if raw, ok := obj["set"]; ok {
			var set struct {
				Name string          `json:"name"`
				Type json.RawMessage `json:"type"`
				Elem json.RawMessage `json:"elem"`
			}
			if err := json.Unmarshal(raw, &set); err != nil {
				t.Fatal(err)
			}
			sets[set.Name] = compactJSON(t, set.Type) + " " + compactJSON(t, set.Elem)
		}
		if _, ok := obj["rule"]; ok {
			rules++
		}
	}
	wantSets := map[string]string{
		"tenant_addrs":  `"ipv6_addr" ["fd00:5ccd:1::273a","fd00:5ccd:1::1:86a0"]`,
		"tenant_owners": `["ipv6_addr","uid"] [{"concat":["fd00:5ccd:1::273a",10042]},{"concat":["fd00:5ccd:1::1:86a0",100000]}]`,
	}
	for name, want := range wantSets {
		got := sets[name]
		// The kernel's element order is its own: accept either order.
		if got != want && normalizeJSONElems(got) != normalizeJSONElems(want) {
			t.Errorf("set %s in nft -j: %s, want %s", name, got, want)
		}
	}
	if rules != 4 {
		t.Errorf("nft -j lists %d rules, want 4", rules)
	}

	addrs := inNetns(t, ns, "ip", "-6", "addr", "show", "dev", "tenant0")
	for _, want := range []string{"inet6 fd00:5ccd:1::273a/128 scope global nodad", "inet6 fd00:5ccd:1::1:86a0/128 scope global nodad"} {
		if !strings.Contains(addrs, want) {
			t.Errorf("ip -6 addr show dev tenant0 lacks %q:\n%s", want, addrs)
		}
	}
	if got := inNetns(t, ns, "ip", "-6", "addr", "show", "dev", "eth0"); !strings.Contains(got, "inet6 fd00:5ccd::1/64 scope global nodad") {
		t.Errorf("transit address missing:\n%s", got)
	}
	routes := inNetns(t, ns, "ip", "-6", "route", "show", "proto", "213")
	wantRoutes := "fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 metric 1024 pref medium\nfd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 metric 1024 pref medium\n"
	if routes != wantRoutes {
		t.Errorf("ip -6 route show proto 213:\n%s\nwant\n%s", routes, wantRoutes)
	}

	// Converged: no drift, and a second Apply changes nothing.
	equalLines(t, "drift", observe(t, l, s), nil)
	equalLines(t, "second apply", apply(t, l, s), nil)
}

func compactJSON(t *testing.T, raw json.RawMessage) string {
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// normalizeJSONElems sorts the elements of "TYPE [ELEMS]" for comparison.
func normalizeJSONElems(s string) string {
	typ, elems, _ := strings.Cut(s, " ")
	var list []json.RawMessage
	if err := json.Unmarshal([]byte(elems), &list); err != nil {
		return s
	}
	var out []string
	for _, e := range list {
		out = append(out, string(e))
	}
	slices.Sort(out)
	return typ + " " + strings.Join(out, ",")
}

// handles returns the `# handle N` annotations of `nft -a list table`, the
// identity of the table's objects: a recreated table gets new ones.
func handles(t *testing.T, ns string) []string {
	t.Helper()
	return regexp.MustCompile(`# handle \d+`).FindAllString(inNetns(t, ns, "nft", "-a", "list", "table", "ip6", "drover"), -1)
}

func TestLinuxElementChangesKeepTheTable(t *testing.T) {
	ns, h := rootNetns(t)
	l := newLinux(t, h)
	apply(t, l, full)
	before := handles(t, ns)
	if len(before) < 6 {
		t.Fatalf("handles: %q", before)
	}
	dora := netstate.Tenant{Name: "dora", UID: 20000, Addr: netip.MustParseAddr("fd00:5ccd:1::4e20")}
	next := state([]netstate.Tenant{acme, charlie, dora}, route2, route3)
	equalLines(t, "changes", apply(t, l, next), lines(
		"removed stale address fd00:5ccd:1::273b/128 from tenant0",
		"removed element fd00:5ccd:1::273b from set tenant_addrs",
		"removed element fd00:5ccd:1::273b . 10043 from set tenant_owners",
		"added element fd00:5ccd:1::4e20 to set tenant_addrs",
		"added element fd00:5ccd:1::4e20 . 20000 to set tenant_owners",
		"added address fd00:5ccd:1::4e20/128 on tenant0 (dora)",
	))
	if after := handles(t, ns); !slices.Equal(before, after) {
		t.Errorf("element changes recreated objects: handles %q, then %q", before, after)
	}
	got := inNetns(t, ns, "nft", "list", "set", "ip6", "drover", "tenant_owners")
	for _, want := range []string{"fd00:5ccd:1::273a . 10042", "fd00:5ccd:1::1:86a0 . 100000", "fd00:5ccd:1::4e20 . 20000"} {
		if !strings.Contains(got, want) {
			t.Errorf("tenant_owners lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "273b") {
		t.Errorf("tenant_owners still holds bravo:\n%s", got)
	}
	equalLines(t, "drift", observe(t, l, next), nil)
}

func TestLinuxDriftRepaired(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cmds  [][]string
		drift []string
	}{
		{"address deleted", [][]string{{"ip", "addr", "del", "fd00:5ccd:1::273b/128", "dev", "tenant0"}},
			lines("address fd00:5ccd:1::273b/128 of bravo missing on tenant0")},
		{"address re-added with DAD", [][]string{
			{"ip", "addr", "del", "fd00:5ccd:1::273a/128", "dev", "tenant0"},
			{"ip", "addr", "add", "fd00:5ccd:1::273a/128", "dev", "tenant0"},
		}, lines("address fd00:5ccd:1::273a/128 of acme on tenant0 lacks nodad")},
		{"route deleted", [][]string{{"ip", "-6", "route", "del", "fd00:5ccd:3::/48"}},
			lines("route fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 proto 213 missing")},
		{"table deleted", [][]string{{"nft", "delete", "table", "ip6", "drover"}},
			lines("nft table ip6 drover missing")},
		{"table flushed", [][]string{{"nft", "flush", "table", "ip6", "drover"}},
			lines("nft table ip6 drover altered: chain output has 0 rules, want 4")},
		{"chain flushed", [][]string{{"nft", "flush", "chain", "ip6", "drover", "output"}},
			lines("nft table ip6 drover altered: chain output has 0 rules, want 4")},
		{"rule added", [][]string{{"nft", "insert", "rule", "ip6", "drover", "output", "accept"}},
			lines("nft table ip6 drover altered: chain output has 5 rules, want 4")},
		{"rule replaced", [][]string{
			{"sh", "-c", `nft replace rule ip6 drover output handle $(nft -a list chain ip6 drover output | sed -n 's/.*meta skuid >= 1000 reject.*# handle //p') meta skuid ge 1000 accept`},
		}, lines(`nft table ip6 drover altered: rule 4 of chain output is not "meta skuid >= 1000 reject with icmpv6 admin-prohibited"`)},
		{"policy drop", [][]string{{"nft", "add", "chain", "ip6", "drover", "output", "{ type filter hook output priority filter; policy drop; }"}},
			lines("nft table ip6 drover altered: chain output is not `type filter hook output priority filter; policy accept`")},
		{"dormant", [][]string{{"nft", "add", "table", "ip6", "drover", "{ flags dormant; }"}},
			lines("nft table ip6 drover altered: table has flags (dormant?)")},
		{"extra chain", [][]string{{"nft", "add", "chain", "ip6", "drover", "early", "{ type filter hook output priority -10; policy accept; }"}},
			lines("nft table ip6 drover altered: unexpected chain early")},
		{"element deleted", [][]string{{"nft", "delete", "element", "ip6", "drover", "tenant_owners", "{ fd00:5ccd:1::273a . 10042 }"}},
			lines("element fd00:5ccd:1::273a . 10042 missing from set tenant_owners of nft table ip6 drover")},
		{"element added", [][]string{{"nft", "add", "element", "ip6", "drover", "tenant_owners", "{ fd00:5ccd:1::273a . 10043 }"}},
			lines("stale element fd00:5ccd:1::273a . 10043 in set tenant_owners of nft table ip6 drover")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ns, h := rootNetns(t)
			l := newLinux(t, h)
			apply(t, l, full)
			want := normalizeNft(inNetns(t, ns, "nft", "list", "table", "ip6", "drover"))
			for _, c := range tc.cmds {
				inNetns(t, ns, c...)
			}
			equalLines(t, "drift", observe(t, l, full), tc.drift)
			r := apply(t, l, full)
			if len(r) != len(tc.drift) {
				t.Errorf("repair changes %q, want one per drift line", r)
			}
			equalLines(t, "drift after repair", observe(t, l, full), nil)
			if got := normalizeNft(inNetns(t, ns, "nft", "list", "table", "ip6", "drover")); got != want {
				t.Errorf("table after repair:\n%s\nwant\n%s", got, want)
			}
		})
	}
}

func TestLinuxLeavesForeignAlone(t *testing.T) {
	ns, h := rootNetns(t)
	l := newLinux(t, h)
	foreign := [][]string{
		{"ip", "addr", "add", "fd00:5ccd:2::5/128", "dev", "tenant0"},
		{"ip", "addr", "add", "2001:db8:1::1/64", "dev", "tenant0", "nodad"},
		{"ip", "addr", "add", "10.0.0.1/24", "dev", "tenant0"},
		{"ip", "addr", "add", "fd00:5ccd::99/64", "dev", "eth0", "nodad"},
		{"ip", "addr", "add", "2001:db8::10/64", "dev", "eth0", "nodad"},
		{"ip", "route", "add", "fd00:5ccd:8::/48", "via", "fd00:5ccd::8", "dev", "eth0", "proto", "static"},
		{"ip", "route", "add", "2001:db8:7::/48", "via", "2001:db8::7", "dev", "eth0", "proto", "213"},
		{"nft", "add", "table", "ip6", "other"},
		{"nft", "add", "chain", "ip6", "other", "out", "{ type filter hook output priority 10; policy accept; }"},
	}
	for _, c := range foreign {
		inNetns(t, ns, c...)
	}
	// Managed leftovers: a stale tenant address and a stale drover route.
	inNetns(t, ns, "ip", "addr", "add", "fd00:5ccd:1::dead/128", "dev", "tenant0", "nodad")
	inNetns(t, ns, "ip", "route", "add", "fd00:5ccd:9::/48", "via", "fd00:5ccd::9", "dev", "eth0", "proto", "213")

	r := apply(t, l, full)
	for _, want := range []string{
		"removed stale address fd00:5ccd:1::dead/128 from tenant0",
		"removed route fd00:5ccd:9::/48 via fd00:5ccd::9 dev eth0 proto 213",
	} {
		if !slices.Contains(r, want) {
			t.Errorf("changes %q lack %q", r, want)
		}
	}
	check := func(when string) {
		t.Helper()
		addrs := inNetns(t, ns, "ip", "addr")
		for _, want := range []string{"fd00:5ccd:2::5/128", "2001:db8:1::1/64", "10.0.0.1/24", "fd00:5ccd::99/64", "2001:db8::10/64"} {
			if !strings.Contains(addrs, want) {
				t.Errorf("%s: foreign address %s gone:\n%s", when, want, addrs)
			}
		}
		routes := inNetns(t, ns, "ip", "-6", "route")
		for _, want := range []string{"fd00:5ccd:8::/48 via fd00:5ccd::8 dev eth0 proto static", "2001:db8:7::/48 via 2001:db8::7 dev eth0 proto 213"} {
			if !strings.Contains(routes, want) {
				t.Errorf("%s: foreign route %s gone:\n%s", when, want, routes)
			}
		}
		if tables := inNetns(t, ns, "nft", "list", "tables"); !strings.Contains(tables, "table ip6 other") {
			t.Errorf("%s: table ip6 other gone: %s", when, tables)
		}
	}
	check("after Apply")
	if strings.Contains(inNetns(t, ns, "ip", "addr"), "fd00:5ccd:1::dead") {
		t.Error("stale managed address kept")
	}

	must(t, l.Remove(ctx, "drover", full.Managed()))
	check("after Remove")
	if got := inNetns(t, ns, "nft", "list", "tables"); strings.Contains(got, "drover") {
		t.Errorf("table drover kept by Remove: %s", got)
	}
	if got := inNetns(t, ns, "ip", "-6", "addr"); strings.Contains(got, "fd00:5ccd:1::") || strings.Contains(got, "fd00:5ccd::1/64") {
		t.Errorf("managed addresses kept by Remove:\n%s", got)
	}
	if got := inNetns(t, ns, "ip", "-6", "route", "show", "proto", "213"); got != "2001:db8:7::/48 via 2001:db8::7 dev eth0 metric 1024 pref medium\n" {
		t.Errorf("routes with proto 213 after Remove:\n%s", got)
	}
	must(t, l.Remove(ctx, "drover", full.Managed()))
}

func TestLinuxMissingInterface(t *testing.T) {
	ns, h := rootNetns(t)
	l := newLinux(t, h)
	s := full
	s.TenantInterface = "nope0"
	_, err := l.Apply(ctx, s)
	if err == nil || !strings.Contains(err.Error(), `interface "nope0" does not exist`) || !strings.Contains(err.Error(), "network.tenant_interface") {
		t.Errorf("Apply = %v", err)
	}
	if got := inNetns(t, ns, "nft", "list", "tables"); got != "" {
		t.Errorf("Apply without its interface created tables: %s", got)
	}
}

// TestLinuxLargeTable programs a table larger than one netlink message can
// carry (elements are split over several messages of one batch, the socket
// buffer raised), then changes a third of it.
//
// The tenant interface is NOARP here, like a dummy interface: on an ARP
// interface the kernel joins a solicited-node multicast group for every
// address, which makes adding thousands of addresses quadratic (6,000 take
// ~10 s on a bridge with ARP, ~0.5 s without).
func TestLinuxLargeTable(t *testing.T) {
	ns, h := rootNetns(t)
	inNetns(t, ns, "ip", "link", "set", "tenant0", "arp", "off")
	l := newLinux(t, h)
	tenants := func(from, n int) []netstate.Tenant {
		var out []netstate.Tenant
		for i := from; i < from+n; i++ {
			uid := uint32(10000 + i)
			out = append(out, netstate.Tenant{Name: fmt.Sprintf("t%05d", i), UID: uid, Addr: netip.AddrFrom16([16]byte{0xfd, 0, 0x5c, 0xcd, 0, 1, 12: byte(uid >> 24), byte(uid >> 16), byte(uid >> 8), byte(uid)})})
		}
		return out
	}
	s := state(tenants(0, 6000))
	start := time.Now()
	r := apply(t, l, s)
	t.Logf("first apply %v", time.Since(start))
	if len(r) != 6000+2 {
		t.Errorf("%d changes, want 6002", len(r))
	}
	count := func() int {
		return strings.Count(inNetns(t, ns, "nft", "list", "set", "ip6", "drover", "tenant_owners"), "fd00:5ccd:1::")
	}
	if n := count(); n != 6000 {
		t.Errorf("tenant_owners holds %d elements, want 6000", n)
	}
	s2 := state(tenants(2000, 6000))
	start = time.Now()
	r = apply(t, l, s2)
	t.Logf("second apply %v", time.Since(start))
	if len(r) != 2000+2*2000+2*2000+2000 {
		t.Errorf("%d changes, want 12000", len(r))
	}
	if n := count(); n != 6000 {
		t.Errorf("tenant_owners holds %d elements, want 6000", n)
	}
	equalLines(t, "drift", observe(t, l, s2), nil)
}

// TestLinuxAcceptsTheRenderedFile loads the rendered ruleset with `nft -f`,
// as an operator may, and checks Observe takes it for drover's table: no
// recreation, no element changes.
func TestLinuxAcceptsTheRenderedFile(t *testing.T) {
	ns, h := rootNetns(t)
	l := newLinux(t, h)
	s := renderedState(t, shardRepo, "web-1a")
	file := filepath.Join(t.TempDir(), "drover.nft")
	if err := os.WriteFile(file, render.Nftables(s), 0o644); err != nil {
		t.Fatal(err)
	}
	inNetns(t, ns, "nft", "-f", file)
	equalLines(t, "drift", observe(t, l, s), lines(
		"address fd00:5ccd:1::273a/128 of acme missing on tenant0",
		"address fd00:5ccd:1::1:86a0/128 of charlie missing on tenant0",
		"transit address fd00:5ccd::1/64 missing on eth0",
		"route fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 proto 213 missing",
		"route fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 proto 213 missing",
	))
}
