package gen

import (
	"bytes"
	"maps"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// TestRoundTrip checks that every generated value reaches the validated
// Config exactly: the HCL quoting of commands and environment values
// (quotes, '$', '%', '{', backslashes, UTF-8) loses nothing.
func TestRoundTrip(t *testing.T) {
	o := Options{Tenants: 400, DaemonsPerTenant: 4, Nodes: 6, Shards: 2, Seed: 42}
	cfg, _, diags := spec.Load(Files(o))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	byName := map[string]*spec.Tenant{}
	for _, tn := range cfg.Tenants {
		byName[tn.Name] = tn
	}
	for i := 0; i < o.Tenants; i++ {
		want := newTenant(o, i, ShardName(i%o.Shards), ShardNodes(o, i%o.Shards))
		got := byName[want.Name]
		if got == nil || int(got.UID) != want.UID || got.Shard != want.Shard {
			t.Fatalf("tenant %s: got %+v", want.Name, got)
		}
		daemons := map[string]*spec.Daemon{}
		for _, w := range got.Webroots {
			for _, d := range w.Daemons {
				daemons[w.Name+"/"+d.Name] = d
			}
		}
		for _, w := range want.Webroots {
			for _, wd := range w.Daemons {
				d := daemons[w.Name+"/"+wd.Name]
				if d == nil {
					t.Fatalf("%s/%s/%s missing", want.Name, w.Name, wd.Name)
				}
				env := map[string]string{}
				for _, e := range wd.Env {
					env[e.Key] = e.Value
				}
				if d.Command != wd.Command || d.ProxyPath != wd.ProxyPath || !maps.Equal(d.Environment.Map(), env) ||
					d.Port != wd.Port || d.Node != wd.Node || d.Enabled == wd.Disabled {
					t.Errorf("%s: got %+v, want %+v", d.Key(), d, wd)
				}
			}
		}
	}
}

func TestQuote(t *testing.T) {
	for _, s := range []string{"", "plain", `a"b\c`, "${X}", "$${X}", "$$${X}", "%{if}", "%%{x}", "$", "%", "{", "a\nb\tc\x01\x7f", "Blåbær ✓"} {
		src := []byte("cluster \"c\" {}\nshard \"s\" {\n  node \"n\" { index = 1 }\n}\n" +
			"tenant \"t\" {\n  uid = 1000\n  shard = \"s\"\n  webroot \"w\" {\n    daemon \"d\" {\n      command = \"x\"\n" +
			"      environment = { V = " + quote(s) + " }\n    }\n  }\n}\n")
		cfg, _, diags := spec.Load(map[string][]byte{"a.hcl": src})
		if diags.HasErrors() {
			t.Errorf("quote(%q) = %s: %v", s, quote(s), diags)
			continue
		}
		if got := cfg.Tenants[0].Webroots[0].Daemons[0].Environment.Value("V"); got != s {
			t.Errorf("quote(%q) = %s reads back as %q", s, quote(s), got)
		}
	}
}

// TestDeterministic: the same options give the same bytes, and a tenant's
// file does not depend on how many tenants there are.
func TestDeterministic(t *testing.T) {
	o := Options{Tenants: 100, DaemonsPerTenant: 3, Nodes: 5, Shards: 1, Seed: 9}
	a, b := Files(o), Files(o)
	if !maps.EqualFunc(a, b, bytes.Equal) {
		t.Fatal("two runs differ")
	}
	o.Tenants = 50
	c := Files(o)
	for name, data := range c {
		if name != "cluster.hcl" && !bytes.Equal(a[name], data) {
			t.Errorf("%s differs between 100 and 50 tenants", name)
		}
	}
	o.Seed = 10
	if bytes.Equal(Files(o)["tenants/t00007.hcl"], c["tenants/t00007.hcl"]) {
		t.Error("the seed changes nothing")
	}
}
