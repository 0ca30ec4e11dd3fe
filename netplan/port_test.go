package netplan

import (
	"fmt"
	"testing"
)

func proxied(name string, extra string) string {
	return fmt.Sprintf("daemon %q {\n command = \"x $PORT\"\n proxy_path = \"/%s\"\n%s\n}", name, name, extra)
}

func ports(t *testing.T, daemons ...string) map[string]string {
	t.Helper()
	c, err := Compute(repo(t, map[string]string{"c.hcl": baseCluster, "t.hcl": tenantHCL("t", 10000, daemons...)}))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, d := range c.Daemons {
		out[d.Name] = fmt.Sprintf("%d %s", d.Port, d.PortReason)
	}
	return out
}

func TestPortCollisionResolvedBySmallestKey(t *testing.T) {
	// t/w/d0 and t/w/d530 both prefer 16278 (see TestPreferredPortGolden).
	got := ports(t, proxied("d530", ""), proxied("d0", ""))
	if got["d0"] != "16278 preferred" || got["d530"] != "16279 collision" {
		t.Errorf("got %v, want d0 on 16278 and d530 moved up to 16279", got)
	}
}

func TestPortPinWins(t *testing.T) {
	got := ports(t, proxied("d530", ""), proxied("d0", ""), proxied("pin", "port = 16278"))
	want := map[string]string{"pin": "16278 pinned", "d0": "16279 collision", "d530": "16280 collision"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
}

func TestPortProbeWraps(t *testing.T) {
	var daemons []string
	// Find a daemon preferring 19999 and pin that port elsewhere: it wraps to 10000.
	name := ""
	for i := 0; name == ""; i++ {
		if PreferredPort(fmt.Sprintf("t/w/x%d", i)) == 19999 {
			name = fmt.Sprintf("x%d", i)
		}
	}
	daemons = append(daemons, proxied(name, ""), proxied("pin", "port = 19999"))
	if got := ports(t, daemons...); got[name] != "10000 collision" {
		t.Errorf("%s: got %q, want 10000 collision", name, got[name])
	}
}

func TestPortOnlyForProxiedDaemons(t *testing.T) {
	got := ports(t, `daemon "worker" { command = "x" }`)
	if got["worker"] != "0 " {
		t.Errorf("unproxied daemon got a port: %q", got["worker"])
	}
}

func TestPortsPerTenant(t *testing.T) {
	// Two tenants may use the same port: each has its own address.
	c, err := Compute(repo(t, map[string]string{"c.hcl": baseCluster,
		"a.hcl": tenantHCL("a", 10000, proxied("d0", "port = 15000")),
		"b.hcl": tenantHCL("b", 10001, proxied("d0", "port = 15000"))}))
	if err != nil {
		t.Fatal(err)
	}
	if a, b := c.Daemon("a/w/d0"), c.Daemon("b/w/d0"); a.Port != 15000 || b.Port != 15000 || a.Host == b.Host {
		t.Errorf("a: %d %s, b: %d %s", a.Port, a.Host, b.Port, b.Host)
	}
}
