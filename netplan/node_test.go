package netplan

import (
	"fmt"
	"strings"
	"testing"
)

func TestNodePlan(t *testing.T) {
	cfg := repo(t, map[string]string{"c.hcl": baseCluster + `
shard "web-2" {
  node "web-2a" { index = 4 }
}`,
		"a.hcl": tenantHCL("acme", 10042, proxied("reverb", ""), `daemon "queue" {
 command = "q"
 node = "web-1a"
}`),
		"b.hcl": `tenant "other" {
  uid = 20000
  shard = "web-2"
  webroot "w" {
    daemon "x" { command = "x" }
  }
}`})
	c, err := Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Node("web-1a")
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "transit %s\n", p.Transit)
	for _, r := range p.Routes {
		fmt.Fprintf(&b, "route %s via %s (%s)\n", r.Dst, r.Via, r.Node)
	}
	for _, a := range p.Addresses {
		fmt.Fprintf(&b, "address %s %s %d\n", a.Addr, a.Tenant, a.UID)
	}
	for _, d := range p.Programs {
		fmt.Fprintf(&b, "program %s %s\n", d.Program, d.NodeReason)
	}
	for _, w := range p.Webroots {
		for _, d := range w.Locations {
			fmt.Fprintf(&b, "location %s %s -> [%s]:%d on %s\n", w.Webroot.Name, d.ProxyPath, d.Host, d.Port, d.Node.Name)
		}
	}
	reverb := c.Daemon("acme/w/reverb")
	want := fmt.Sprintf(`transit fd00:5ccd::1/64
route fd00:5ccd:2::/48 via fd00:5ccd::2 (web-1b)
route fd00:5ccd:3::/48 via fd00:5ccd::3 (web-1c)
address fd00:5ccd:1::273a acme 10042
program daemon-acme-queue pinned
location w /reverb -> [fd00:5ccd:%d::273a]:%d on %s
`, reverb.Node.Index, reverb.Port, reverb.Node.Name)
	if b.String() != want {
		t.Errorf("plan of web-1a:\n%s\nwant:\n%s", b.String(), want)
	}
	if _, err := c.Node("nope"); err == nil {
		t.Error("unknown node: no error")
	}
}

func TestPinToDrainedNodeIsIgnored(t *testing.T) {
	cfg := repo(t, map[string]string{"c.hcl": strings.Replace(baseCluster, `node "web-1a" { index = 1 }`, "node \"web-1a\" {\n index = 1\n drain = true\n}", 1),
		"a.hcl": tenantHCL("acme", 10042, "daemon \"q\" {\n command = \"q\"\n node = \"web-1a\"\n}")})
	c, err := Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := c.Daemon("acme/w/q")
	if d.Node.Name == "web-1a" || d.NodeReason != NodePinDrained {
		t.Errorf("placed on %s (%s), want elsewhere by rendezvous", d.Node.Name, d.NodeReason)
	}
}

func TestEnvInjectsHostAndPort(t *testing.T) {
	c, err := Compute(repo(t, map[string]string{"c.hcl": baseCluster,
		"a.hcl": tenantHCL("acme", 10042, proxied("reverb", `environment = { A = "1" }`), `daemon "q" {
 command = "q"
 environment = { B = "2" }
}`)}))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Daemon("acme/w/reverb")
	env := r.Env()
	if env["HOST"] != r.Host.String() || env["PORT"] != fmt.Sprint(r.Port) || env["A"] != "1" || len(env) != 3 {
		t.Errorf("proxied env = %v", env)
	}
	if env := c.Daemon("acme/w/q").Env(); len(env) != 1 || env["B"] != "2" {
		t.Errorf("unproxied env = %v, want only B", env)
	}
}
