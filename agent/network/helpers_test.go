package network

import (
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/vishvananda/netns"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/testplan"
	"github.com/drover-sh/drover/netstate"
	"github.com/drover-sh/drover/render"
)

// Cluster osl-1 (fd00:5ccd::/32), node web-1a (index 1) of a three-node shard.
var (
	cluster = netip.MustParsePrefix("fd00:5ccd::/32")
	node1   = netip.MustParsePrefix("fd00:5ccd:1::/48")
	acme    = netstate.Tenant{Name: "acme", UID: 10042, Addr: netip.MustParseAddr("fd00:5ccd:1::273a")}
	bravo   = netstate.Tenant{Name: "bravo", UID: 10043, Addr: netip.MustParseAddr("fd00:5ccd:1::273b")}
	charlie = netstate.Tenant{Name: "charlie", UID: 100000, Addr: netip.MustParseAddr("fd00:5ccd:1::1:86a0")}
	route2  = netstate.Route{Dst: netip.MustParsePrefix("fd00:5ccd:2::/48"), Via: netip.MustParseAddr("fd00:5ccd::2")}
	route3  = netstate.Route{Dst: netip.MustParsePrefix("fd00:5ccd:3::/48"), Via: netip.MustParseAddr("fd00:5ccd::3")}
)

// state returns node web-1a's state with the given tenants and routes.
func state(tenants []netstate.Tenant, routes ...netstate.Route) netstate.State {
	return netstate.State{
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

// rootNetns creates a network namespace with lo up, a bridge tenant0 (with a
// veth port, so it has carrier) and a veth pair eth0/eth0p, all up, and
// returns its name and a handle; both are removed when the test ends.
func rootNetns(t *testing.T) (string, netns.NsHandle) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs the suite as root)")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (installed by .ci/run)", tool)
		}
	}
	name := "drovernet-" + strings.NewReplacer("/", "-", "_", "-").Replace(t.Name())
	if len(name) > 60 {
		name = name[:60]
	}
	_ = exec.Command("ip", "netns", "del", name).Run()
	run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	for _, cmd := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "tenant0", "type", "bridge"},
		{"link", "add", "tport0", "type", "veth", "peer", "name", "tport1"},
		{"link", "set", "tport0", "master", "tenant0"},
		{"link", "add", "eth0", "type", "veth", "peer", "name", "eth0p"},
		{"link", "set", "tport0", "up"},
		{"link", "set", "tport1", "up"},
		{"link", "set", "tenant0", "up"},
		{"link", "set", "eth0", "up"},
		{"link", "set", "eth0p", "up"},
	} {
		run(t, "ip", append([]string{"-n", name}, cmd...)...)
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return name, h
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("running %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// inNetns runs a command inside the namespace, failing the test on error.
func inNetns(t *testing.T, ns string, args ...string) string {
	t.Helper()
	return run(t, "ip", append([]string{"netns", "exec", ns}, args...)...)
}

// shardRepo is cluster osl-1 with shard web-1 (nodes 1..3); acme and
// charlie live on it.
var shardRepo = map[string]string{
	"cluster.hcl": `
cluster "osl-1" {}
shard "web-1" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
  node "web-1c" { index = 3 }
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
`,
}

// renderedState is the network state render gives node of files, with the
// default network block.
func renderedState(t *testing.T, files map[string]string, node string) netstate.State {
	t.Helper()
	return render.NetworkState(testplan.NodePlan(t, files, node), config.Default().RenderOptions())
}
