package spec

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"

	"github.com/drover-sh/drover/internal/repogen/gen"
)

// lexerDepth is the deepest nesting of brackets, strings and template
// sequences in HCL's own tokens: what the native parser recurses on.
func lexerDepth(src []byte) int {
	toks, _ := hclsyntax.LexConfig(src, "x.hcl", hcl.InitialPos)
	depth, max := 0, 0
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOBrace, hclsyntax.TokenOBrack, hclsyntax.TokenOParen, hclsyntax.TokenOQuote,
			hclsyntax.TokenOHeredoc, hclsyntax.TokenTemplateInterp, hclsyntax.TokenTemplateControl:
			depth++
			max = maxInt(max, depth)
		case hclsyntax.TokenCBrace, hclsyntax.TokenCBrack, hclsyntax.TokenCParen, hclsyntax.TokenCQuote,
			hclsyntax.TokenCHeredoc, hclsyntax.TokenTemplateSeqEnd:
			if depth > 0 {
				depth--
			}
		}
	}
	return max
}

func maxInt(a, b int) int {
	if a > b {
		return a
	}
	return b
}

// scanDepth is the depth nativeTooDeep measures.
func scanDepth(src []byte) int {
	d := 0
	for nativeTooDeep(src, d) >= 0 {
		d++
	}
	return d
}

// TestDepthFollowsLexer: text inside strings, heredocs and comments does
// not count; what HCL reads as syntax does.
func TestDepthFollowsLexer(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want int
	}{
		{"flat", `a = 1`, 0},
		{"blocks", "tenant \"a\" {\n  webroot \"b\" {\n    daemon \"c\" { command = \"x\" }\n  }\n}\n", 4},
		{"brackets in a string", `a = "[[[[{{{{(((("`, 1},
		{"closers in a string do not hide depth", `a = ["]]]]", ["]]]]", ["]]]]"]]]`, 4},
		{"escaped quote", `a = "\"[[[[" `, 1},
		{"escaped templates", `a = "$${ %%{ [[[["`, 1},
		{"interpolation", `a = "${[1]}"`, 3},
		{"directive nesting", `a = "%{if a}%{if b}x%{endif}%{endif}"`, 4},
		{"comments", "# [[[[\n// {{{{\n/* (((( */ a = 1", 0},
		{"heredoc", "a = <<EOT\n[[[[ \" {{{{\nEOT\nb = [1]\n", 1},
		{"indented heredoc", "a = <<-EOT\n  [[[[\n  EOT\nb = [[1]]\n", 2},
		{"heredoc marker inside a line", "a = <<EOT\nx EOT [[\n\"\nEOT\n", 1},
		{"unary chain", `a = - - -1`, 3},
		{"unary across lines in parentheses", "a = (-\n-\n1)", 3},
		{"unary ends with the attribute", "a = -1\nb = -1\nc = -1", 1},
		{"conditional chain", `a = x ? 1 : y ? 2 : 3`, 2},
		{"conditionals end with the attribute", "a = x ? 1 : 2\nb = y ? 1 : 2", 1},
		{"negative list", `a = [-1, -2, -3, -4, -5]`, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := scanDepth([]byte(tc.src)); got != tc.want {
				t.Errorf("depth %d, want %d", got, tc.want)
			}
			if lex := lexerDepth([]byte(tc.src)); scanDepth([]byte(tc.src)) < lex {
				t.Errorf("depth %d below the lexer's %d", scanDepth([]byte(tc.src)), lex)
			}
		})
	}
}

// TestDepthJSON: brackets in JSON strings do not count.
func TestDepthJSON(t *testing.T) {
	src := []byte(`{"a": ["[[[[\"{{{{", {"b": [1]}]}`)
	if jsonTooDeep(src, 4) >= 0 || jsonTooDeep(src, 3) != 27 {
		t.Errorf("jsonTooDeep: %d %d", jsonTooDeep(src, 4), jsonTooDeep(src, 3))
	}
}

// TestDepthLocation: the diagnostic points at the first byte too deep.
func TestDepthLocation(t *testing.T) {
	src := "a = 1\nb = \"é\" " + strings.Repeat("[", MaxNestingDepth+1)
	d := checkDepth("x.hcl", []byte(src))
	if d == nil || d.Subject.Start.Line != 2 || d.Subject.Start.Column != 9+MaxNestingDepth {
		t.Fatalf("got %+v", d)
	}
}

// FuzzDepth: the scan never reports less nesting than HCL's lexer sees, so
// a file it accepts cannot recurse the parser deeper than the bound.
func FuzzDepth(f *testing.F) {
	for _, s := range []string{
		"a = [\"]\", [\"]\"]]", "a = <<EOT\n[\nEOT\n", "a = \"${\"${[1]}\"}\"", "a = \"%{for x in y}[%{endfor}\"",
		"a = <<-X\n  ${[<<Y\n]\nY\n]}\n  X\n", "/*\"*/ a = [[1]]", "a = \"\\\"[\"", "a = '[[\n[", "a = \"$$${[1]}\"",
		"a = \"%%%{[1]}\"", "a = \"\n[\"", "a = <<EOT\r\n[\r\nEOT\r\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		if !utf8.Valid(src) {
			return // checkDepth rejects it before scanning
		}
		if lex, scan := lexerDepth(src), scanDepth(src); scan < lex {
			t.Errorf("scan depth %d below the lexer's %d", scan, lex)
		}
		for _, limit := range []int{0, 1, 2, 3, 5} {
			if fast, slow := scanNative(src, limit, false), scanNative(src, limit, true); fast != slow {
				t.Errorf("limit %d: skipping runs finds %d, byte by byte %d", limit, fast, slow)
			}
		}
	})
}

// TestDepthSkipsRunsLikeByteWise: skipping runs of plain bytes finds the
// same offset as looking at every byte, on every test input and on a
// generated repository's files.
func TestDepthSkipsRunsLikeByteWise(t *testing.T) {
	srcs := []string{"a = [\"]\", [\"]\"]]", "a = <<EOT\n[\nEOT\n", "a = \"${\"${[1]}\"}\"", "a = - - - (- 1)",
		"a = \"%{for x in y}[%{endfor}\"", "a = <<-X\n  ${[<<Y\n]\nY\n]}\n  X\n", "x = a ? b ? c : d : e\ny = 1",
		// Tokens written without spaces: every special byte right after a plain one.
		"x=a?b?c:d:e", "a=-1\nb=!x", "a=[1,[2,(3)]]", "a={b={c=1}}", "a=1#[[\nb=[1]", "a=1//[[\nb=(1)", "a=1/*[*/+[2]",
		"a=<<EOT\nx[y\\\"z$%{\nEOT\n", "a=\"x${b}y%{if c}[%{endif}\"", "a=b/c", "a=b<c"}
	for name, data := range gen.Files(gen.Options{Tenants: 20, DaemonsPerTenant: 3, Nodes: 3, Shards: 1, Seed: 7}) {
		srcs = append(srcs, name+"\n"+string(data))
	}
	for _, src := range srcs {
		for limit := 0; limit < 6; limit++ {
			if fast, slow := scanNative([]byte(src), limit, false), scanNative([]byte(src), limit, true); fast != slow {
				t.Fatalf("limit %d: skipping runs finds %d, byte by byte %d in:\n%s", limit, fast, slow, src)
			}
		}
	}
}

// BenchmarkCheckDepth is the scan every config file passes before HCL
// parses it, over a generated repository's files.
func BenchmarkCheckDepth(b *testing.B) {
	files := gen.Files(gen.Options{Tenants: 1000, DaemonsPerTenant: 3, Nodes: 10, Shards: 1, Seed: 1})
	size := 0
	for _, data := range files {
		size += len(data)
	}
	b.SetBytes(int64(size))
	for b.Loop() {
		for name, data := range files {
			if d := checkDepth(name, data); d != nil {
				b.Fatal(d)
			}
		}
	}
}

// TestInvalidUTF8: a file that is not UTF-8 is rejected before any scan,
// at its first bad byte.
func TestInvalidUTF8(t *testing.T) {
	d := checkDepth("x.hcl", []byte("a = 1\nb = \"é\xec0\""))
	if d == nil || d.Summary != "Invalid UTF-8" || d.Subject.Start.Line != 2 || d.Subject.Start.Column != 7 {
		t.Fatalf("got %+v", d)
	}
}
