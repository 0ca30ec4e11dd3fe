package review_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/review"
	"github.com/drover-sh/drover/spec"
)

// load builds a valid Config from name → content.
func load(t testing.TB, files map[string]string) *spec.Config {
	t.Helper()
	srcs := map[string][]byte{}
	for k, v := range files {
		srcs[k] = []byte(v)
	}
	cfg, _, diags := spec.Load(srcs)
	if diags.HasErrors() {
		t.Fatalf("invalid config: %v", diags)
	}
	return cfg
}

func compute(t testing.TB, base, head *spec.Config) *review.Plan {
	t.Helper()
	p, err := review.Compute(base, head, review.Options{Render: config.Default().RenderOptions()})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// shard writes a shard block of nodes "name:index[:weight][:drain]".
func shard(name string, nodes ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "shard %q {\n", name)
	for _, n := range nodes {
		parts := strings.Split(n, ":")
		fmt.Fprintf(&b, "  node %q {\n    index = %s\n", parts[0], parts[1])
		for _, extra := range parts[2:] {
			if extra == "drain" {
				b.WriteString("    drain = true\n")
			} else {
				fmt.Fprintf(&b, "    weight = %s\n", extra)
			}
		}
		b.WriteString("  }\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// tenant writes tenant t on shard with n worker daemons w00.. and extra
// daemon blocks.
func tenant(name, shard string, uid, n int, extra string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tenant %q {\n  uid = %d\n  shard = %q\n  webroot \"w\" {\n", name, uid, shard)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "    daemon \"w%02d\" {\n      command = \"work\"\n    }\n", i)
	}
	b.WriteString(extra)
	b.WriteString("  }\n}\n")
	return b.String()
}

const clusterHCL = "cluster \"osl-1\" {\n  max_daemons_per_webroot = 100\n}\n"

// placements maps key → node name.
func placements(t testing.TB, cfg *spec.Config) map[string]string {
	c, err := netplan.Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, d := range c.Daemons {
		m[d.Key] = d.Node.Name
	}
	return m
}

// checkMoves asserts that the plan's moves are exactly the placement
// differences of the keys present in both revisions.
func checkMoves(t *testing.T, base, head *spec.Config, p *review.Plan) {
	t.Helper()
	bp, hp := placements(t, base), placements(t, head)
	want := map[string]string{}
	for k, bn := range bp {
		if hn, ok := hp[k]; ok && hn != bn {
			want[k] = bn + "→" + hn
		}
	}
	got := map[string]string{}
	for _, m := range p.Moves {
		got[m.Key] = m.From + "→" + m.To
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("moves differ from the placements:\n got %v\nwant %v", got, want)
	}
}

func TestMoveReasons(t *testing.T) {
	abc := shard("web-1", "web-1a:1", "web-1b:2", "web-1c:3")
	pinned := `    daemon "p" {
      command = "work"
      node    = "web-1a"
    }
`
	cases := []struct {
		name       string
		base, head map[string]string
		reason     review.MoveReason
		detail     string
		from, to   string // "" when any
		min        int
	}{
		{name: "drain",
			base:   map[string]string{"s.hcl": abc},
			head:   map[string]string{"s.hcl": shard("web-1", "web-1a:1:drain", "web-1b:2", "web-1c:3")},
			reason: review.ReasonDrain, detail: "node web-1a drained", from: "web-1a", min: 5},
		{name: "undrain",
			base:   map[string]string{"s.hcl": shard("web-1", "web-1a:1:drain", "web-1b:2", "web-1c:3")},
			head:   map[string]string{"s.hcl": abc},
			reason: review.ReasonUndrain, detail: "node web-1a undrained", to: "web-1a", min: 5},
		{name: "new node",
			base:   map[string]string{"s.hcl": abc},
			head:   map[string]string{"s.hcl": shard("web-1", "web-1a:1", "web-1b:2", "web-1c:3", "web-1d:4")},
			reason: review.ReasonNewNode, detail: "new node web-1d", to: "web-1d", min: 3},
		{name: "node removed",
			base:   map[string]string{"s.hcl": abc},
			head:   map[string]string{"s.hcl": shard("web-1", "web-1a:1", "web-1b:2")},
			reason: review.ReasonNodeRemoved, detail: "node web-1c removed", from: "web-1c", min: 5},
		{name: "weight",
			base:   map[string]string{"s.hcl": abc},
			head:   map[string]string{"s.hcl": shard("web-1", "web-1a:1", "web-1b:2:4", "web-1c:3")},
			reason: review.ReasonWeight, detail: "weight of web-1b 1 → 4", to: "web-1b", min: 2},
		{name: "pin",
			base:   map[string]string{"s.hcl": abc, "t.hcl": tenant("t", "web-1", 10000, 30, strings.Replace(pinned, `node    = "web-1a"`, "", 1))},
			head:   map[string]string{"s.hcl": abc, "t.hcl": tenant("t", "web-1", 10000, 30, pinned)},
			reason: review.ReasonPin, detail: "pinned to web-1a", to: "web-1a", min: 1},
		{name: "unpin",
			base:   map[string]string{"s.hcl": abc, "t.hcl": tenant("t", "web-1", 10000, 30, pinned)},
			head:   map[string]string{"s.hcl": abc, "t.hcl": tenant("t", "web-1", 10000, 30, strings.Replace(pinned, `node    = "web-1a"`, "", 1))},
			reason: review.ReasonUnpin, detail: "pin to web-1a removed", from: "web-1a", min: 1},
		{name: "pinned node drained",
			base:   map[string]string{"s.hcl": abc, "t.hcl": tenant("t", "web-1", 10000, 0, pinned)},
			head:   map[string]string{"s.hcl": shard("web-1", "web-1a:1:drain", "web-1b:2", "web-1c:3"), "t.hcl": tenant("t", "web-1", 10000, 0, pinned)},
			reason: review.ReasonDrain, detail: "pinned node web-1a drained", from: "web-1a", min: 1},
		{name: "shard",
			base:   map[string]string{"s.hcl": abc, "s2.hcl": shard("web-2", "web-2a:4", "web-2b:5")},
			head:   map[string]string{"s.hcl": abc, "s2.hcl": shard("web-2", "web-2a:4", "web-2b:5"), "t.hcl": tenant("t", "web-2", 10000, 30, "")},
			reason: review.ReasonShard, detail: "tenant t moved from shard web-1 to web-2", min: 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			files := func(m map[string]string) map[string]string {
				out := map[string]string{"c.hcl": clusterHCL, "t.hcl": tenant("t", "web-1", 10000, 30, "")}
				for k, v := range m {
					out[k] = v
				}
				return out
			}
			base, head := load(t, files(tc.base)), load(t, files(tc.head))
			if tc.name == "pin" || tc.name == "unpin" {
				// The pin must move the daemon: check rendezvous places it elsewhere.
				if placements(t, base)["t/w/p"] == placements(t, head)["t/w/p"] {
					t.Fatal("t/w/p is on web-1a without the pin: pick another node for the test")
				}
			}
			p := compute(t, base, head)
			checkMoves(t, base, head, p)
			if len(p.Moves) < tc.min {
				t.Fatalf("%d moves, want at least %d", len(p.Moves), tc.min)
			}
			for _, m := range p.Moves {
				if m.Reason != tc.reason || m.Detail != tc.detail || tc.from != "" && m.From != tc.from || tc.to != "" && m.To != tc.to {
					t.Errorf("move %+v, want reason %s (%s) from %q to %q", m, tc.reason, tc.detail, tc.from, tc.to)
				}
			}
			// Each move shows on both nodes.
			for _, m := range p.Moves {
				if !hasDaemon(p, m.From, m.Key, review.DaemonMovedOut) || !hasDaemon(p, m.To, m.Key, review.DaemonMovedIn) {
					t.Errorf("move of %s not shown on %s and %s", m.Key, m.From, m.To)
				}
			}
		})
	}
}

func hasDaemon(p *review.Plan, node, key string, kind review.DaemonKind) bool {
	for _, n := range p.Nodes {
		if n.Name != node {
			continue
		}
		for _, d := range n.Daemons {
			if d.Key == key && d.Kind == kind {
				return true
			}
		}
	}
	return false
}

func TestPortReasons(t *testing.T) {
	// t/w/d0 and t/w/d530 both prefer 16278; d0 sorts first.
	d := func(name, extra string) string {
		return fmt.Sprintf("    daemon %q {\n      command = \"serve $PORT\"\n      proxy_path = \"/%s\"\n%s    }\n", name, name, extra)
	}
	s := shard("web-1", "web-1a:1")
	cfg := func(daemons ...string) *spec.Config {
		return load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 0, strings.Join(daemons, ""))})
	}
	cases := []struct {
		name       string
		base, head *spec.Config
		want       review.PortChange
	}{
		{"collision", cfg(d("d530", "")), cfg(d("d0", ""), d("d530", "")),
			review.PortChange{Key: "t/w/d530", Old: 16278, New: 16279, Reason: review.PortCollision, Detail: "prefers 16278, held by t/w/d0"}},
		{"collision resolved", cfg(d("d0", ""), d("d530", "")), cfg(d("d530", "")),
			review.PortChange{Key: "t/w/d530", Old: 16279, New: 16278, Reason: review.PortCollisionResolved, Detail: "preferred port 16278 is free again"}},
		{"pin", cfg(d("d0", "")), cfg(d("d0", "      port = 12000\n")),
			review.PortChange{Key: "t/w/d0", Old: 16278, New: 12000, Reason: review.PortPin, Detail: "pinned to 12000"}},
		{"unpin", cfg(d("d0", "      port = 12000\n")), cfg(d("d0", "")),
			review.PortChange{Key: "t/w/d0", Old: 12000, New: 16278, Reason: review.PortUnpin, Detail: "pin 12000 removed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := compute(t, tc.base, tc.head)
			if len(p.Nodes) != 1 || len(p.Nodes[0].Ports) != 1 {
				t.Fatalf("want one node with one port change, got %+v", p.Nodes)
			}
			if got := p.Nodes[0].Ports[0]; got != tc.want {
				t.Errorf("port change\n got %+v\nwant %+v", got, tc.want)
			}
			if !p.Nodes[0].NginxReload {
				t.Error("a port change must reload nginx")
			}
		})
	}
}

// TestDaemonChanges: field changes name the attribute; environment values
// never appear; a change that does not touch the program says so.
func TestDaemonChanges(t *testing.T) {
	s := shard("web-1", "web-1a:1", "web-1b:2")
	base := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 0, `
    daemon "api" {
      command    = "serve $PORT"
      proxy_path = "/api"
      environment = {
        SECRET = "hunter2-base"
        GONE   = "old-secret-value"
      }
    }
`)})
	head := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 0, `
    daemon "api" {
      command    = "serve --port $PORT"
      proxy_path = "/v2"
      num_procs  = 1
      environment = {
        SECRET = "hunter2-head"
        NEW    = "new-secret-value"
      }
    }
`)})
	p := compute(t, base, head)
	if len(p.Nodes) != 2 {
		t.Fatalf("want both nodes (nginx on every node), got %d", len(p.Nodes))
	}
	var dc *review.DaemonChange
	for _, n := range p.Nodes {
		for i := range n.Daemons {
			dc = &n.Daemons[i]
		}
	}
	if dc == nil || dc.Kind != review.DaemonChanged || !dc.Restart {
		t.Fatalf("want one changed daemon that restarts, got %+v", dc)
	}
	want := `command: "serve $PORT" → "serve --port $PORT"; proxy_path: "/api" → "/v2"; environment removed: GONE; environment added: NEW; environment changed: SECRET`
	if got := dc.Text(); got != want {
		t.Errorf("change text\n got %s\nwant %s", got, want)
	}
	for _, format := range []string{"text", "markdown", "json"} {
		out := writeAll(t, &review.Report{Plan: p}, format)
		for _, secret := range []string{"hunter2", "old-secret-value", "new-secret-value"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s output shows the environment value %q", format, secret)
			}
		}
		if !strings.Contains(out, "SECRET") {
			t.Errorf("%s output does not name the changed key", format)
		}
	}
}

func writeAll(t testing.TB, r *review.Report, format string) string {
	t.Helper()
	var b bytes.Buffer
	var err error
	switch format {
	case "text":
		err = review.WriteText(&b, r, false)
	case "markdown":
		err = review.WriteMarkdown(&b, r)
	case "json":
		err = review.WriteJSON(&b, r)
	}
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
