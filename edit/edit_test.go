package edit_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-sh/drover/edit"
	"github.com/drover-sh/drover/spec"
)

// repo returns the test repository: testdata/cluster.hcl and
// testdata/acme.hcl (comments and odd formatting everywhere).
func repo(t *testing.T) (*edit.Repo, []byte) {
	t.Helper()
	acme, err := os.ReadFile("testdata/acme.hcl")
	if err != nil {
		t.Fatal(err)
	}
	cluster, err := os.ReadFile("testdata/cluster.hcl")
	if err != nil {
		t.Fatal(err)
	}
	return edit.NewRepo(t.TempDir(), map[string][]byte{"cluster.hcl": cluster, "tenants/acme.hcl": acme}), acme
}

func key(t *testing.T, s string) edit.Key {
	t.Helper()
	k, err := edit.ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// golden compares got with testdata/NAME.golden; UPDATE_GOLDEN=1 rewrites it.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if os.Getenv("UPDATE_GOLDEN") != "" {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s:\n%s", name, path, got)
	}
}

// TestRoundTrip edits a file with comments and odd formatting: the result
// is valid, only the daemon block concerned changes, and every comment
// outside a removed block survives.
func TestRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		block string // the daemon whose block may change ("" for add)
		run   func(*edit.Repo) (*edit.Edit, error)
	}{
		{"add", "", func(r *edit.Repo) (*edit.Edit, error) {
			return r.Add(key(t, "acme/main/horizon"), edit.Attrs{
				Values: map[string]any{"command": "php artisan horizon", "num_procs": 2, "max_memory_mb": 512},
				Env:    []edit.EnvVar{{Key: "APP_ENV", Value: "production"}, {Key: "QUEUE", Value: "high"}},
			})
		}},
		{"add_to_empty_webroot", "", func(r *edit.Repo) (*edit.Edit, error) {
			return r.Add(key(t, "acme/empty/ws"), edit.Attrs{Values: map[string]any{"command": "node ws.js --port=$PORT", "proxy_path": "/ws"}})
		}},
		{"set", "reverb", func(r *edit.Repo) (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/reverb"), edit.Attrs{
				Values:   map[string]any{"max_memory_mb": 256},
				Env:      []edit.EnvVar{{Key: "APP_ENV", Value: "staging"}, {Key: "LOG_LEVEL", Value: "debug"}},
				UnsetEnv: []string{"APP_KEY"},
			})
		}},
		{"set_heredoc_block", "queue", func(r *edit.Repo) (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/queue"), edit.Attrs{Values: map[string]any{"stop_signal": "QUIT"}, Unset: []string{"num_procs"}})
		}},
		{"disable", "queue", func(r *edit.Repo) (*edit.Edit, error) { return r.SetEnabled(key(t, "acme/main/queue"), false) }},
		{"rm", "reverb", func(r *edit.Repo) (*edit.Edit, error) { return r.Remove(key(t, "acme/main/reverb")) }},
		{"rm_block_comment", "queue", func(r *edit.Repo) (*edit.Edit, error) { return r.Remove(key(t, "acme/main/queue")) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, before := repo(t)
			e, err := tc.run(r)
			if err != nil {
				t.Fatal(err)
			}
			if e.File != "tenants/acme.hcl" || !e.Changed() {
				t.Fatalf("edited %s, changed %v", e.File, e.Changed())
			}
			golden(t, tc.name, e.After)
			// Outside the daemon's block, not a byte changes.
			if tc.block != "" {
				start := bytes.Index(before, []byte(`daemon "`+tc.block+`"`))
				if !bytes.HasPrefix(e.After, bytes.TrimRight(before[:commentStart(before, start)], "\n")) {
					t.Error("the text before the block changed")
				}
				end := start + bytes.Index(before[start:], []byte("\n      }\n")) + len("\n      }\n")
				if !bytes.HasSuffix(e.After, before[end:]) {
					t.Error("the text after the block changed")
				}
			}
			// Comments survive, but those of a removed block.
			for _, c := range []string{"# Acme: the main customer.", "# Linux uid", "// odd spacing kept", "# The websocket server.", "# inline",
				"# comment in env", "# comment line in env", "/* The queue worker,"} {
				removed := tc.name == "rm" && (c == "# The websocket server." || strings.Contains(c, "env") || c == "# inline") ||
					tc.name == "rm_block_comment" && c == "/* The queue worker,"
				if bytes.Contains(e.After, []byte(c)) == removed {
					t.Errorf("comment %q: present %v, want %v", c, !removed, removed)
				}
			}
			if _, _, diags := spec.Load(map[string][]byte{"cluster.hcl": mustRead(t, "testdata/cluster.hcl"), "tenants/acme.hcl": e.After}); diags.HasErrors() {
				t.Errorf("the result is invalid: %v", diags)
			}
		})
	}
}

// commentStart moves an offset back over the comment lines above it.
func commentStart(src []byte, i int) int {
	ls := bytes.LastIndexByte(src[:i], '\n') + 1
	for ls > 0 {
		prev := bytes.LastIndexByte(src[:ls-1], '\n') + 1
		line := strings.TrimSpace(string(src[prev:ls]))
		if !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "/*") && !strings.HasSuffix(line, "*/") {
			break
		}
		ls = prev
	}
	return ls
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestValuesExact: a command and environment values with every character
// HCL gives a meaning to reach the configuration unchanged.
func TestValuesExact(t *testing.T) {
	command := `sh -c 'echo "${HOME}" %{x} $PORT 100% \ \\n' ; # not a comment` + "\n\tsecond line ünïcode"
	values := []string{`a"b`, `${not_interpolated}`, `%{if}`, `back\slash`, "new\nline", "tab\there", "", "$$ and %%", "végétal €"}
	var env []edit.EnvVar
	for i, v := range values {
		env = append(env, edit.EnvVar{Key: "K" + string(rune('A'+i)), Value: v})
	}
	r, _ := repo(t)
	e, err := r.Add(key(t, "acme/main/exact"), edit.Attrs{Values: map[string]any{"command": command, "proxy_path": "/exact"}, Env: env})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, diags := spec.Load(map[string][]byte{"cluster.hcl": mustRead(t, "testdata/cluster.hcl"), "tenants/acme.hcl": e.After})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	var d *spec.Daemon
	for _, x := range cfg.Tenants[0].Webroots[1].Daemons {
		if x.Name == "exact" {
			d = x
		}
	}
	if d == nil {
		t.Fatalf("daemon not found in:\n%s", e.After)
	}
	if d.Command != command {
		t.Errorf("command\n got %q\nwant %q", d.Command, command)
	}
	for _, v := range env {
		if d.Environment.Value(v.Key) != v.Value {
			t.Errorf("%s\n got %q\nwant %q", v.Key, d.Environment.Value(v.Key), v.Value)
		}
	}
	// And through set, replacing values in place.
	r2 := edit.NewRepo("", map[string][]byte{"cluster.hcl": mustRead(t, "testdata/cluster.hcl"), "tenants/acme.hcl": e.After})
	e2, err := r2.Set(key(t, "acme/main/reverb"), edit.Attrs{Env: []edit.EnvVar{{Key: "APP_ENV", Value: values[1]}}, Values: map[string]any{"command": values[0] + " $PORT"}})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, _ = spec.Load(map[string][]byte{"cluster.hcl": mustRead(t, "testdata/cluster.hcl"), "tenants/acme.hcl": e2.After})
	reverb := cfg.Tenants[0].Webroots[1].Daemons[2]
	if reverb.Name != "reverb" || reverb.Environment.Value("APP_ENV") != values[1] || reverb.Command != values[0]+" $PORT" {
		t.Errorf("set did not keep the values exact: %q %q", reverb.Command, reverb.Environment.Value("APP_ENV"))
	}
}

// TestInvalidRefused: an edit that would make the configuration invalid is
// refused with the diagnostics of the result, and nothing is written.
func TestInvalidRefused(t *testing.T) {
	dir := t.TempDir()
	for name, src := range map[string]string{"cluster.hcl": "testdata/cluster.hcl", "tenants/acme.hcl": "testdata/acme.hcl"} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), mustRead(t, src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r, err := edit.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]func() (*edit.Edit, error){
		"num_procs": func() (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/queue"), edit.Attrs{Values: map[string]any{"num_procs": 100}})
		},
		"reserved": func() (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/reverb"), edit.Attrs{Env: []edit.EnvVar{{Key: "PORT", Value: "1"}}})
		},
		"bad key": func() (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/reverb"), edit.Attrs{Env: []edit.EnvVar{{Key: "1-BAD", Value: "1"}}})
		},
		"path": func() (*edit.Edit, error) {
			return r.Add(key(t, "acme/main/dup"), edit.Attrs{Values: map[string]any{"command": "x $PORT", "proxy_path": "/app"}})
		},
		"node": func() (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/queue"), edit.Attrs{Values: map[string]any{"node": "web-9z"}})
		},
	}
	wantSummary := map[string]string{"num_procs": "Invalid num_procs", "reserved": "Reserved environment variable",
		"bad key": "Invalid environment variable name", "path": "Duplicate proxy path", "node": "Unknown node"}
	for name, run := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := run()
			var invalid *edit.InvalidError
			if !errors.As(err, &invalid) {
				t.Fatalf("got %v, want an InvalidError", err)
			}
			found := false
			for _, d := range invalid.Edit.Diags {
				found = found || d.Summary == wantSummary[name]
			}
			if !found {
				t.Errorf("diagnostics %v do not say %q", invalid.Edit.Diags, wantSummary[name])
			}
			if got := mustRead(t, filepath.Join(dir, "tenants/acme.hcl")); !bytes.Equal(got, mustRead(t, "testdata/acme.hcl")) {
				t.Error("the file changed")
			}
		})
	}
}

func TestErrors(t *testing.T) {
	r, _ := repo(t)
	cases := map[string]struct {
		run  func() (*edit.Edit, error)
		want string
	}{
		"add existing": {func() (*edit.Edit, error) {
			return r.Add(key(t, "acme/main/reverb"), edit.Attrs{Values: map[string]any{"command": "x"}})
		}, "daemon acme/main/reverb already exists (tenants/acme.hcl:10)"},
		"missing daemon":  {func() (*edit.Edit, error) { return r.Remove(key(t, "acme/main/nope")) }, `has no daemon "nope" (it has reverb, queue)`},
		"missing webroot": {func() (*edit.Edit, error) { return r.Remove(key(t, "acme/www/x")) }, `has no webroot "www"; its webroots are main, empty`},
		"missing tenant":  {func() (*edit.Edit, error) { return r.Remove(key(t, "nobody/main/x")) }, `tenant "nobody" is not declared in any config file`},
		"no command":      {func() (*edit.Edit, error) { return r.Add(key(t, "acme/main/new"), edit.Attrs{}) }, "needs a command"},
		"unset required": {func() (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/reverb"), edit.Attrs{Unset: []string{"command"}})
		}, `cannot unset "command"`},
		"unknown attribute": {func() (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/reverb"), edit.Attrs{Values: map[string]any{"colour": "red"}})
		}, `a daemon has no attribute "colour"`},
		"wrong type": {func() (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/reverb"), edit.Attrs{Values: map[string]any{"max_open_files": "many"}})
		}, `max_open_files cannot be set to many (string)`},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want %q", err, tc.want)
			}
		})
	}
	json := edit.NewRepo("", map[string][]byte{"cluster.hcl": mustRead(t, "testdata/cluster.hcl"),
		"t.hcl.json": []byte(`{"tenant": {"acme": {"uid": 10042, "shard": "web-1", "webroot": {"main": {}}}}}`)})
	if _, err := json.Add(key(t, "acme/main/x"), edit.Attrs{Values: map[string]any{"command": "x"}}); err == nil || !strings.Contains(err.Error(), "JSON syntax") {
		t.Errorf("JSON file: got %v", err)
	}
}

// TestNoChange: asking for what is already there changes nothing, not even
// the formatting of the block.
func TestNoChange(t *testing.T) {
	r, before := repo(t)
	for _, run := range []func() (*edit.Edit, error){
		func() (*edit.Edit, error) { return r.SetEnabled(key(t, "acme/main/reverb"), true) },
		func() (*edit.Edit, error) {
			return r.Set(key(t, "acme/main/reverb"), edit.Attrs{Env: []edit.EnvVar{{Key: "APP_ENV", Value: "production"}}})
		},
	} {
		e, err := run()
		if err != nil {
			t.Fatal(err)
		}
		if e.Changed() || !bytes.Equal(e.After, before) {
			t.Errorf("%s changed the file", e.Summary)
		}
	}
}

// TestWrite replaces the file atomically and keeps its mode.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f.hcl")
	if err := os.WriteFile(path, []byte("old"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := edit.WriteFileAtomic(path, []byte("new")); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); string(got) != "new" || st.Mode().Perm() != 0o640 {
		t.Errorf("got %q mode %o", got, st.Mode().Perm())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}
}
