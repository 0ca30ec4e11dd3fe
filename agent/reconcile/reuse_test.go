package reconcile

import (
	"context"
	"maps"
	"reflect"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/source"
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

// TestReusedFilesComparedWithTheDisk: the memo hands out the nginx files
// of unchanged webroots without their bytes (only their hash). A pass that
// compares with the disk (after a restart, drover reconcile) must still
// find such a file edited or deleted by hand and write it back whole, and
// the store must keep its bytes.
func TestReusedFilesComparedWithTheDisk(t *testing.T) {
	h := newHarness(t)
	h.accounts = fake.Accounts{10042: "acme", 20000: "bravo"}
	files := maps.Clone(reuseRepo)
	h.src.Commit(maps.Clone(files))
	h.reconcile(OutcomeApplied)
	// A change to acme only: bravo's nginx files are reused.
	files["acme.hcl"] = strings.Replace(files["acme.hcl"], `"work"`, `"work --hard"`, 1)
	h.src.Commit(maps.Clone(files))
	h.reconcile(OutcomeApplied)
	if h.rec.memo.Formatted == 0 {
		t.Fatal("nothing formatted: the step tests nothing")
	}
	want := h.fs.Contents()
	var edited, deleted string
	for _, name := range []string{"locations/bravo_main.conf", "servers/bravo_main.conf"} {
		path, ok := h.rec.layout.Path("nginx/" + name)
		if !ok {
			t.Fatalf("no path for %s", name)
		}
		if _, _, err := h.fs.ReadFile(path); err != nil {
			continue
		}
		if edited == "" {
			edited = path
		} else {
			deleted = path
		}
	}
	if edited == "" {
		t.Fatal("bravo has no nginx file")
	}
	// Behind the watcher's back: only a full comparison finds them.
	h.fs.WriteFile(edited, []byte("# edited by hand\n"), 0o644)
	if deleted != "" {
		h.fs.Remove(deleted)
	}
	res := h.rec.Reconcile(context.Background(), true)
	h.rec.Settle(context.Background(), res)
	if got := h.fs.Contents(); got != want {
		t.Fatalf("after a forced pass the node's files are not repaired:\n%s\nwant:\n%s", got, want)
	}
	r, ok, err := h.store.Resource("nginx/locations/bravo_main.conf")
	if err != nil || !ok || len(r.Data) == 0 || r.Hash != hashOf(r.Data) {
		t.Fatalf("store keeps bravo's locations as %+v (ok %v, err %v), want its bytes", r, ok, err)
	}
}

// installedProbe is a Source that notes, when a pass reads a revision's
// files, how many resources the reconciler's installed view holds (-1:
// none yet). It runs inside the pass, on its goroutine.
type installedProbe struct {
	Source
	rec  *Reconciler
	seen []int
}

func (p *installedProbe) Files(ctx context.Context, rev, root string) (map[string]source.Blob, error) {
	n := -1
	if p.rec.installed != nil {
		n = len(p.rec.installed)
	}
	p.seen = append(p.seen, n)
	return p.Source.Files(ctx, rev, root)
}

// TestRestoreReadsTheStoreOnce: Restore reads every stored resource with
// its bytes to re-apply them; the installed view its apply compares with
// is made from that read (without the bytes) rather than read again.
func TestRestoreReadsTheStoreOnce(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Daemon("reverb", "")))
	h.reconcile(OutcomeApplied)
	stored, err := h.store.ResourcesWithoutData()
	if err != nil || len(stored) == 0 {
		t.Fatalf("stored resources: %d, %v", len(stored), err)
	}
	h.newReconciler()
	probe := &installedProbe{Source: h.src, rec: h.rec}
	h.rec.src = probe
	h.rec.Restore(context.Background())
	if len(probe.seen) != 1 || probe.seen[0] != len(stored) {
		t.Fatalf("installed view while Restore loads: %v, want the %d resources it read", probe.seen, len(stored))
	}
	if !reflect.DeepEqual(h.rec.installed, stored) {
		t.Errorf("installed view after Restore differs from the store's")
	}
}
