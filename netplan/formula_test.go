package netplan

import (
	"math"
	"net/netip"
	"testing"

	"github.com/cespare/xxhash/v2"

	"github.com/drover-sh/drover/spec"
)

// The golden values below pin the formulas of design.md §3 (listed in §3.9). A release that changes
// any of them would move daemons, ports or addresses across a whole fleet:
// if one of these tests fails, the change is a breaking one.

func TestClusterPrefixGolden(t *testing.T) {
	for name, want := range map[string]string{
		"osl-1": "fd00:5ccd::/32", // design.md §3.4
		"ams-2": "fd00:9ddc::/32",
		"x":     "fd00:4d94::/32",
	} {
		if got := ClusterPrefix(&spec.Cluster{Name: name}).String(); got != want {
			t.Errorf("ClusterPrefix(%q) = %s, want %s", name, got, want)
		}
	}
	set := netip.MustParsePrefix("fd12:3456::/32")
	if got := ClusterPrefix(&spec.Cluster{Name: "osl-1", ULAPrefix: set}); got != set {
		t.Errorf("configured ula_prefix ignored: got %s", got)
	}
}

func TestAddressesGolden(t *testing.T) {
	p := netip.MustParsePrefix("fd00:5ccd::/32")
	cases := []struct {
		got, want string
	}{
		// design.md §3.5 writes the uid as hex in the low 32 bits: 10042 =
		// 0x273a. (The original specification's example "fd00:5ccd:2::2742"
		// does not match its own rule; 100000 = 0x186a0 does. drover follows
		// the rule.)
		{TenantAddr(p, 2, 10042).String(), "fd00:5ccd:2::273a"},
		{TenantAddr(p, 2, 100000).String(), "fd00:5ccd:2::1:86a0"},
		{TenantAddr(p, 65535, 4294967294).String(), "fd00:5ccd:ffff::ffff:fffe"},
		{NodePrefix(p, 2).String(), "fd00:5ccd:2::/48"},
		{NodePrefix(p, 300).String(), "fd00:5ccd:12c::/48"},
		{TransitAddr(p, 1).String(), "fd00:5ccd::1/64"},
		{TransitAddr(p, 300).String(), "fd00:5ccd::12c/64"},
	}
	for _, c := range cases {
		if c.got != c.want {
			t.Errorf("got %s, want %s", c.got, c.want)
		}
	}
	if !NodePrefix(p, 2).Contains(TenantAddr(p, 2, 10042)) {
		t.Error("tenant address outside its node's /48")
	}
}

func TestPreferredPortGolden(t *testing.T) {
	for key, want := range map[string]int{
		"acme/main/reverb": 15274, // design.md §3.3
		"nodeco/site/ws":   12838,
		"t/w/d0":           16278,
		"t/w/d530":         16278, // collides with t/w/d0: used below
	} {
		if got := PreferredPort(key); got != want {
			t.Errorf("PreferredPort(%q) = %d, want %d", key, got, want)
		}
	}
}

func TestScoreGolden(t *testing.T) {
	// Exact bits: xxhash64(node "\x00" key), u = ((h>>11)+0.5)/2^53, -w/ln(u).
	// The formula, written out independently of Score.
	h := xxhash.Sum64String("web-1a\x00acme/main/reverb")
	if want := -1 / math.Log((float64(h>>11)+0.5)/(1<<53)); Score("web-1a", 1, "acme/main/reverb") != want {
		t.Errorf("Score differs from the formula of design.md §3.2: %v != %v", Score("web-1a", 1, "acme/main/reverb"), want)
	}
	for _, c := range []struct {
		node, key string
		weight    float64
		bits      uint64
	}{
		{"web-1a", "acme/main/reverb", 1, 0x3fe3877609f64390},
		{"web-1b", "acme/main/reverb", 1, 0x3fe03ec890206d50},
		{"web-1c", "acme/main/reverb", 1, 0x3ff2231acc1fe9a3},
		{"web-1c", "acme/main/reverb", 2.5, 0x4006abe17f27e40b},
	} {
		if got := math.Float64bits(Score(c.node, c.weight, c.key)); got != c.bits {
			t.Errorf("Score(%q, %v, %q) bits = %#x, want %#x", c.node, c.weight, c.key, got, c.bits)
		}
	}
}

func TestRendezvousGolden(t *testing.T) {
	cfg := repo(t, map[string]string{"c.hcl": baseCluster, "t.hcl": tenantHCL("acme", 10042,
		"daemon \"reverb\" {\n command = \"x $PORT\"\n proxy_path = \"/app\"\n}",
		`daemon "queue" { command = "x" }`, `daemon "ws" { command = "x" }`)})
	want := map[string]string{"acme/w/reverb": "web-1b", "acme/w/queue": "web-1a", "acme/w/ws": "web-1b"}
	got := placementOf(t, cfg)
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s placed on %s, want %s", k, got[k], n)
		}
	}
}
