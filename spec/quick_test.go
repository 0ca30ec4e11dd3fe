package spec_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-sh/drover/internal/repogen/gen"
	"github.com/drover-sh/drover/spec"
)

// sameTree compares syntax trees field by field, unexported fields and
// ranges included; values compare as cty does.
var sameTree = []cmp.Option{
	cmp.Exporter(func(reflect.Type) bool { return true }),
	cmp.Comparer(func(a, b cty.Value) bool { return a.RawEquals(b) }),
}

// checkQuick parses src both ways. When the quick parser accepts it,
// hclsyntax must have parsed it without a diagnostic into the same tree.
// It reports whether the quick parser accepted it.
func checkQuick(t *testing.T, name string, src []byte) bool {
	t.Helper()
	quick, ok := spec.QuickParse(name, src)
	if !ok {
		return false
	}
	hf, diags := hclsyntax.ParseConfig(src, name, hcl.InitialPos)
	if len(diags) > 0 {
		t.Fatalf("%s: the quick parser accepted what hclsyntax reports: %s\n%s", name, diags, src)
	}
	if d := cmp.Diff(hf.Body, quick, sameTree...); d != "" {
		t.Fatalf("%s: trees differ (-hclsyntax +quick):\n%s\nsource:\n%s", name, d, src)
	}
	return true
}

// quickCases are plain and not-quite-plain files: each one the quick
// parser accepts is compared with hclsyntax; want says whether it must.
var quickCases = []struct {
	src  string
	want bool
}{
	{"", true},
	{"\n\n", true},
	{"# only a comment\n", true},
	{"// only a comment\n", true},
	{"# no newline", false},
	{"/* block comment */\n", false},
	{"a = 1", true},
	{"  a = 1\n", true},
	{"a = 1 # why\n", true},
	{"a = 1 // why\n", true},
	{"a = 1\nb = \"x\"\n", true},
	{"a = true\nb = false\nc = null\n", true},
	{"a = 1\na = 2\n", false},
	{"a = 1.5\n", false},
	{"a = 1e3\n", false},
	{"a = 007\n", true},
	{"a = -1\n", false},
	{"a = 1 + 2\n", false},
	{"a = b\n", false},
	{"a = f(1)\n", false},
	{"a == 1\n", false},
	{"a = \"\"\n", true},
	{"a = \"x\" \"y\"\n", false},
	{"a = \"\\\"quoted\\\" \\\\ \\n \\t \\r \\u00e9 \\U0001F600\"\n", true},
	{"a = \"\\q\"\n", false},
	{"a = \"$${HOME} %%{if} $$ %% $x %x $\"\n", true},
	{"a = \"$$${HOME}\"\n", true},
	{"a = \"$${~HOME}\"\n", true},
	{"a = \"${HOME}\"\n", false},
	{"a = \"%{if x}y%{endif}\"\n", false},
	{"a = \"tab\there\"\n", true},
	{"a = \"é\" # ü\nb = \"e\u0301\\u00e9x\" # c\nc = { \"ß\" = \"ü\", K = \"v\" }\n", true},
	{"a = \"\xff\"\n", false},
	{"é = 1\n", false},
	{"a = \"unterminated\n", false},
	{"a = <<EOT\nx\nEOT\n", false},
	{"a = [\"x\", \"y\"]\n", true},
	{"a = []\n", true},
	{"a = [\n  \"x\",\n  \"y\", # second\n  3,\n]\n", true},
	{"a = [\"x\" \"y\"]\n", false},
	{"a = [[1]]\n", false},
	{"a = [for x in y: x]\n", false},
	{"a = {}\n", true},
	{"a = { A = \"x\", B = 1 }\n", true},
	{"a = {\n  A = \"x\"\n  \"B-C\" = \"y\" # c\n  D = true,\n\n}\n", true},
	{"a = { A: \"x\" }\n", false},
	{"a = { for k, v in x: k => v }\n", false},
	{"a = { A = { B = 1 } }\n", false},
	{"a = { (k) = 1 }\n", false},
	{"a = { true = 1 }\n", false},
	{"a = {\n  A = \"x\" B = \"y\"\n}\n", false},
	{"a = 1, b = 2\n", false},
	{"a = [\"x\"][0]\n", false},
	{"a = \"x\".y\n", false},
	{"a = \"x\" ? 1 : 2\n", false},
	{"a =\n1\n", false},
	{"t \"x\" {\n}\n", true},
	{"t \"x\" {}\n", true},
	{"t {\n  a = 1\n}\n", true},
	{"t \"x\" \"y\" {\n  a = 1\n}", true},
	{"t \"x\" { # c\n  a = 1\n}\n", true},
	{"t \"x\" { a = 1 }\n", true},
	{"t \"x\" { a = \"y\" }  # c\n", true},
	{"t \"x\" { a = [1] }\n", false},
	{"t \"x\" { a = 1, b = 2 }\n", false},
	{"t \"x\" { a = 1\n}\n", false},
	{"t \"x\" { u \"y\" {} }\n", false},
	{"t x {\n}\n", false},
	{"t \"x\"\n{\n}\n", false},
	{"t \"x\" {\n  a = 1\n} b = 2\n", false},
	{"t \"x\" {\n  a = 1\n", false},
	{"t \"${x}\" {\n}\n", false},
	{"t \"a\\\"b\" {\n}\n", true},
	{"}\n", false},
	{"a = 1\r\n", false},
	{"\ta\t=\t1\t\n", true},
	{"t \"x\" {\n  u \"y\" {\n    a = [\n      \"p\",\n    ]\n    e = {\n      K = \"v\"\n    }\n  }\n}\n", true},
}

func TestQuickParseMatchesHCL(t *testing.T) {
	for _, tc := range quickCases {
		if got := checkQuick(t, "case.hcl", []byte(tc.src)); got != tc.want {
			t.Errorf("quick parser accepted %q: %v, want %v", tc.src, got, tc.want)
		}
	}
}

// TestQuickParseTakesRepositories: the files of drover's examples, test
// scripts and validation cases, wherever they are plain, parse to
// hclsyntax's tree; and every file of a generated repository is plain (so
// the quick path is what a large repository takes).
func TestQuickParseTakesRepositories(t *testing.T) {
	accepted, total := 0, 0
	check := func(name string, src []byte) {
		total++
		if checkQuick(t, name, src) {
			accepted++
		}
	}
	examples, err := filepath.Glob("../examples/*/*/*.hcl")
	if err != nil {
		t.Fatal(err)
	}
	more, _ := filepath.Glob("../examples/*/*.hcl")
	for _, name := range append(examples, more...) {
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		check(name, src)
	}
	scripts, _ := filepath.Glob("../testscripts/*.txtar")
	for _, name := range scripts {
		ar, err := txtar.ParseFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range ar.Files {
			if strings.HasSuffix(f.Name, ".hcl") {
				check(name+":"+f.Name, f.Data)
			}
		}
	}
	for _, tc := range validateCases {
		for name, src := range tc.files {
			if strings.HasSuffix(name, ".hcl") {
				check(name, []byte(src))
			}
		}
	}
	t.Logf("%d of %d files of examples, scripts and cases are plain", accepted, total)
	if accepted < total/2 {
		t.Errorf("only %d of %d files are plain", accepted, total)
	}
	for name, src := range gen.Files(gen.Options{Tenants: 300, DaemonsPerTenant: 3, Nodes: 5, Shards: 2, Seed: 7}) {
		if !checkQuick(t, name, src) {
			t.Fatalf("generated file %s is not taken by the quick parser:\n%s", name, src)
		}
	}
}

func FuzzQuickParse(f *testing.F) {
	for _, tc := range quickCases {
		f.Add([]byte(tc.src))
	}
	for _, tc := range validateCases {
		for name, src := range tc.files {
			if strings.HasSuffix(name, ".hcl") {
				f.Add([]byte(src))
			}
		}
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		checkQuick(t, "fuzz.hcl", src)
	})
}
