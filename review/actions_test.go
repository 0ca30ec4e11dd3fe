package review_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/drover-sh/drover/review"
)

// TestProgramActions: every daemon change says what it does to the
// program's processes — a changed command restarts, disabling or removing
// stops, enabling or adding starts, a change to a disabled daemon or to
// nginx alone interrupts nothing — and the text, Markdown and JSON show
// the restarts and stops per node.
func TestProgramActions(t *testing.T) {
	one := shard("web-1", "web-1a:1")
	daemon := func(name, attrs string) string {
		return "    daemon \"" + name + "\" {\n      command = \"work\"\n" + attrs + "    }\n"
	}
	for _, c := range []struct {
		name       string
		base, head string // daemon blocks of tenant t
		want       review.ProgramAction
		text       string // a line of the node's text, "" for none
		md         string
	}{
		{"command changed", daemon("d", ""), daemon("d", "      num_procs = 2\n"), review.ProgramRestart,
			"  restarts: daemon-t-d\n", "**restarts:** `daemon-t-d`\n"},
		{"disabled", daemon("d", ""), daemon("d", "      enabled = false\n"), review.ProgramStop,
			"  stops: daemon-t-d\n", "**stops:** `daemon-t-d`\n"},
		{"removed", daemon("d", "") + daemon("e", ""), daemon("e", ""), review.ProgramStop,
			"  stops: daemon-t-d\n", "**stops:** `daemon-t-d`\n"},
		{"removed while disabled", daemon("d", "      enabled = false\n") + daemon("e", ""), daemon("e", ""), review.ProgramNone, "", ""},
		{"enabled", daemon("d", "      enabled = false\n"), daemon("d", ""), review.ProgramStart, "", ""},
		{"added", daemon("e", ""), daemon("e", "") + daemon("d", ""), review.ProgramStart, "", ""},
		{"disabled daemon changed", daemon("d", "      enabled = false\n"), daemon("d", "      enabled = false\n      num_procs = 2\n"),
			review.ProgramNone, "", ""},
		{"proxy path only", daemon("d", "      proxy_path = \"/a\"\n"), daemon("d", "      proxy_path = \"/b\"\n"), review.ProgramNone, "", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			base := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": one, "t.hcl": tenant("t", "web-1", 10000, 0, c.base)})
			head := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": one, "t.hcl": tenant("t", "web-1", 10000, 0, c.head)})
			p := compute(t, base, head)
			if len(p.Nodes) != 1 {
				t.Fatalf("%d nodes change, want 1", len(p.Nodes))
			}
			var got *review.DaemonChange
			for i, d := range p.Nodes[0].Daemons {
				if d.Key == "t/w/d" {
					got = &p.Nodes[0].Daemons[i]
				}
			}
			if got == nil || got.Action != c.want {
				t.Fatalf("t/w/d: %+v, want action %q", got, c.want)
			}
			r := &review.Report{Plan: p}
			text, md := writeAll(t, r, "text"), writeAll(t, r, "markdown")
			for _, x := range []struct{ name, out, want, absent string }{
				{"text", text, c.text, "restarts:"},
				{"text", text, c.text, "stops:"},
				{"markdown", md, c.md, "**restarts:**"},
				{"markdown", md, c.md, "**stops:**"},
			} {
				if x.want != "" && !strings.Contains(x.out, x.want) {
					t.Errorf("%s lacks %q:\n%s", x.name, x.want, x.out)
				}
				if x.want == "" && strings.Contains(x.out, x.absent) {
					t.Errorf("%s says %q though nothing is interrupted:\n%s", x.name, x.absent, x.out)
				}
			}
			var j struct {
				Nodes []struct {
					Daemons []struct {
						Key    string
						Action *string
					}
				}
			}
			if err := json.Unmarshal([]byte(writeAll(t, r, "json")), &j); err != nil {
				t.Fatal(err)
			}
			for _, d := range j.Nodes[0].Daemons {
				if d.Key != "t/w/d" {
					continue
				}
				if (d.Action == nil) != (c.want == review.ProgramNone) || d.Action != nil && *d.Action != string(c.want) {
					t.Errorf("JSON action %v, want %q (null for none)", d.Action, c.want)
				}
			}
		})
	}
}

// TestProgramActionsBounded: a change that restarts 20 programs on a node
// names the first 8 and counts the rest, in text and Markdown.
func TestProgramActionsBounded(t *testing.T) {
	one := shard("web-1", "web-1a:1")
	base := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": one, "t.hcl": tenant("t", "web-1", 10000, 20, "")})
	head := load(t, map[string]string{"c.hcl": clusterHCL, "s.hcl": one,
		"t.hcl": strings.ReplaceAll(tenant("t", "web-1", 10000, 20, ""), `command = "work"`, `command = "work harder"`)})
	r := &review.Report{Plan: compute(t, base, head)}
	want := "restarts: daemon-t-w00, daemon-t-w01, daemon-t-w02, daemon-t-w03, daemon-t-w04, daemon-t-w05, daemon-t-w06, daemon-t-w07 and 12 more\n"
	if text := writeAll(t, r, "text"); !strings.Contains(text, "  "+want) {
		t.Errorf("text lacks %q:\n%s", want, text)
	}
	wantMD := "**restarts:** `daemon-t-w00`, `daemon-t-w01`, `daemon-t-w02`, `daemon-t-w03`, `daemon-t-w04`, `daemon-t-w05`, `daemon-t-w06`, `daemon-t-w07` and 12 more\n"
	if md := writeAll(t, r, "markdown"); !strings.Contains(md, wantMD) {
		t.Errorf("markdown lacks %q:\n%s", wantMD, md)
	}
}
