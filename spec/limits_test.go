package spec_test

import (
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// list40 is [0, 1, ..., 39].
var list40 = func() string {
	var b strings.Builder
	b.WriteString("[")
	for i := range 40 {
		fmt.Fprintf(&b, "%d,", i)
	}
	return strings.TrimSuffix(b.String(), ",") + "]"
}()

// loops is n nested template for-loops of 40 iterations around body: a few
// hundred bytes that evaluate to 40^n copies of body.
func loops(n int, body string) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "%%{for v%d in %s}", i, list40)
	}
	b.WriteString(body)
	b.WriteString(strings.Repeat("%{endfor}", n))
	return b.String()
}

// nest is open n times, then middle, then close n times.
func nest(open, middle, close string, n int) string {
	return strings.Repeat(open, n) + middle + strings.Repeat(close, n)
}

// deep is deep enough to overflow the 1 GB goroutine stack in HCL's
// parsers (120 KB of brackets did, before the depth check).
const deep = 100_000

// hostileCases are inputs that exhausted memory or time, crashed the
// process, or validated although no node could run them. Each must be
// rejected with its message, in bounded memory.
var hostileCases = []struct {
	name  string
	files map[string]string
	want  wantDiag
}{
	{
		name:  "template loop bomb",
		files: map[string]string{tenantFile: daemonCmd(`"` + loops(5, "x") + `"`)},
		want:  errAt(tenantFile, 6, "Template not allowed", `write "$${" for a literal "${" and "%%{" for a literal "%{"`),
	},
	{
		name:  "template loop bomb in a heredoc",
		files: map[string]string{tenantFile: daemonCmd("<<EOT\n" + loops(5, "x") + "\nEOT")},
		want:  errAt(tenantFile, 7, "Template not allowed", "does not evaluate templates"),
	},
	{
		name:  "template loop bomb in the environment",
		files: map[string]string{tenantFile: daemon(`environment = { A = "` + loops(5, "x") + `" }`)},
		want:  errAt(tenantFile, 7, "Template not allowed", "does not evaluate templates"),
	},
	{
		name:  "interpolation of a constant",
		files: map[string]string{tenantFile: daemonCmd(`"run ${"x"}"`)},
		want:  errAt(tenantFile, 6, "Template not allowed", "does not evaluate templates"),
	},
	{
		name: "for expression bomb",
		files: map[string]string{tenantFile: daemon(`environment = { A = ` +
			nest("[for v in "+list40+" : ", "1", "]", 5) + ` }`)},
		want: errAt(tenantFile, 7, "Expression not allowed", "plain data"),
	},
	{
		name:  "deep brackets",
		files: map[string]string{tenantFile: daemon(`environment = { A = ` + nest("[", "", "]", deep) + ` }`)},
		want:  errAt(tenantFile, 7, "Nesting too deep", "more than 32 levels"),
	},
	{
		name:  "deep blocks",
		files: map[string]string{tenantFile: nest("a {\n", "", "}\n", deep)},
		want:  errAt(tenantFile, 33, "Nesting too deep", "more than 32 levels"),
	},
	{
		name:  "deep objects",
		files: map[string]string{tenantFile: daemon(`environment = ` + nest("{a=", "1", "}", deep))},
		want:  errAt(tenantFile, 7, "Nesting too deep", "Flatten the nesting"),
	},
	{
		name:  "deep parentheses",
		files: map[string]string{tenantFile: daemonCmd(nest("(", `"x"`, ")", deep))},
		want:  errAt(tenantFile, 6, "Nesting too deep", "Flatten the nesting"),
	},
	{
		name:  "unary operator chain",
		files: map[string]string{tenantFile: daemon(`num_procs = ` + strings.Repeat("-", 10*deep) + "1")},
		want:  errAt(tenantFile, 7, "Nesting too deep", "Flatten the nesting"),
	},
	{
		name:  "unary operator chain across lines in parentheses",
		files: map[string]string{tenantFile: daemon(`num_procs = (` + strings.Repeat("!\n", 10*deep) + "true)")},
		want:  errAt(tenantFile, 35, "Nesting too deep", "Flatten the nesting"), // 3 blocks, (, 29 "!"
	},
	{
		name:  "conditional chain",
		files: map[string]string{tenantFile: daemon(`num_procs = ` + strings.Repeat("true ? 1 : ", deep) + "1")},
		want:  errAt(tenantFile, 7, "Nesting too deep", "Flatten the nesting"),
	},
	{
		name:  "nested template directives",
		files: map[string]string{tenantFile: daemonCmd(`"` + nest("%{if true}", "x", "%{endif}", deep) + `"`)},
		want:  errAt(tenantFile, 6, "Nesting too deep", "Flatten the nesting"),
	},
	{
		name:  "deep interpolations",
		files: map[string]string{tenantFile: daemonCmd(nest(`"${`, `1`, `}"`, deep))},
		want:  errAt(tenantFile, 6, "Nesting too deep", "Flatten the nesting"),
	},
	{
		name:  "deep JSON arrays",
		files: map[string]string{"tenants/x.hcl.json": `{"tenant": {"x": ` + nest("[", "", "]", deep) + `}}`},
		want:  errAt("tenants/x.hcl.json", 1, "Nesting too deep", "more than 32 levels"),
	},
	{
		name:  "deep JSON objects",
		files: map[string]string{"tenants/x.hcl.json": `{"tenant": ` + nest(`{"a": `, "1", "}", deep) + `}`},
		want:  errAt("tenants/x.hcl.json", 1, "Nesting too deep", "more than 32 levels"),
	},
	{
		name:  "huge file",
		files: map[string]string{"tenants/big.hcl": strings.Repeat("# padding\n", spec.MaxFileBytes/10+1)},
		want:  errAt("tenants/big.hcl", 1, "Config file too large", "Split it into several files"),
	},
	{
		name:  "huge command",
		files: map[string]string{tenantFile: daemonCmd(`"` + strings.Repeat("a", spec.MaxCommandBytes+1) + `"`)},
		want:  errAt(tenantFile, 6, "Command too long", "at most 65536"),
	},
	{
		name:  "huge environment value",
		files: map[string]string{tenantFile: daemon(`environment = { A = "` + strings.Repeat("b", spec.MaxEnvValueBytes+1) + `" }`)},
		want:  errAt(tenantFile, 7, "Environment value too long", "at most 65536 per value"),
	},
	{
		name: "huge environment",
		files: map[string]string{tenantFile: daemon(`environment = {`,
			`A = "`+strings.Repeat("b", 60<<10)+`"`, `B = "`+strings.Repeat("b", 60<<10)+`"`,
			`C = "`+strings.Repeat("b", 60<<10)+`"`, `D = "`+strings.Repeat("b", 60<<10)+`"`,
			`E = "`+strings.Repeat("b", 60<<10)+`"`, `}`)},
		want: errAt(tenantFile, 5, "Command and environment too large", "at most 262144 together"),
	},
	{
		name:  "too many environment variables",
		files: map[string]string{tenantFile: daemon("environment = {" + strings.Repeat("\nA = 1", spec.MaxEnvVars+1) + "\n}")},
		want:  errAt(tenantFile, 5, "Too many environment variables", "at most 1024"),
	},
	{
		name:  "max_memory_mb overflow",
		files: map[string]string{tenantFile: daemon(`max_memory_mb = 9223372036854775807`)},
		want:  errAt(tenantFile, 7, "Invalid max_memory_mb", "at most 1048576 MB"),
	},
	{
		name:  "number bomb",
		files: map[string]string{tenantFile: daemon(`environment = { A = 1e10000000 }`)},
		want:  errAt(tenantFile, 7, "Number out of range", "between -1e1000 and 1e1000"),
	},
	{
		name:  "tiny number bomb",
		files: map[string]string{tenantFile: daemonCmd(`-1e-10000000`)},
		want:  errAt(tenantFile, 6, "Number out of range", "between -1e1000 and 1e1000"),
	},
	{
		name:  "number bomb as a key",
		files: map[string]string{tenantFile: daemon(`environment = { 1e10000000 = "x" }`)},
		want:  errAt(tenantFile, 7, "Number out of range", "between -1e1000 and 1e1000"),
	},
	{
		name:  "number bomb in JSON",
		files: map[string]string{tenantFile: "", "tenants/x.hcl.json": strings.Replace(tenantJSON(`"/app"`), `"app --port=$PORT"`, "1e10000000", 1)},
		want:  errAt("tenants/x.hcl.json", 10, "Number out of range", "between -1e1000 and 1e1000"),
	},
}

// TestHostileInput: every hostile input is rejected with its message, and
// loading it allocates little: the bombs among them allocated gigabytes or
// crashed the process before the bounds.
func TestHostileInput(t *testing.T) {
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			repo := baseRepo()
			size := 0
			srcs := map[string][]byte{}
			for n, s := range tc.files {
				repo[n] = s
			}
			for n, s := range repo {
				srcs[n] = []byte(s)
				size += len(s)
			}
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			cfg, files, diags := spec.Load(srcs)
			runtime.ReadMemStats(&after)
			if cfg != nil {
				t.Errorf("hostile input loaded")
			}
			found := false
			for _, d := range diags {
				found = found || tc.want.matches(d)
			}
			if !found {
				t.Errorf("missing %v; got:", tc.want)
				for _, d := range diags {
					t.Errorf("  %s", formatDiag(d))
				}
			}
			// Parsing costs some 100 bytes per byte of source; allow
			// plenty more, far below what any of the bombs took.
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(200*size+(64<<20)) {
				t.Errorf("loading %d bytes allocated %d MB", size, alloc>>20)
			}
			// Printing the diagnostics never parses an unparsable file.
			if err := spec.WriteDiagnostics(new(strings.Builder), files, diags, 80, false); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestRepoBounds: the number of files and their total size are bounded
// before anything is parsed, and reading stops at the bound.
func TestRepoBounds(t *testing.T) {
	for _, parallel := range []bool{false, true} {
		t.Run(fmt.Sprintf("total size, parallel reads %v", parallel), func(t *testing.T) {
			srcs := map[string]spec.Entry{}
			var read atomic.Int64
			chunk := []byte(strings.Repeat("# padding\n", 64<<10/10))
			const limit = 8 << 20
			for i := range 2 * limit / len(chunk) {
				s := spec.Bytes(chunk)
				s.Read = func() ([]byte, error) { read.Add(1); return chunk, nil }
				s.Parallel = parallel
				srcs[fmt.Sprintf("f%03d.hcl", i)] = s
			}
			l := spec.NewLoader()
			l.MaxBytes = limit
			cfg, _, diags, err := l.Load(srcs)
			if err != nil || cfg != nil || len(diags) != 1 || diags[0].Summary != "Configuration too large" ||
				!strings.Contains(diags[0].Detail, "more than 8388608 bytes (8 MiB)") || !strings.Contains(diags[0].Detail, "DROVER_MAX_CONFIG_MB") {
				t.Fatalf("got %v %v %v", cfg, diags, err)
			}
			// Reading stops at the bound (parallel reads: those in flight
			// when it was passed finish, at most 8).
			max := int64(limit/len(chunk) + 1)
			if parallel {
				max += 8
			}
			if n := read.Load(); n > max {
				t.Errorf("read %d files, want at most %d", n, max)
			}
		})
	}
	t.Run("file count", func(t *testing.T) {
		srcs := map[string]spec.Entry{}
		for i := range spec.MaxConfigFiles + 1 {
			srcs[fmt.Sprintf("f%06d.hcl", i)] = spec.Entry{Read: func() ([]byte, error) {
				t.Fatal("read despite too many files")
				return nil, nil
			}}
		}
		_, _, diags, _ := spec.NewLoader().Load(srcs)
		if len(diags) != 1 || diags[0].Summary != "Too many config files" {
			t.Fatalf("got %v", diags)
		}
	})
}

// TestEntryKinds: a symbolic link, a submodule or a FIFO below the config
// root is an error naming its path, never read; the other files are still
// checked, but no cross-file errors are added.
func TestEntryKinds(t *testing.T) {
	srcs := map[string]spec.Entry{}
	for n, s := range baseRepo() {
		srcs[n] = spec.Bytes([]byte(s))
	}
	never := func() ([]byte, error) { t.Fatal("read"); return nil, nil }
	srcs["leak.hcl"] = spec.Entry{Kind: spec.Symlink, Read: never}
	srcs["tenants/more"] = spec.Entry{Kind: spec.Symlink, Read: never}
	srcs["vendor"] = spec.Entry{Kind: spec.Submodule, Read: never}
	srcs["fifo.hcl"] = spec.Entry{Kind: spec.Irregular, Read: never}
	srcs["tenants/bad.hcl"] = spec.Bytes([]byte(`tenant "x" { colour = 1 }`))
	cfg, files, diags, err := spec.NewLoader().Load(srcs)
	if err != nil || cfg != nil {
		t.Fatalf("cfg %v err %v", cfg, err)
	}
	want := []wantDiag{
		errAt("leak.hcl", 1, "Symbolic link in the configuration", "leak.hcl is a symbolic link. drover follows no links"),
		errAt("tenants/more", 1, "Symbolic link in the configuration", "Replace the link with the file or directory it points to, or delete it."),
		errAt("vendor", 1, "Submodule in the configuration", "vendor is a Git submodule"),
		errAt("fifo.hcl", 1, "Not a regular file", "fifo.hcl is not a regular file"),
		errAt("tenants/bad.hcl", 1, "Unsupported argument", ""),
	}
	for _, w := range want {
		found := false
		for _, d := range diags {
			found = found || w.matches(d)
		}
		if !found {
			t.Errorf("missing %v", w)
		}
	}
	if len(diags) != len(want)+2 { // bad.hcl also misses uid and shard
		for _, d := range diags {
			t.Errorf("got %s", formatDiag(d))
		}
	}
	var b strings.Builder
	if err := spec.WriteDiagnostics(&b, files, diags, 0, false); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "on leak.hcl line 1:") {
		t.Errorf("output does not locate the link:\n%s", b.String())
	}
}
