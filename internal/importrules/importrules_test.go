package importrules

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// module is drover's module path.
const module = "github.com/drover-sh/drover"

// rule is one import rule. It applies to the packages in from (paths
// relative to the module) and, when deep, to every non-standard package
// they import, directly or not: a library the core pulls in must not do
// what the core may not. Imports of test files are not concerned.
type rule struct {
	name   string
	from   []string
	deep   bool
	denied func(imp string) bool
	// except are the allowed imports that denied refuses, "importer
	// imported" (module-relative) → why.
	except map[string]string
}

// sideEffects are packages that reach outside the process: commands,
// signals, sockets, system calls, netlink, nftables, bbolt, Git, file
// watches. "p/..." is p and every package below it; other entries match
// exactly (net/netip and net/url are pure, net is not).
var sideEffects = []string{
	"os/exec", "os/signal", "net", "net/http/...", "net/rpc/...", "net/smtp", "syscall", "log/syslog", "plugin",
	"golang.org/x/sys/unix", "golang.org/x/net/...",
	"github.com/vishvananda/...", "github.com/mdlayher/...", "github.com/google/nftables/...",
	"go.etcd.io/bbolt/...", "github.com/go-git/...", "github.com/fsnotify/...", "github.com/prometheus/...",
}

// core are the pure packages: bytes in, bytes out (execspec and
// internal/regular are the leaves drover exec shares with them).
var core = []string{"spec", "netplan", "netstate", "render", "execspec", "internal/regular"}

// cliAgent are the packages under agent/ the CLI may import: the agent to
// run it, its configuration to read api.socket, and the local API to talk
// to it. agent/launch is `drover exec`'s own package: the wrapper
// supervisord starts for every daemon runs it in-process, without an agent.
var cliAgent = []string{"agent", "agent/config", "agent/localapi", "agent/launch"}

var rules = []rule{
	{
		name: "the core (spec, netplan, netstate, render) imports only the core and no side-effect package",
		from: core,
		deep: true,
		denied: func(imp string) bool {
			if rel, ok := inModule(imp); ok {
				return !slices.Contains(core, rel)
			}
			return matchesAny(imp, sideEffects)
		},
		except: map[string]string{
			"internal/regular syscall": "regular.Open (the loader's spec.OpenRegular) opens files with O_NOFOLLOW|O_NONBLOCK, flags os does not name; it makes no system call of its own",
		},
	},
	{
		name:   "review, edit and internal/gitrev import nothing under agent/ or cmd/",
		from:   []string{"review", "edit", "internal/gitrev"},
		denied: underAny("agent", "cmd"),
	},
	{
		name: "cmd/drover imports from agent/ only " + strings.Join(cliAgent, ", "),
		from: []string{"cmd/drover"},
		denied: func(imp string) bool {
			rel, ok := inModule(imp)
			return ok && underAny("agent")(imp) && !slices.Contains(cliAgent, rel)
		},
	},
	{
		name: "drover exec (cmd/drover/internal/execfirst, cmd/drover-exec, agent/launch) imports from outside the standard library only execspec and internal/regular",
		from: []string{"cmd/drover/internal/execfirst", "cmd/drover-exec", "agent/launch"},
		deep: true,
		denied: func(imp string) bool {
			rel, ok := inModule(imp)
			if ok {
				return !slices.Contains([]string{"agent/launch", "execspec", "internal/regular"}, rel)
			}
			return strings.Contains(strings.Split(imp, "/")[0], ".") // not the standard library
		},
	},
	{
		name: "agent/localapi imports nothing of drover's (the CLI links no agent internals through it)",
		from: []string{"agent/localapi"},
		denied: func(imp string) bool {
			_, ok := inModule(imp)
			return ok
		},
	},
	{
		name: "agent/reconcile imports nothing of the loop that runs it (agent), of agent/webhook or of cmd/",
		from: []string{"agent/reconcile"},
		denied: func(imp string) bool {
			rel, ok := inModule(imp)
			return ok && (rel == "agent" || underAny("agent/webhook", "cmd")(imp))
		},
	},
	{
		name: "agent/webhook imports nothing of drover's but agent/localapi (its error replies)",
		from: []string{"agent/webhook"},
		denied: func(imp string) bool {
			rel, ok := inModule(imp)
			return ok && rel != "agent/localapi"
		},
	},
	{
		name:   "agent/internal/fake is for tests: agent and agent/reconcile import it only from their tests",
		from:   []string{"agent", "agent/reconcile"},
		denied: underAny("agent/internal/fake"),
	},
}

// TestImportRules checks every rule against the module as `go list` sees
// it.
func TestImportRules(t *testing.T) {
	g := loadGraph(t)
	for _, r := range rules {
		for _, v := range check(g, r) {
			t.Errorf("%s, but %s", r.name, v)
		}
	}
}

// TestRulesCatchViolations proves each rule can fail: a graph with one
// forbidden import added breaks the rule it should, and only that import
// is reported, with the chain that leads to it; an allowed one (violation
// "") is not reported.
func TestRulesCatchViolations(t *testing.T) {
	base := loadGraph(t)
	for _, c := range []struct {
		rule      int
		importer  string // full import path
		imported  string
		violation string
	}{
		{0, module + "/render", "os/exec", "render imports os/exec"},
		{0, module + "/netplan", module + "/agent/store", "netplan imports agent/store"},
		{0, module + "/spec", module + "/internal/gitrev", "spec imports internal/gitrev"},
		{0, module + "/render", "go.etcd.io/bbolt", "render imports go.etcd.io/bbolt"},
		{0, "github.com/hashicorp/hcl/v2", "net/http", "spec → github.com/hashicorp/hcl/v2 imports net/http"},
		{0, module + "/netplan", "syscall", "netplan imports syscall"},
		{0, module + "/netstate", module + "/agent/network", "netstate imports agent/network"},
		{1, module + "/review", module + "/agent", "review imports agent"},
		{2, module + "/cmd/drover", module + "/agent/store", "cmd/drover imports agent/store"},
		{2, module + "/cmd/drover", module + "/agent/supervisor", "cmd/drover imports agent/supervisor"},
		{4, module + "/agent/localapi", module + "/agent", "agent/localapi imports agent"},
		{2, module + "/cmd/drover", module + "/agent/reconcile", "cmd/drover imports agent/reconcile"},
		{2, module + "/cmd/drover", module + "/agent/webhook", "cmd/drover imports agent/webhook"},
		{5, module + "/agent/reconcile", module + "/agent", "agent/reconcile imports agent"},
		{5, module + "/agent/reconcile", module + "/agent/webhook", "agent/reconcile imports agent/webhook"},
		{5, module + "/agent/reconcile", module + "/cmd/drover", "agent/reconcile imports cmd/drover"},
		{6, module + "/agent/webhook", module + "/agent/reconcile", "agent/webhook imports agent/reconcile"},
		{6, module + "/agent/webhook", module + "/agent/config", "agent/webhook imports agent/config"},
		{7, module + "/agent", module + "/agent/internal/fake", "agent imports agent/internal/fake"},
		{7, module + "/agent/reconcile", module + "/agent/internal/fake", "agent/reconcile imports agent/internal/fake"},
		{0, module + "/render", "net/netip", ""},
		{0, module + "/render", module + "/spec", ""},
		{0, module + "/render", module + "/netstate", ""},
		{3, module + "/agent/launch", "github.com/drover-sh/drover/spec", "agent/launch imports spec"},
		{3, module + "/agent/launch", "golang.org/x/sys/unix", "agent/launch imports golang.org/x/sys/unix"},
		{3, module + "/agent/launch", "os/user", ""},
		{3, module + "/cmd/drover-exec", module + "/agent/config", "cmd/drover-exec imports agent/config"},
		{3, module + "/cmd/drover-exec", "github.com/hashicorp/hcl/v2", "cmd/drover-exec imports github.com/hashicorp/hcl/v2"},
		{2, module + "/cmd/drover", module + "/agent/localapi", ""},
		{2, module + "/cmd/drover", module + "/review", ""},
		{5, module + "/agent/reconcile", module + "/agent/store", ""},
		{6, module + "/agent/webhook", module + "/agent/localapi", ""},
	} {
		g := base.clone()
		p := g[c.importer]
		if p == nil {
			t.Fatalf("%s is not in the module's graph", c.importer)
		}
		p.Imports = append(p.Imports, c.imported)
		if _, ok := g[c.imported]; !ok {
			g[c.imported] = &pkg{ImportPath: c.imported}
		}
		var want []string
		if c.violation != "" {
			want = []string{c.violation}
		}
		if got := check(g, rules[c.rule]); !slices.Equal(got, want) {
			t.Errorf("%s importing %s: rule %q reports %q, want %q", c.importer, c.imported, rules[c.rule].name, got, want)
		}
	}
}

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath string
	Standard   bool
	Imports    []string
}

// graph holds every package the module's packages build from, by path.
type graph map[string]*pkg

func (g graph) clone() graph {
	out := make(graph, len(g))
	for k, p := range g {
		c := *p
		c.Imports = slices.Clone(p.Imports)
		out[k] = &c
	}
	return out
}

// loadGraph runs `go list -deps -json` on the module.
func loadGraph(t *testing.T) graph {
	t.Helper()
	cmd := exec.Command("go", "list", "-deps", "-json=ImportPath,Standard,Imports", "./...")
	cmd.Dir = filepath.Join("..", "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.Bytes())
	}
	g := graph{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("decode go list's output: %v", err)
		}
		g[p.ImportPath] = &p
	}
	return g
}

// check returns the imports that break r in g, each as "importer imports
// imported", the importer reached through the chain from r's packages
// ("spec → github.com/hashicorp/hcl/v2 imports net/http") when deep. Each
// import is reported once, through the first of r.from that reaches it.
func check(g graph, r rule) []string {
	var out []string
	// Breadth first from r.from, through non-standard packages when deep,
	// keeping how each was reached.
	via := map[string]string{}
	var queue []string
	for _, from := range r.from {
		root := module + "/" + from
		if g[root] == nil {
			out = append(out, root+" is not a package of the module (was it renamed?)")
			continue
		}
		via[root] = ""
		queue = append(queue, root)
	}
	for len(queue) > 0 {
		path := queue[0]
		queue = queue[1:]
		for _, imp := range g[path].Imports {
			if r.denied(imp) && r.except[short(path)+" "+short(imp)] == "" {
				out = append(out, chain(via, path)+" imports "+short(imp))
				continue
			}
			if _, seen := via[imp]; !seen && r.deep && g[imp] != nil && !g[imp].Standard {
				via[imp] = path
				queue = append(queue, imp)
			}
		}
	}
	return out
}

// chain is how path was reached from the rule's package: "a → b → path".
func chain(via map[string]string, path string) string {
	parts := []string{short(path)}
	for p := via[path]; p != ""; p = via[p] {
		parts = append(parts, short(p))
	}
	slices.Reverse(parts)
	return strings.Join(parts, " → ")
}

// inModule reports whether path is drover's, and its module-relative path.
func inModule(path string) (string, bool) {
	if path == module {
		return "", true
	}
	return strings.CutPrefix(path, module+"/")
}

// short is a path as a rule names it: module-relative for drover's own.
func short(path string) string {
	if rel, ok := inModule(path); ok {
		return rel
	}
	return path
}

// underAny matches drover's packages at or below the given directories.
func underAny(dirs ...string) func(string) bool {
	return func(imp string) bool {
		rel, ok := inModule(imp)
		return ok && slices.ContainsFunc(dirs, func(d string) bool { return rel == d || strings.HasPrefix(rel, d+"/") })
	}
}

// matchesAny reports whether path matches one of patterns: "p/..." is p
// and every package below it, anything else only itself.
func matchesAny(path string, patterns []string) bool {
	for _, p := range patterns {
		if dir, ok := strings.CutSuffix(p, "/..."); ok {
			if path == dir || strings.HasPrefix(path, dir+"/") {
				return true
			}
		} else if path == p {
			return true
		}
	}
	return false
}
