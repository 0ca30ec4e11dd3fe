package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/repogen/gen"
)

// TestPlanMovesMatchPlacement: the moves drover plan reports are exactly
// what the agents will do — the difference between `drover placement` on
// the base and on the head — for a drain, a new node, a removed node and a
// weight change on a generated repository of 1,200 daemons.
func TestPlanMovesMatchPlacement(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	opts := gen.Options{Tenants: 400, DaemonsPerTenant: 3, Nodes: 5, Shards: 1, Seed: 11}
	dir := t.TempDir()
	if err := gen.Generate(dir, opts); err != nil {
		t.Fatal(err)
	}
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@drover.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@drover.invalid")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	git("init", "-q", "-b", "main")
	git("add", "-A")
	git("commit", "-q", "-m", "base")
	shardFile := filepath.Join(dir, "shards", "web-1.hcl")
	original, err := os.ReadFile(shardFile)
	if err != nil {
		t.Fatal(err)
	}
	// Pins to a removed node would be invalid: unpin them in that case.
	cases := map[string]func(string) string{
		"drain": func(s string) string {
			return strings.Replace(s, `node "web-1a" { index = 1 }`, "node \"web-1a\" {\n    index = 1\n    drain = true\n  }", 1)
		},
		"new node": func(s string) string {
			return strings.Replace(s, `node "web-1e" { index = 5 }`, "node \"web-1e\" { index = 5 }\n  node \"web-1f\" { index = 6 }", 1)
		},
		"weight": func(s string) string {
			return strings.Replace(s, `node "web-1c" { index = 3 }`, "node \"web-1c\" {\n    index  = 3\n    weight = 2.5\n  }", 1)
		},
	}
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			branch := strings.ReplaceAll(name, " ", "-")
			git("checkout", "-q", "-b", branch, "main")
			if err := os.WriteFile(shardFile, []byte(change(string(original))), 0o644); err != nil {
				t.Fatal(err)
			}
			git("commit", "-q", "-a", "-m", name)
			head := placementOf(t, dir)
			git("checkout", "-q", "main")
			base := placementOf(t, dir)

			var want []string
			for key, from := range base {
				if to, ok := head[key]; ok && to != from {
					want = append(want, key+" "+from+" "+to)
				}
			}
			sort.Strings(want)
			var stdout, stderr bytes.Buffer
			if code := run([]string{"plan", "--format", "json", "--base", "main", "--head", branch, dir}, &stdout, &stderr); code != exitOK {
				t.Fatalf("plan exited %d: %s", code, stderr.String())
			}
			var plan struct {
				Moves []struct{ Key, From, To, Reason string }
			}
			if err := json.Unmarshal(stdout.Bytes(), &plan); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range plan.Moves {
				got = append(got, m.Key+" "+m.From+" "+m.To)
				if m.Reason == "rendezvous" {
					t.Errorf("move of %s has no specific reason", m.Key)
				}
			}
			if len(want) < 10 {
				t.Fatalf("only %d moves: the test needs a change that moves daemons", len(want))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("plan moves (%d) differ from the placement difference (%d)", len(got), len(want))
			}
			t.Logf("%d moves match", len(got))
		})
	}
}

// placementOf runs drover placement --json and maps key → node.
func placementOf(t *testing.T, dir string) map[string]string {
	t.Helper()
	var stdout, stderr bytes.Buffer
	if code := run([]string{"placement", "--json", dir}, &stdout, &stderr); code != exitOK {
		t.Fatalf("placement exited %d: %s", code, stderr.String())
	}
	var rows []struct{ Key, Node string }
	if err := json.Unmarshal(stdout.Bytes(), &rows); err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, r := range rows {
		m[r.Key] = r.Node
	}
	return m
}
