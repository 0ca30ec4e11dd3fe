package spec

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
)

// checkDepth reports a file nesting deeper than MaxNestingDepth. It reads
// the raw bytes before any parser does: HCL's parsers recurse once (or
// more) per level, and a deep enough file overflows the goroutine stack,
// which kills the process. The scan follows HCL's lexer (strings, heredocs,
// templates, comments) so brackets inside text do not count, and counts
// what makes the native parser recurse without a bracket: chains of unary
// operators, conditionals and nested %{if}/%{for} directives.
func checkDepth(name string, src []byte) *hcl.Diagnostic {
	if !utf8.Valid(src) {
		// Invalid UTF-8 would make the scan and HCL's lexer disagree on
		// where strings and comments end; HCL rejects it anyway.
		at := 0
		for {
			r, n := utf8.DecodeRune(src[at:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			at += n
		}
		pos := posAt(src, at)
		return &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Invalid UTF-8",
			Detail:   "The file is not valid UTF-8 text here; drover reads config files as UTF-8. The file was not parsed. Save it as UTF-8.",
			Subject:  &hcl.Range{Filename: name, Start: pos, End: pos},
		}
	}
	var at int
	if strings.HasSuffix(name, ".json") {
		at = jsonTooDeep(src, MaxNestingDepth)
	} else {
		at = nativeTooDeep(src, MaxNestingDepth)
	}
	if at < 0 {
		return nil
	}
	pos := posAt(src, at)
	return &hcl.Diagnostic{
		Severity: hcl.DiagError,
		Summary:  "Nesting too deep",
		Detail: fmt.Sprintf("Brackets, braces, strings or expressions nest more than %d levels deep here; drover's schema needs a handful. The file was not parsed. Flatten the nesting.",
			MaxNestingDepth),
		Subject: &hcl.Range{Filename: name, Start: pos, End: pos},
	}
}

// posAt is the position of byte offset at (columns count characters).
func posAt(src []byte, at int) hcl.Pos {
	line := 1 + bytes.Count(src[:at], []byte("\n"))
	start := bytes.LastIndexByte(src[:at], '\n') + 1
	return hcl.Pos{Line: line, Column: 1 + utf8.RuneCount(src[start:at]), Byte: at}
}

// jsonTooDeep returns the offset where JSON nesting first exceeds limit,
// or -1.
func jsonTooDeep(src []byte, limit int) int {
	depth, inString := 0, false
	for i := 0; i < len(src); i++ {
		c := src[i]
		if inString {
			switch c {
			case '\\':
				i++
			case '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '{', '[':
			if depth++; depth > limit {
				return i
			}
		case '}', ']':
			if depth > 0 {
				depth--
			}
		}
	}
	return -1
}

// A frame is one open level of native syntax.
type frame struct {
	kind   byte   // '{', '[', '(' or 'i' (inside ${ or %{): expressions; '"' and 'h' (heredoc): text
	extra  int    // conditionals (expression frames) or open %{if}/%{for} (text frames)
	marker []byte // a heredoc's closing marker
	bol    bool   // a heredoc at the beginning of a line
}

func (f *frame) text() bool { return f.kind == '"' || f.kind == 'h' }

// depthScanner tracks the nesting of native syntax byte by byte.
type depthScanner struct {
	src    []byte
	stack  []frame
	top    frame // the level outside every bracket
	extras int   // the extra of every frame in stack
	unary  int   // the current run of unary operators
	// dangling counts brackets and parentheses a brace closed around:
	// never matched, they count until the end.
	dangling int
	// byteWise turns off skipping runs of plain bytes (for the test that
	// compares both).
	byteWise bool
}

// exprPlain and textPlain are the bytes the scan passes over one by one
// without any effect but the first one's (an expression byte ends a run of
// unary operators): a run of them is skipped at once. Everything else is
// looked at by expr or text.
// blank is the space between expression tokens, which has no effect at all.
var (
	exprPlain, textPlain = plainBytes("#/-! \t\r\n?\"<{[()]}", false), plainBytes("\n\\\"$%", false)
	blank                = plainBytes(" \t\r", true)
)

// plainBytes is a table of the bytes in set (in), or of those not in it.
func plainBytes(set string, in bool) (plain [256]bool) {
	for i := range plain {
		plain[i] = !in
	}
	for i := 0; i < len(set); i++ {
		plain[set[i]] = in
	}
	return plain
}

// skip returns the end of the run of plain bytes starting after i.
func (s *depthScanner) skip(i int, plain *[256]bool) int {
	if s.byteWise {
		return i + 1
	}
	src := s.src
	for i++; i < len(src) && plain[src[i]]; i++ {
	}
	return i
}

func (s *depthScanner) depth() int {
	return len(s.stack) + s.extras + s.top.extra + s.unary + s.dangling
}

func (s *depthScanner) cur() *frame {
	if len(s.stack) == 0 {
		return &s.top
	}
	return &s.stack[len(s.stack)-1]
}

func (s *depthScanner) push(f frame) { s.stack = append(s.stack, f) }

func (s *depthScanner) pop() {
	s.extras -= s.stack[len(s.stack)-1].extra
	s.stack = s.stack[:len(s.stack)-1]
}

func (s *depthScanner) addExtra(f *frame, n int) {
	if f.extra+n < 0 {
		n = -f.extra
	}
	f.extra += n
	if f != &s.top {
		s.extras += n
	}
}

// nativeTooDeep returns the offset where the nesting of native syntax first
// exceeds limit, or -1.
func nativeTooDeep(src []byte, limit int) int { return scanNative(src, limit, false) }

func scanNative(src []byte, limit int, byteWise bool) int {
	s := &depthScanner{src: src, byteWise: byteWise}
	for i := 0; i < len(src); {
		var next int
		if s.cur().text() {
			next = s.text(i)
		} else {
			next = s.expr(i)
		}
		if s.depth() > limit {
			return i
		}
		i = next
	}
	return -1
}

// expr scans one token of expression syntax at i and returns where the
// next one starts.
func (s *depthScanner) expr(i int) int {
	src := s.src
	c := src[i]
	switch {
	case c == '#' || c == '/' && byteAt(src, i+1) == '/':
		if n := bytes.IndexByte(src[i:], '\n'); n >= 0 {
			return i + n
		}
		return len(src)
	case c == '/' && byteAt(src, i+1) == '*' && bytes.Contains(src[i+2:], []byte("*/")):
		// (Unterminated, it is no comment: HCL reads what follows.)
		return i + 2 + bytes.Index(src[i+2:], []byte("*/")) + 2
	case c == '-' || c == '!':
		s.unary++
		return i + 1
	case blank[c]:
		return s.skip(i, &blank)
	case c == '\n':
		// A newline ends an attribute's expression, but not one inside
		// brackets, parentheses or a template sequence.
		if f := s.cur(); f.kind == 0 || f.kind == '{' {
			s.addExtra(f, -f.extra)
			s.unary = 0
		}
		return i + 1
	}
	s.unary = 0
	switch c {
	case '?':
		s.addExtra(s.cur(), 1)
	case '"':
		s.push(frame{kind: '"'})
	case '<':
		if marker, n := heredocIntro(src[i:]); n > 0 {
			s.push(frame{kind: 'h', marker: marker, bol: true})
			return i + n
		}
	case '{', '[', '(':
		s.push(frame{kind: c})
	case '}':
		// Like HCL's lexer, a brace closes the innermost brace or
		// template sequence. Brackets and parentheses left open inside
		// it still count (the parser has not closed them): dangling.
		for j := len(s.stack) - 1; j >= 0; j-- {
			if k := s.stack[j].kind; k == '{' || k == 'i' {
				s.dangling += len(s.stack) - 1 - j
				for len(s.stack) > j {
					s.pop()
				}
				break
			} else if s.stack[j].text() {
				break
			}
		}
	case ']', ')':
		if len(s.stack) > 0 && (s.cur().kind == '[' || s.cur().kind == '(') {
			s.pop()
		}
	default:
		if exprPlain[c] {
			return s.skip(i, &exprPlain)
		}
	}
	return i + 1
}

// text scans a string or heredoc at i.
func (s *depthScanner) text(i int) int {
	src := s.src
	f := s.cur()
	if f.kind == 'h' && f.bol {
		f.bol = false
		end := bytes.IndexByte(src[i:], '\n')
		if end < 0 {
			end = len(src) - i
		}
		if bytes.Equal(bytes.TrimSpace(src[i:i+end]), f.marker) {
			s.pop()
			return i + end
		}
	}
	c := src[i]
	switch {
	case c == '\n':
		f.bol = true
	case c == '\\' && f.kind == '"':
		return i + 2
	case c == '"' && f.kind == '"':
		s.pop()
	case (c == '$' || c == '%') && byteAt(src, i+1) == c && byteAt(src, i+2) == '{':
		return i + 3 // an escaped $${ or %%{
	case (c == '$' || c == '%') && byteAt(src, i+1) == '{':
		if c == '%' {
			switch directive(src[i+2:]) {
			case "if", "for":
				s.addExtra(f, 1)
			case "endif", "endfor":
				s.addExtra(f, -1)
			}
		}
		s.push(frame{kind: 'i'})
		return i + 2
	case textPlain[c]:
		return s.skip(i, &textPlain)
	}
	return i + 1
}

// byteAt is src[i], or 0 past the end.
func byteAt(src []byte, i int) byte {
	if i < len(src) {
		return src[i]
	}
	return 0
}

// directive is the keyword of a template directive (after "%{").
func directive(src []byte) string {
	src = bytes.TrimLeft(src, "~ \t")
	n := 0
	for n < len(src) && n < 6 && ('a' <= src[n] && src[n] <= 'z') {
		n++
	}
	return string(src[:n])
}

// heredocIntro recognises "<<MARKER\n" or "<<-MARKER\n" as HCL's lexer
// does, returning the marker and the introducer's length.
func heredocIntro(src []byte) ([]byte, int) {
	if !bytes.HasPrefix(src, []byte("<<")) {
		return nil, 0
	}
	i := 2
	if byteAt(src, i) == '-' {
		i++
	}
	start := i
	for i < len(src) {
		r, size := utf8.DecodeRune(src[i:])
		ok := unicode.IsLetter(r) || r == '_' || i > start && (unicode.IsDigit(r) || r == '-' || unicode.In(r, unicode.Mn, unicode.Mc, unicode.Nd, unicode.Pc, unicode.Nl))
		if !ok {
			break
		}
		i += size
	}
	if i == start {
		return nil, 0
	}
	marker := src[start:i]
	if byteAt(src, i) == '\r' {
		i++
	}
	if byteAt(src, i) != '\n' {
		return nil, 0
	}
	return marker, i + 1
}

// CheckNesting is the check of encoding and nesting that every config file
// passes before a parser sees it, for the other HCL files drover reads from
// a repository (the trust policy file).
func CheckNesting(name string, src []byte) *hcl.Diagnostic { return checkDepth(name, src) }
