package reconcile

import (
	"maps"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
)

// reuseRepo is shard web-1 of two nodes with two tenants whose daemons are
// placed by rendezvous (none pinned), proxied, so every node carries their
// locations: a change of the node list moves daemons and rewrites them.
var reuseRepo = map[string]string{
	"cluster.hcl": fake.Cluster,
	"acme.hcl": `tenant "acme" {
  uid   = 10042
  shard = "web-1"
  webroot "main" {
    server_names = ["acme.example.com"]
    daemon "ws" {
      command    = "serve --port=$PORT"
      proxy_path = "/ws"
    }
    daemon "api" {
      command    = "api --port=$PORT"
      proxy_path = "/api"
    }
    daemon "worker" {
      command = "work"
    }
  }
}
`,
	"bravo.hcl": `tenant "bravo" {
  uid   = 20000
  shard = "web-1"
  webroot "main" {
    daemon "hub" {
      command    = "hub --port=$PORT"
      proxy_path = "/hub"
    }
    daemon "queue" {
      command = "queue"
    }
  }
}
`,
}

// TestReuseInvalidation commits a sequence of revisions to one agent, which
// reuses what it can from pass to pass (reuse.go), and after each pass
// compares the node's files with those of a new agent that applied the
// same revision from scratch: an edited file, renamed files, a changed
// node list, a changed uid, a commit that changes no config file. A stale
// reused result would leave the node with the wrong files.
func TestReuseInvalidation(t *testing.T) {
	h := newHarness(t)
	h.accounts = fake.Accounts{10042: "acme", 10043: "acme", 20000: "bravo"}
	edit := func(name, old, new string) func(map[string]string) {
		return func(files map[string]string) {
			if !strings.Contains(files[name], old) {
				t.Fatalf("%s has no %q", name, old)
			}
			files[name] = strings.Replace(files[name], old, new, 1)
		}
	}
	rename := func(from, to string) func(map[string]string) {
		return func(files map[string]string) { files[to], files[from] = files[from], ""; delete(files, from) }
	}
	steps := []struct {
		name   string
		change func(map[string]string)
		same   bool // the node's files do not change
	}{
		{"first", func(map[string]string) {}, false},
		{"command edited", edit("acme.hcl", `"work"`, `"work --hard"`), false},
		{"proxy path edited", edit("bravo.hcl", `"/hub"`, `"/socket"`), false},
		{"file renamed", rename("bravo.hcl", "tenants/bravo.hcl"), true},
		{"files swapped", func(files map[string]string) {
			files["acme.hcl"], files["tenants/bravo.hcl"] = files["tenants/bravo.hcl"], files["acme.hcl"]
		}, true},
		{"file renamed out of the configuration", rename("acme.hcl", "acme.hcl.off"), false},
		{"file renamed back", rename("acme.hcl.off", "acme.hcl"), false},
		{"uid changed", edit("tenants/bravo.hcl", `uid   = 10042`, `uid   = 10043`), false},
		{"node added", edit("cluster.hcl", `node "web-1b" { index = 2 }`, "node \"web-1b\" { index = 2 }\n  node \"web-1c\" { index = 3 }"), false},
		{"node drained", edit("cluster.hcl", `node "web-1c" { index = 3 }`, "node \"web-1c\" {\n    index = 3\n    drain = true\n  }"), false},
		{"no config file changed", func(files map[string]string) { files["README"] = "notes" }, true},
	}
	files := maps.Clone(reuseRepo)
	prev := ""
	for _, s := range steps {
		s.change(files)
		h.src.Commit(maps.Clone(files))
		h.reconcile(OutcomeApplied)
		got := h.fs.Contents()

		fresh := newHarness(t)
		fresh.accounts = h.accounts
		fresh.src.Commit(maps.Clone(files))
		fresh.reconcile(OutcomeApplied)
		if want := fresh.fs.Contents(); got != want {
			t.Fatalf("%s: the node's files differ from a new agent's:\n%s\nwant:\n%s", s.name, got, want)
		}
		if same := got == prev; same != s.same {
			t.Fatalf("%s: files unchanged = %v, want %v (the step tests nothing)", s.name, same, s.same)
		}
		prev = got
	}
}
