package render_test

import (
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/testplan"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
)

// shardRepo is cluster osl-1 with shard web-1 (nodes 1..3) and web-2 (node
// 4); acme and charlie live on web-1, zulu on web-2. acme has a proxied
// daemon and a webroot with server names.
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
  webroot "main" {
    server_names = ["acme.example"]
    daemon "ws" {
      command    = "node ws.js"
      proxy_path = "/ws"
    }
  }
}
tenant "zulu" {
  uid   = 10099
  shard = "web-2"
}
`,
}

// nodePlan loads files and returns the plan of node.
func nodePlan(t *testing.T, files map[string]string, node string) *netplan.NodePlan {
	return testplan.NodePlan(t, files, node)
}

var defaultNetwork = render.Options{TenantInterface: "tenant0", TransitInterface: "eth0", NftTable: "drover"}

func TestNetworkState(t *testing.T) {
	s := render.NetworkState(nodePlan(t, shardRepo, "web-1b"), defaultNetwork)
	want := `{"tenant_interface":"tenant0","transit_interface":"eth0","nft_table":"drover","node_name":"web-1b",` +
		`"cluster":"fd00:5ccd::/32","node":"fd00:5ccd:2::/48","transit":"fd00:5ccd::2/64","transit_nodad":true,"tenant_nodad":true,` +
		`"addresses":[{"name":"acme","uid":10042,"addr":"fd00:5ccd:2::273a"},{"name":"charlie","uid":100000,"addr":"fd00:5ccd:2::1:86a0"}],` +
		`"routes":[{"dst":"fd00:5ccd:1::/48","via":"fd00:5ccd::1","node":"web-1a"},{"dst":"fd00:5ccd:3::/48","via":"fd00:5ccd::3","node":"web-1c"}]}`
	if got := string(s.Encode()); got != want {
		t.Errorf("NetworkState(web-1b) =\n%s\nwant\n%s", got, want)
	}
	if err := s.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}

	// A node alone in its shard has no routes, and an empty list rather
	// than null.
	lone := render.NetworkState(nodePlan(t, shardRepo, "web-2a"), render.Options{TenantInterface: "br-t", TransitInterface: "ens3", NftTable: "iso"})
	if b := string(lone.Encode()); !strings.Contains(b, `"routes":[]`) || !strings.Contains(b, `"tenant_interface":"br-t"`) {
		t.Errorf("NetworkState(web-2a) = %s", b)
	}
}

// TestNetworkFilesFromState checks that the network files say what the
// state says, flags included: they are written from the value the agent
// applies, not from the plan beside it.
func TestNetworkFilesFromState(t *testing.T) {
	s := render.NetworkState(nodePlan(t, shardRepo, "web-1a"), defaultNetwork)
	files := map[string]string{}
	for _, f := range render.NetworkFiles(s) {
		files[f.Path] = string(f.Data)
	}
	want := render.Header +
		"fd00:5ccd::1/64 dev eth0 nodad # transit of node web-1a\n" +
		"fd00:5ccd:1::273a/128 dev tenant0 nodad # tenant acme uid 10042\n" +
		"fd00:5ccd:1::1:86a0/128 dev tenant0 nodad # tenant charlie uid 100000\n"
	if files["addresses"] != want {
		t.Errorf("addresses:\n%s\nwant:\n%s", files["addresses"], want)
	}
	if want := render.Header + "fd00:5ccd:2::/48 via fd00:5ccd::2 dev eth0 # node web-1b\n" +
		"fd00:5ccd:3::/48 via fd00:5ccd::3 dev eth0 # node web-1c\n"; files["routes"] != want {
		t.Errorf("routes:\n%s\nwant:\n%s", files["routes"], want)
	}
	if !strings.Contains(files["drover.nft"], "fd00:5ccd:1::1:86a0 . 100000") {
		t.Errorf("drover.nft lacks charlie's owner element:\n%s", files["drover.nft"])
	}

	s.TransitNoDAD, s.TenantNoDAD = false, false
	for _, f := range render.NetworkFiles(s) {
		if f.Path == "addresses" && strings.Contains(string(f.Data), "nodad") {
			t.Errorf("addresses of a state with DAD say nodad:\n%s", f.Data)
		}
	}
}

// TestCarry checks that Carry's network files are written from its network
// state and that every file names its owner.
func TestCarry(t *testing.T) {
	var p *netplan.NodePlan
	for _, n := range []string{"web-1a", "web-1b", "web-1c"} {
		if p = nodePlan(t, shardRepo, n); len(p.Programs) > 0 {
			break // the node acme/main/ws is placed on
		}
	}
	c := render.Carry(p, defaultNetwork)
	if !c.Network.Equal(render.NetworkState(p, defaultNetwork)) {
		t.Errorf("Carry's network state differs from NetworkState")
	}
	owners := map[string]render.Owner{}
	for _, f := range c.Files {
		owners[string(f.Root)+"/"+f.Path] = f.Owner
	}
	ws := render.Owner{Daemon: "acme/main/ws", Program: "daemon-acme-ws", Tenant: "acme", Webroot: "main"}
	main := render.Owner{Tenant: "acme", Webroot: "main"}
	want := map[string]render.Owner{
		"exec/daemon-acme-ws.json":                              ws,
		"nginx/locations/acme_main.conf":                        main,
		"nginx/servers/acme_main.conf":                          main,
		"nginx/" + render.NginxHTTPFile:                         {},
		"network/addresses":                                     {},
		"supervisor/" + render.EventListenerFile:                {},
		"supervisor/" + render.SupervisorFile("daemon-acme-ws"): {},
	}
	for key, o := range want {
		got, ok := owners[key]
		if !ok {
			t.Errorf("%s not rendered (have %v)", key, owners)
			continue
		}
		if got != o {
			t.Errorf("owner of %s = %+v, want %+v", key, got, o)
		}
	}
	if !ws.InWebroot("acme", "main") || !main.InWebroot("acme", "main") || main.InWebroot("acme", "other") || (render.Owner{}).InWebroot("", "") {
		t.Error("InWebroot")
	}
}

// TestGenerated checks the adoption predicate against what render writes:
// every file Carry renders into an installed root is recognised, and
// foreign files beside them are not.
func TestGenerated(t *testing.T) {
	roots := map[render.Root]bool{}
	for _, n := range []string{"web-1a", "web-1b", "web-1c"} {
		for _, f := range render.Node(nodePlan(t, shardRepo, n), defaultNetwork) {
			roots[f.Root] = true
			if f.Root != render.RootNetwork && !render.Generated(f.Root, f.Path, f.Data) {
				t.Errorf("%s/%s is rendered but not recognised as drover's", f.Root, f.Path)
			}
		}
	}
	if len(roots) != 4 {
		t.Errorf("rendered roots %v, want all four", roots)
	}
	for _, tc := range []struct {
		root render.Root
		path string
		data string
	}{
		{render.RootSupervisor, "drover-00.conf", "[program:x]\n"},   // no header
		{render.RootSupervisor, "other.conf", render.Header},         // not drover's name
		{render.RootSupervisor, "sub/drover-00.conf", render.Header}, // not in a directory of the root
		{render.RootExec, "notes.txt", ""},
		{render.RootNginx, "locations/site.conf", "location / {}\n"},
		{render.RootNginx, "site.conf", render.Header}, // drover writes only below locations/ and servers/
		{render.RootNetwork, "addresses", render.Header},
	} {
		if render.Generated(tc.root, tc.path, []byte(tc.data)) {
			t.Errorf("Generated(%s, %s) = true for a foreign file", tc.root, tc.path)
		}
	}
}

// TestEachRendersWhatNodeDoes: Each (what drover render writes as it goes)
// hands out exactly the files of Node (the agent's Memo), byte for byte.
// With a failover pool too (the guard's file).
func TestEachRendersWhatNodeDoes(t *testing.T) {
	for _, n := range []string{"web-1a", "web-1b", "web-1c", "web-1a with a pool"} {
		o := defaultNetwork
		if name, ok := strings.CutSuffix(n, " with a pool"); ok {
			n, o = name, guardOptions
		}
		p := nodePlan(t, shardRepo, n)
		want := map[string]render.File{}
		for _, f := range render.Node(p, o) {
			want[string(f.Root)+"/"+f.Path] = f
		}
		got := 0
		render.Each(p, o, func(f render.File) {
			got++
			w, ok := want[string(f.Root)+"/"+f.Path]
			if !ok || string(w.Data) != string(f.Data) || w.Mode != f.Mode || w.Owner != f.Owner {
				t.Errorf("%s: Each rendered %s/%s differently from Node", n, f.Root, f.Path)
			}
		})
		if got != len(want) {
			t.Errorf("%s: Each rendered %d files, Node %d", n, got, len(want))
		}
	}
}
