package spec_test

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/spec"
)

// load builds a repo from name → source and returns its config and
// diagnostics.
func load(files map[string]string) (*spec.Config, hcl.Diagnostics) {
	srcs := map[string][]byte{}
	for n, s := range files {
		srcs[n] = []byte(s)
	}
	cfg, _, diags := spec.Load(srcs)
	return cfg, diags
}

// mustLoad is load for a repo that must produce no diagnostics at all.
func mustLoad(t *testing.T, files map[string]string) *spec.Config {
	t.Helper()
	cfg, diags := load(files)
	for _, d := range diags {
		t.Errorf("unexpected %s", formatDiag(d))
	}
	if cfg == nil {
		t.Fatal("config is nil")
	}
	return cfg
}

func TestLoadExamples(t *testing.T) {
	cfg, _, diags := spec.LoadDir("../examples/config")
	for _, d := range diags {
		t.Errorf("unexpected %s", formatDiag(d))
	}
	if cfg == nil {
		t.Fatal("config is nil")
	}
	if got, want := cfg.Cluster.ULAPrefix, netip.MustParsePrefix("fd00:5ccd::/32"); got != want {
		t.Errorf("ula_prefix = %v, want %v", got, want)
	}
	var keys []string
	for _, tn := range cfg.Tenants {
		for _, w := range tn.Webroots {
			for _, d := range w.Daemons {
				keys = append(keys, d.Key())
			}
		}
	}
	if want := []string{"acme/main/queue", "acme/main/reverb", "nodeco/site/ws"}; !slices.Equal(keys, want) {
		t.Errorf("daemons = %v, want %v", keys, want)
	}
	if n := len(cfg.Shard("web-1").Nodes); n != 3 {
		t.Errorf("shard web-1 has %d nodes, want 3", n)
	}
}

func TestDefaults(t *testing.T) {
	cfg := mustLoad(t, baseRepo())
	if got := cfg.Cluster.MaxDaemonsPerWebroot; got != 10 {
		t.Errorf("max_daemons_per_webroot = %d, want 10", got)
	}
	if cfg.Cluster.ULAPrefix.IsValid() {
		t.Errorf("ula_prefix = %v, want the zero Prefix (derived later)", cfg.Cluster.ULAPrefix)
	}
	for _, n := range cfg.Shard("web-1").Nodes {
		if n.Weight != 1 || n.Drain {
			t.Errorf("node %s: weight %v, drain %v; want 1, false", n.Name, n.Weight, n.Drain)
		}
	}
	d := cfg.Tenants[0].Webroots[0].Daemons[0]
	want := spec.Daemon{
		Tenant: "acme", Webroot: "main", Name: "worker", Command: "app --port=$PORT",
		NumProcs: 1, StopSignal: "TERM", StopWaitSecs: 30, Restart: "always", Enabled: true,
		Environment: spec.Env{},
	}
	if got := fmt.Sprintf("%+v", *d); got != fmt.Sprintf("%+v", want) {
		t.Errorf("daemon =\n%s\nwant\n%s", got, fmt.Sprintf("%+v", want))
	}
}

// TestSorted declares everything in reverse order, spread over files whose
// names sort the other way, and expects every slice sorted by name.
func TestSorted(t *testing.T) {
	cfg := mustLoad(t, map[string]string{
		"a.hcl": block(`tenant "zed"`, `uid = 2002`, `shard = "s-a"`,
			`webroot "w-b" {`, `daemon "d-b" { command = "x" }`, `daemon "d-a" { command = "x" }`, `}`,
			`webroot "w-a" {}`),
		"b.hcl": block(`tenant "amy"`, `uid = 2001`, `shard = "s-b"`),
		"c.hcl": block(`shard "s-b"`, `node "n-b2" { index = 4 }`, `node "n-b1" { index = 3 }`),
		"d.hcl": block(`shard "s-a"`, `node "n-a2" { index = 2 }`, `node "n-a1" { index = 1 }`),
		"e.hcl": `cluster "c" {}`,
	})
	var got []string
	for _, s := range cfg.Shards {
		got = append(got, "shard "+s.Name)
		for _, n := range s.Nodes {
			got = append(got, "node "+n.Name)
		}
	}
	for _, tn := range cfg.Tenants {
		got = append(got, "tenant "+tn.Name)
		for _, w := range tn.Webroots {
			got = append(got, "webroot "+w.Name)
			for _, d := range w.Daemons {
				got = append(got, "daemon "+d.Name)
			}
		}
	}
	want := []string{
		"shard s-a", "node n-a1", "node n-a2", "shard s-b", "node n-b1", "node n-b2",
		"tenant amy", "tenant zed", "webroot w-a", "webroot w-b", "daemon d-a", "daemon d-b",
	}
	if !slices.Equal(got, want) {
		t.Errorf("order:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTextExact checks that environment values and commands reach the Config
// byte for byte. The HCL column is the source of a quoted string (or a
// heredoc); shell and nginx metacharacters need no escaping, only '"', '\',
// "${" (as "$${") and "%{" (as "%%{") do.
func TestTextExact(t *testing.T) {
	tests := []struct {
		name string
		hcl  string
		want string
	}{
		{"quotes", `"say \"hi\" 'there'"`, `say "hi" 'there'`},
		{"percent", `"100% done %s %%d"`, `100% done %s %%d`},
		{"template directive escaped", `"%%{if x}"`, `%{if x}`},
		{"semicolon", `"a; rm -rf /;"`, `a; rm -rf /;`},
		{"hash", `"# not a comment"`, `# not a comment`},
		{"backslash", `"C:\\dir\\n"`, `C:\dir\n`},
		{"dollar", `"$HOME $1 $ $$"`, `$HOME $1 $ $$`},
		{"escaped interpolation", `"$${PORT}"`, `${PORT}`},
		{"commas", `"a,b,,c"`, `a,b,,c`},
		{"braces", `"{}[]()<>"`, `{}[]()<>`},
		{"newline and tab", `"line1\nline2\tend\r\n"`, "line1\nline2\tend\r\n"},
		{"heredoc", "<<EOT\nline1\n  \"line2\" $x\nEOT\n", "line1\n  \"line2\" $x\n"},
		{"UTF-8", `"ünïcödé ✓ 日本語 🚀"`, "ünïcödé ✓ 日本語 🚀"},
		{"unicode escapes", `"\u00e9\U0001F680"`, "é🚀"},
		// HCL normalises every string literal to Unicode NFC: "e" followed
		// by U+0301 COMBINING ACUTE ACCENT arrives as the single U+00E9.
		// A value cannot carry a decomposed sequence through HCL syntax.
		{"NFC normalisation", "\"e\u0301\"", "\u00e9"},
		{"control characters", `"\u0001\u001b[0m"`, "\x01\x1b[0m"},
		{"empty", `""`, ""},
		{"spaces", `"  padded  "`, "  padded  "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := mustLoad(t, map[string]string{
				clusterFile: baseRepo()[clusterFile],
				shardFile:   baseRepo()[shardFile],
				tenantFile: daemonCmd(`"run "`,
					"environment = {",
					"  V = "+tc.hcl,
					"}"),
			})
			d := cfg.Tenants[0].Webroots[0].Daemons[0]
			if got := d.Environment.Value("V"); got != tc.want {
				t.Errorf("environment value = %q, want %q", got, tc.want)
			}
			if tc.want == "" {
				return // an empty command is an error
			}
			cfg = mustLoad(t, map[string]string{
				clusterFile: baseRepo()[clusterFile],
				shardFile:   baseRepo()[shardFile],
				tenantFile:  daemonCmd(tc.hcl),
			})
			if got := cfg.Tenants[0].Webroots[0].Daemons[0].Command; got != tc.want {
				t.Errorf("command = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestEscapedPortMentionsPort: "$${PORT}" is the literal ${PORT}, which the
// shell expands, so a proxied daemon using it draws no warning.
func TestEscapedPortMentionsPort(t *testing.T) {
	repo := baseRepo()
	repo[tenantFile] = daemonCmd(`"app --port=$${PORT}"`, `proxy_path = "/app"`)
	cfg := mustLoad(t, repo)
	if got := cfg.Tenants[0].Webroots[0].Daemons[0].Command; got != "app --port=${PORT}" {
		t.Errorf("command = %q", got)
	}
}

// TestJSONStringsAreLiteral: drover decodes without an evaluation context, so
// in JSON syntax strings are not templates at all: "${PORT}" is literal and
// "$${PORT}" keeps both dollars, unlike native syntax.
func TestJSONStringsAreLiteral(t *testing.T) {
	repo := baseRepo()
	delete(repo, tenantFile)
	repo[tenantFile+".json"] = `{"tenant": {"acme": {"uid": 10042, "shard": "web-1", "webroot": {"main": {"daemon": {"worker": {
  "command": "app --port=${PORT}",
  "environment": {"A": "$${PORT}", "B": "%{x}", "C": "q\"\\\n\u00e9"}
}}}}}}}`
	cfg := mustLoad(t, repo)
	d := cfg.Tenants[0].Webroots[0].Daemons[0]
	if d.Command != "app --port=${PORT}" {
		t.Errorf("command = %q", d.Command)
	}
	want := spec.Env{{"A", "$${PORT}"}, {"B", "%{x}"}, {"C", "q\"\\\né"}}
	if fmt.Sprint(d.Environment) != fmt.Sprint(want) {
		t.Errorf("environment = %q, want %q", d.Environment, want)
	}
}

// TestJSONMatchesHCL: the same tenant in both syntaxes gives the same Config
// (ranges aside).
func TestJSONMatchesHCL(t *testing.T) {
	native := baseRepo()
	native[tenantFile] = daemon(`proxy_path = "/app"`, `environment = { APP_ENV = "production" }`)
	json := baseRepo()
	delete(json, tenantFile)
	json[tenantFile+".json"] = tenantJSON(`"/app"`)
	a, b := mustLoad(t, native), mustLoad(t, json)
	da, db := *a.Tenants[0].Webroots[0].Daemons[0], *b.Tenants[0].Webroots[0].Daemons[0]
	if fmt.Sprintf("%+v", da) != fmt.Sprintf("%+v", db) {
		t.Errorf("native %+v\njson   %+v", da, db)
	}
}

// TestCleanFilesAreReadAgainToPrint: a Loader keeps no text of a file that
// decoded without a word, and reads it again when a diagnostic of Build
// (a duplicate across files) points into it, to print its snippet.
func TestCleanFilesAreReadAgainToPrint(t *testing.T) {
	srcs := map[string]spec.Entry{}
	for n, s := range baseRepo() {
		srcs[n] = spec.Bytes([]byte(s))
	}
	zeta := []byte(block(`tenant "acme"`, `uid = 10043`, `shard = "web-1"`))
	reads := 0
	srcs["tenants/zeta.hcl"] = spec.Entry{Hash: "z", Read: func() ([]byte, error) { reads++; return zeta, nil }}
	cfg, files, diags, err := spec.NewLoader().Load(srcs)
	if err != nil || cfg != nil || len(diags) != 1 || diags[0].Summary != "Duplicate tenant" {
		t.Fatalf("got %v %v %v", cfg, diags, err)
	}
	if reads != 1 {
		t.Fatalf("read %d times while loading, want once", reads)
	}
	var out strings.Builder
	if err := spec.WriteDiagnostics(&out, files, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	if reads != 2 || !strings.Contains(out.String(), `tenant "acme"`) || !strings.Contains(out.String(), "tenants/zeta.hcl line 1") {
		t.Errorf("read %d times; printed:\n%s", reads, out.String())
	}
}
