package review_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/review"
)

// TestMarkdownAtScale: a drain that moves about 1,000 daemons still gives a
// comment GitHub accepts (65,536 characters), summary and node table first,
// every <details> closed, and a note saying what was left out; JSON keeps
// every move.
func TestMarkdownAtScale(t *testing.T) {
	opts := gen.Options{Tenants: 1700, DaemonsPerTenant: 3, Nodes: 5, Shards: 1, Seed: 5}
	files := gen.Files(opts)
	base := loadBytes(t, files)
	files["shards/web-1.hcl"] = bytes.Replace(files["shards/web-1.hcl"], []byte(`node "web-1a" { index = 1 }`),
		[]byte("node \"web-1a\" {\n    index = 1\n    drain = true\n  }"), 1)
	head := loadBytes(t, files)
	p := compute(t, base, head)
	if len(p.Moves) < 900 {
		t.Fatalf("%d moves, want about 1,000", len(p.Moves))
	}
	r := &review.Report{Base: review.Revision{Label: "main"}, Head: review.Revision{Label: "drain"}, Plan: p}
	md := writeAll(t, r, "markdown")
	if len(md) > 65536 {
		t.Errorf("markdown is %d bytes, more than a comment holds", len(md))
	}
	if !strings.Contains(md, "| node | shard | programs | nginx | network | files |") || !strings.HasPrefix(md, "## drover plan") {
		t.Error("summary table missing")
	}
	if !strings.Contains(md, "_This comment leaves out ") || !strings.Contains(md, "more moves") {
		t.Error("no note about the detail left out")
	}
	if o, c := strings.Count(md, "<details>"), strings.Count(md, "</details>"); o != c {
		t.Errorf("%d <details> but %d </details>", o, c)
	}
	if strings.Count(md, "```")%2 != 0 {
		t.Error("unbalanced code fences")
	}
	var out struct {
		Moves []json.RawMessage
		Nodes []json.RawMessage
	}
	if err := json.Unmarshal([]byte(writeAll(t, r, "json")), &out); err != nil {
		t.Fatal(err)
	}
	if len(out.Moves) != len(p.Moves) || len(out.Nodes) != len(p.Nodes) {
		t.Errorf("JSON has %d moves and %d nodes, want %d and %d", len(out.Moves), len(out.Nodes), len(p.Moves), len(p.Nodes))
	}
}

// TestMarkdownFence: a diff holding backticks gets a longer fence, so a
// command cannot end the code block and inject Markdown.
func TestMarkdownFence(t *testing.T) {
	s := shard("web-1", "web-1a:1")
	base := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 1, "")})
	head := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": strings.Replace(tenant("t", "web-1", 10000, 1, ""),
		`command = "work"`, "command = \"echo '````\\n# <b>injected</b>'\"", 1)})
	md := writeAll(t, &review.Report{Plan: compute(t, base, head)}, "markdown")
	if !strings.Contains(md, "`````diff\n") {
		t.Errorf("no five-backtick fence:\n%s", md)
	}
}

// TestJSONShape: lists are never null and optional values are null, so
// tools can rely on the shape.
func TestJSONShape(t *testing.T) {
	s := shard("web-1", "web-1a:1")
	cfg := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 1, "")})
	out := writeAll(t, &review.Report{Base: review.Revision{Label: "main"}, Head: review.Revision{Label: "working tree"}, Plan: compute(t, cfg, cfg)}, "json")
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"notes", "diagnostics", "moves", "nodes"} {
		if _, ok := m[k].([]any); !ok {
			t.Errorf("%s is %v, want a list", k, m[k])
		}
	}
	if m["schema_version"] != float64(1) || m["changed"] != false || m["valid"] != true || m["summary"] != "No node changes." {
		t.Errorf("unexpected header: %v", m)
	}
	if c := m["base"].(map[string]any)["commit"]; c != nil {
		t.Errorf("base commit %v, want null", c)
	}
}

// TestJSONAbsentIsNull: an absent value is null, never "" — a revision
// without a note, a head without a plan (no summary), a diagnostic without
// a location or detail — anywhere in the output.
func TestJSONAbsentIsNull(t *testing.T) {
	abc := shard("web-1", "web-1a:1", "web-1b:2", "web-1c:3")
	base := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": abc, "t.hcl": tenant("t", "web-1", 10000, 6, "")})
	head := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": shard("web-1", "web-1a:1:drain", "web-1b:2", "web-1c:3"),
		"t.hcl": tenant("t", "web-1", 10000, 5, "")})
	for name, r := range map[string]*review.Report{
		"valid": {Base: review.Revision{Label: "main"}, Head: review.Revision{Label: "working tree"}, Plan: compute(t, base, head),
			Diagnostics: []review.Diagnostic{{Severity: "warning", Summary: "Fixed port", Detail: "d", File: "t.hcl", Line: 3, Column: 5}}},
		"invalid": {Base: review.Revision{Label: "main", Commit: "aaf05dd43248cf0bc54ab4b271d117a2a599b000"}, Head: review.Revision{Label: "working tree"},
			Diagnostics: []review.Diagnostic{{Severity: "error", Summary: "Unknown shard"}}},
	} {
		var v any
		if err := json.Unmarshal([]byte(writeAll(t, r, "json")), &v); err != nil {
			t.Fatal(err)
		}
		for _, path := range emptyStrings(v, "") {
			t.Errorf("%s: %s is \"\", want null", name, path)
		}
	}
}

// emptyStrings are the paths of the "" values in a decoded JSON value.
func emptyStrings(v any, path string) []string {
	var out []string
	switch x := v.(type) {
	case string:
		if x == "" {
			out = append(out, path)
		}
	case []any:
		for i, e := range x {
			out = append(out, emptyStrings(e, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case map[string]any:
		for k, e := range x {
			out = append(out, emptyStrings(e, path+"."+k)...)
		}
	}
	return out
}

// TestPlanSaysPlacementIsConfigured: a plan compares configured placements
// (every node alive) and says so in every format, so a reviewer does not
// take it for where daemons run while a node is down.
func TestPlanSaysPlacementIsConfigured(t *testing.T) {
	s := shard("web-1", "web-1a:1")
	base := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 1, "")})
	head := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": s, "t.hcl": tenant("t", "web-1", 10000, 2, "")})
	r := &review.Report{Base: review.Revision{Label: "main"}, Head: review.Revision{Label: "working tree"}, Plan: compute(t, base, head)}
	if !r.Changed() {
		t.Fatal("the plan changes nothing: the test tests nothing")
	}
	if out := writeAll(t, r, "text"); !strings.Contains(out, "\n"+review.PlacementNote+"\n") {
		t.Errorf("text says nothing of the placement:\n%s", out)
	}
	if out := writeAll(t, r, "markdown"); !strings.Contains(out, "\n"+review.PlacementNote+"\n") {
		t.Errorf("markdown says nothing of the placement:\n%s", out)
	}
	for name, r := range map[string]*review.Report{"valid": r, "invalid": {Diagnostics: []review.Diagnostic{{Severity: "error", Summary: "x"}}}} {
		var m map[string]any
		if err := json.Unmarshal([]byte(writeAll(t, r, "json")), &m); err != nil {
			t.Fatal(err)
		}
		if want := map[string]any{"valid": "configured", "invalid": nil}[name]; m["placement"] != want {
			t.Errorf("%s: placement %v, want %v", name, m["placement"], want)
		}
	}
}
