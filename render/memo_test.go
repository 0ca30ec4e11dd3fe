package render_test

import (
	"cmp"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/testplan"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
)

// memoRepo is one shard of three nodes; web-1a runs acme's daemons (pinned)
// and carries every webroot's nginx files.
var memoRepo = map[string]string{
	"cluster.hcl": `
cluster "osl-1" {}
shard "web-1" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
  node "web-1c" { index = 3 }
}
`,
	"acme.hcl": `
tenant "acme" {
  uid   = 10042
  shard = "web-1"
  webroot "main" {
    server_names = ["acme.example"]
    daemon "ws" {
      command     = "node ws.js"
      proxy_path  = "/ws"
      node        = "web-1a"
      environment = { A = "1" }
    }
    daemon "worker" {
      command  = "php worker.php"
      node     = "web-1a"
      num_procs = 2
    }
  }
}
`,
	"bravo.hcl": `
tenant "bravo" {
  uid   = 10043
  shard = "web-1"
  webroot "main" {
    server_names = ["bravo.example"]
    daemon "api" {
      command    = "node api.js"
      proxy_path = "/api"
    }
    daemon "hub" {
      command    = "hub"
      proxy_path = "/hub"
    }
  }
}
`,
}

// TestMemoInvalidation renders a sequence of revisions with one Memo and
// checks every result against a fresh render: whatever an edit changes (a
// daemon's command, section, environment, proxy path, enabled, a tenant's
// uid, the shard's nodes, their weight or drain, server names, a renamed
// file), the Memo formats the files concerned again rather than reusing
// stale ones, and reuses everything when nothing changed.
func TestMemoInvalidation(t *testing.T) {
	o := render.Options{Binary: "/usr/bin/drover", StateDir: "/var/lib/drover", StorageRoot: "/srv", NginxConfDir: "/etc/nginx/drover",
		NginxListen: []string{"80"}, TenantInterface: "tenant0", TransitInterface: "eth0", NftTable: "drover"}
	edit := func(files map[string]string, name, old, new string) map[string]string {
		t.Helper()
		out := map[string]string{}
		for k, v := range files {
			out[k] = v
		}
		if !strings.Contains(out[name], old) {
			t.Fatalf("%s has no %q", name, old)
		}
		out[name] = strings.Replace(out[name], old, new, 1)
		return out
	}
	rename := func(files map[string]string, from, to string) map[string]string {
		out := map[string]string{}
		for k, v := range files {
			out[k] = v
		}
		out[to] = out[from]
		delete(out, from)
		return out
	}
	steps := []memoStep{
		{"command", func(f map[string]string) map[string]string {
			return edit(f, "acme.hcl", `"node ws.js"`, `"node ws2.js"`)
		}, false},
		{"section", func(f map[string]string) map[string]string {
			return edit(f, "acme.hcl", `num_procs = 2`, "num_procs = 2\n      stop_wait_secs = 17")
		}, false},
		{"environment", func(f map[string]string) map[string]string { return edit(f, "acme.hcl", `A = "1"`, `A = "2"`) }, false},
		{"proxy path", func(f map[string]string) map[string]string { return edit(f, "acme.hcl", `"/ws"`, `"/socket"`) }, false},
		{"disabled", func(f map[string]string) map[string]string {
			return edit(f, "bravo.hcl", `proxy_path = "/hub"`, "proxy_path = \"/hub\"\n      enabled = false")
		}, false},
		{"singleton", func(f map[string]string) map[string]string {
			return edit(f, "acme.hcl", `num_procs = 2`, "num_procs = 2\n      singleton = true")
		}, false},
		{"uid", func(f map[string]string) map[string]string { return edit(f, "acme.hcl", `10042`, `10044`) }, false},
		{"server names", func(f map[string]string) map[string]string {
			return edit(f, "bravo.hcl", `["bravo.example"]`, `["bravo.example", "www.bravo.example"]`)
		}, false},
		{"node added", func(f map[string]string) map[string]string {
			return edit(f, "cluster.hcl", `node "web-1c" { index = 3 }`, "node \"web-1c\" { index = 3 }\n  node \"web-1d\" { index = 4 }")
		}, false},
		{"node weight", func(f map[string]string) map[string]string {
			return edit(f, "cluster.hcl", `node "web-1d" { index = 4 }`, `node "web-1d" {
    index  = 4
    weight = 100
  }`)
		}, false},
		{"node drained", func(f map[string]string) map[string]string {
			return edit(f, "cluster.hcl", `weight = 100`, "weight = 100\n    drain = true")
		}, false},
		{"file renamed", func(f map[string]string) map[string]string { return rename(f, "bravo.hcl", "tenants-b.hcl") }, true},
		{"nothing", func(f map[string]string) map[string]string { return f }, true},
	}
	// Each revision planned afresh, and planned from the last one as the
	// agent does (the plans then share unchanged tenants' daemons and
	// webroots, which the memo reuses without comparing them).
	shared := testplan.NewPlanner()
	planners := []struct {
		name string
		plan func(files map[string]string) *netplan.NodePlan
	}{
		{"fresh", func(files map[string]string) *netplan.NodePlan { return nodePlan(t, files, "web-1a") }},
		{"shared", func(files map[string]string) *netplan.NodePlan { return shared.NodePlan(t, files, "web-1a") }},
	}
	for _, planner := range planners {
		t.Run(planner.name, func(t *testing.T) { memoSteps(t, o, steps, planner.plan) })
	}
	// The shared planner did share: the last step changed nothing, and
	// its plan's webroots are the previous plan's objects.
	a, b := shared.NodePlan(t, memoRepo, "web-1a"), shared.NodePlan(t, memoRepo, "web-1a")
	if len(a.Webroots) == 0 || a.Webroots[0] != b.Webroots[0] || a.Programs[0] != b.Programs[0] {
		t.Fatal("plans of the same revision share no webroot or daemon: the shared case tests nothing")
	}
}

// memoStep is one revision of TestMemoInvalidation: an edit, and whether
// the node's files stay the same.
type memoStep struct {
	name   string
	change func(map[string]string) map[string]string
	same   bool
}

// memoSteps renders the revisions of steps with one Memo, each planned by
// plan, and checks every result against a fresh render.
func memoSteps(t *testing.T, o render.Options, steps []memoStep, plan func(map[string]string) *netplan.NodePlan) {
	memo := render.NewMemo(o)
	files := memoRepo
	prev := fill(t, memo, memo.Carry(plan(files)))
	for _, s := range steps {
		files = s.change(files)
		p := plan(files)
		carried := memo.Carry(p)
		if s.same {
			// Reused nginx files come without their bytes: the memo
			// keeps only their hash.
			for _, f := range carried.Files {
				if f.Root == render.RootNginx && !f.Owner.IsNode() && f.Data != nil {
					t.Errorf("%s: reused %s carries its bytes", s.name, f.Path)
				}
			}
		}
		got, want := fill(t, memo, carried), render.Carry(p, o)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: the memo's render differs from a fresh one:\n%s", s.name, diffFiles(got.Files, want.Files))
		}
		if same := reflect.DeepEqual(got.Files, prev.Files); same != s.same {
			t.Fatalf("%s: files unchanged = %v, want %v (the step tests nothing)", s.name, same, s.same)
		}
		if s.same && memo.Formatted != 0 {
			t.Errorf("%s: %d files formatted again, want every file reused", s.name, memo.Formatted)
		}
		prev = got
	}
}

// fill is c with every file's Data, as Memo.Fill gives them, sorted by
// root and path as render.Carry sorts them.
func fill(t *testing.T, m *render.Memo, c render.Carried) render.Carried {
	t.Helper()
	out := c
	out.Files = make([]render.File, len(c.Files))
	for i, f := range c.Files {
		g, ok := m.Fill(f)
		if !ok {
			t.Fatalf("Fill(%s): not from the last Carry", f.Path)
		}
		out.Files[i] = g
	}
	slices.SortFunc(out.Files, func(a, b render.File) int {
		return cmp.Or(strings.Compare(string(a.Root), string(b.Root)), strings.Compare(a.Path, b.Path))
	})
	return out
}

// TestMemoFillRefusesStaleFiles: a file handed out by an earlier Carry,
// whose webroot changed since, is not filled with the new bytes.
func TestMemoFillRefusesStaleFiles(t *testing.T) {
	o := render.Options{Binary: "/usr/bin/drover", StateDir: "/var/lib/drover", StorageRoot: "/srv", NginxConfDir: "/etc/nginx/drover",
		NginxListen: []string{"80"}, TenantInterface: "tenant0", TransitInterface: "eth0", NftTable: "drover"}
	memo := render.NewMemo(o)
	memo.Carry(nodePlan(t, memoRepo, "web-1a"))
	old := memo.Carry(nodePlan(t, memoRepo, "web-1a")) // reused: no bytes
	changed := map[string]string{}
	for k, v := range memoRepo {
		changed[k] = strings.Replace(v, `"/api"`, `"/api2"`, 1)
	}
	memo.Carry(nodePlan(t, changed, "web-1a"))
	checked := 0
	for _, f := range old.Files {
		if f.Data != nil || f.Owner.Tenant != "bravo" {
			continue
		}
		checked++
		if g, ok := memo.Fill(f); ok && strings.Contains(f.Path, "locations") {
			t.Errorf("Fill(%s) of a stale file: ok with %q", f.Path, g.Data)
		}
	}
	if checked == 0 {
		t.Fatal("no reused bravo file to check")
	}
	if _, ok := memo.Fill(render.File{Root: render.RootNginx, Path: "nope.conf", Owner: render.WebrootOwner("zulu", "main")}); ok {
		t.Error("Fill of a file the memo never made: ok")
	}
	// A tenant gone from the plan is forgotten: its files, reused before,
	// are not filled any more.
	gone := map[string]string{}
	for k, v := range memoRepo {
		if k != "bravo.hcl" {
			gone[k] = v
		}
	}
	memo.Carry(nodePlan(t, memoRepo, "web-1a"))
	memo.Carry(nodePlan(t, gone, "web-1a"))
	for _, f := range old.Files {
		if f.Data == nil && f.Owner.Tenant == "bravo" {
			if _, ok := memo.Fill(f); ok {
				t.Errorf("Fill(%s) of a tenant no longer in the plan: ok", f.Path)
			}
		}
	}
}

// diffFiles lists the files that differ between got and want.
func diffFiles(got, want []render.File) string {
	var b strings.Builder
	index := func(files []render.File) map[string]render.File {
		m := map[string]render.File{}
		for _, f := range files {
			m[string(f.Root)+"/"+f.Path] = f
		}
		return m
	}
	g, w := index(got), index(want)
	for k, f := range w {
		if h, ok := g[k]; !ok || !reflect.DeepEqual(f, h) {
			b.WriteString("--- " + k + " got:\n" + string(h.Data) + "--- want:\n" + string(f.Data))
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			b.WriteString("--- " + k + " not wanted\n")
		}
	}
	return b.String()
}
