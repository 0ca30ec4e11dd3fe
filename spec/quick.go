package spec

import (
	"bytes"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// quickParse reads a file written in the plain form nearly every drover
// file takes, and builds the syntax tree hclsyntax.ParseConfig builds for
// it, range for range, without HCL's general scanner (which makes a
// 96-byte token of every few bytes and counts each column by grapheme
// clusters) and parser: at 100,000 daemons they were most of the CPU time
// and the allocation of every load.
//
// The plain form: blocks with quoted labels, the opening brace on the
// header's line, the body on lines of its own or one attribute on the
// header's line (node "web-1a" { index = 1 }); one attribute per line;
// values that are quoted strings without templates ("$${" and "%%{"
// escapes and backslash escapes are fine), whole numbers, true, false,
// null, and lists or maps of those (map keys are names or quoted
// strings); # and // comments at the end of a line; names, numbers and
// punctuation in ASCII, strings and comments in any UTF-8.
//
// For anything else (a carriage return or another control character,
// invalid UTF-8, a /* comment, a heredoc, a template, an operator, a
// fraction, a duplicate attribute, any syntax error...) it answers false
// and the file goes to hclsyntax, whose diagnostics are the ones a user
// sees: this path never reports anything. TestQuickParseMatchesHCL and
// FuzzQuickParse hold the two trees equal for every file it accepts.
func quickParse(name string, src []byte) (body *hclsyntax.Body, ok bool) {
	for _, c := range src {
		if c == 0x7f || c < ' ' && c != '\t' && c != '\n' {
			return nil, false
		}
	}
	if !utf8.Valid(src) {
		return nil, false
	}
	p := &quickParser{name: name, src: src, line: 1}
	defer func() {
		if r := recover(); r != nil {
			if r != errNotPlain {
				panic(r)
			}
			body, ok = nil, false
		}
	}()
	body, _ = p.body(true, hcl.Range{})
	return body, true
}

// errNotPlain unwinds quickParse when the file leaves the plain form.
var errNotPlain = new(int)

// quickParser is the state of one quickParse: the next byte, and the line
// it is on. A column counts grapheme clusters, which outside strings are
// bytes (names, numbers and punctuation are ASCII).
type quickParser struct {
	name      string
	src       []byte
	i         int // the next byte
	line      int // of byte i, from 1
	lineStart int // offset of that line's first byte
	// wide is how many more bytes than columns the line's strings before
	// byte i take: their non-ASCII characters.
	wide int
}

func notPlain() { panic(errNotPlain) }

// at is the byte at offset j, 0 at or past the end (the file holds no 0).
func (p *quickParser) at(j int) byte {
	if j < len(p.src) {
		return p.src[j]
	}
	return 0
}

func (p *quickParser) peek() byte { return p.at(p.i) }

// pos is the position of offset b, on the current line.
func (p *quickParser) pos(b int) hcl.Pos {
	return hcl.Pos{Line: p.line, Column: b - p.lineStart - p.wide + 1, Byte: b}
}

// rng is the range of bytes from to to, on the current line.
func (p *quickParser) rng(from, to int) hcl.Range {
	return hcl.Range{Filename: p.name, Start: p.pos(from), End: p.pos(to)}
}

func (p *quickParser) spaces() {
	for c := p.peek(); c == ' ' || c == '\t'; c = p.peek() {
		p.i++
	}
}

// newline reads the newline at p.i and returns HCL's range for it, which
// ends on the next line.
func (p *quickParser) newline() hcl.Range {
	start := p.pos(p.i)
	p.i++
	p.line, p.lineStart, p.wide = p.line+1, p.i, 0
	return hcl.Range{Filename: p.name, Start: start, End: p.pos(p.i)}
}

// lineEnd reads a newline, or a # or // comment with the newline that
// ends it (which hclsyntax reads as a newline with the comment's range),
// and returns its range; false when neither is next. A comment that ends
// the file without a newline, or a /* comment, is not plain.
func (p *quickParser) lineEnd() (hcl.Range, bool) {
	switch c := p.peek(); {
	case c == '\n':
		return p.newline(), true
	case c == '#' || c == '/':
		if c == '/' && p.at(p.i+1) != '/' {
			notPlain()
		}
		start := p.pos(p.i)
		nl := p.i + bytes.IndexByte(p.src[p.i:], '\n')
		if nl < p.i {
			notPlain()
		}
		p.i = nl
		end := p.newline().End
		return hcl.Range{Filename: p.name, Start: start, End: end}, true
	}
	return hcl.Range{}, false
}

// body reads a body up to its closing brace (the file's end for the top
// one), which it returns; open is the opening brace of a block's body.
func (p *quickParser) body(top bool, open hcl.Range) (*hclsyntax.Body, hcl.Range) {
	b := &hclsyntax.Body{Attributes: hclsyntax.Attributes{}, Blocks: hclsyntax.Blocks{}}
	start, first := open, top
	// begin notes the first token of the top body, whose range starts it.
	begin := func(r hcl.Range) {
		if first {
			start, first = r, false
		}
	}
	for {
		p.spaces()
		c := p.peek()
		if r, ok := p.lineEnd(); ok {
			begin(r)
			continue
		}
		switch {
		case c == 0 && top && p.i == len(p.src):
			end := p.rng(p.i, p.i)
			begin(end)
			b.SrcRange = hcl.RangeBetween(start, end)
			b.EndRange = hcl.Range{Filename: p.name, Start: end.End, End: end.End}
			return b, end
		case c == '}' && !top:
			end := p.rng(p.i, p.i+1)
			p.i++
			b.SrcRange = hcl.RangeBetween(start, end)
			b.EndRange = hcl.Range{Filename: p.name, Start: end.End, End: end.End}
			return b, end
		case isIdentStart(c):
			name, nameRange := p.ident()
			begin(nameRange)
			p.spaces()
			switch p.peek() {
			case '=':
				if _, dup := b.Attributes[name]; dup {
					notPlain()
				}
				b.Attributes[name] = p.attribute(name, nameRange, false)
				if _, ok := p.lineEnd(); !ok && p.i != len(p.src) {
					notPlain()
				}
			case '"', '{':
				b.Blocks = append(b.Blocks, p.block(name, nameRange))
			default:
				notPlain()
			}
		default:
			notPlain()
		}
	}
}

// attribute reads "= value" and the spaces after it; the value of a
// single-line block's attribute is not a list or a map.
func (p *quickParser) attribute(name string, nameRange hcl.Range, singleLine bool) *hclsyntax.Attribute {
	eq := p.equals()
	expr := p.value(singleLine)
	p.spaces()
	return &hclsyntax.Attribute{
		Name: name, Expr: expr,
		SrcRange:    hcl.RangeBetween(nameRange, expr.Range()),
		NameRange:   nameRange,
		EqualsRange: eq,
	}
}

// equals reads "=" (not "==" or "=>") and the spaces after it.
func (p *quickParser) equals() hcl.Range {
	if p.peek() != '=' || p.at(p.i+1) == '=' || p.at(p.i+1) == '>' {
		notPlain()
	}
	eq := p.rng(p.i, p.i+1)
	p.i++
	p.spaces()
	return eq
}

// block reads a block's quoted labels, its body (on lines of its own, or
// a single attribute on the header's line), and the end of the line after
// its closing brace.
func (p *quickParser) block(typ string, typeRange hcl.Range) *hclsyntax.Block {
	blk := &hclsyntax.Block{Type: typ, TypeRange: typeRange}
	for p.peek() == '"' {
		label, whole, _ := p.quoted()
		blk.Labels = append(blk.Labels, label)
		blk.LabelRanges = append(blk.LabelRanges, whole)
		p.spaces()
	}
	if p.peek() != '{' {
		notPlain()
	}
	blk.OpenBraceRange = p.rng(p.i, p.i+1)
	p.i++
	p.spaces()
	if c := p.peek(); isIdentStart(c) {
		blk.Body, blk.CloseBraceRange = p.singleLineBody()
	} else if c == '\n' || c == '#' || c == '/' || c == '}' {
		blk.Body, blk.CloseBraceRange = p.body(false, blk.OpenBraceRange)
	} else {
		notPlain()
	}
	p.spaces()
	if _, ok := p.lineEnd(); !ok && p.i != len(p.src) {
		notPlain()
	}
	return blk
}

// singleLineBody reads the one attribute of a block written on one line,
// like node "web-1a" { index = 1 }, and the closing brace, whose range it
// returns.
func (p *quickParser) singleLineBody() (*hclsyntax.Body, hcl.Range) {
	name, nameRange := p.ident()
	p.spaces()
	attr := p.attribute(name, nameRange, true)
	if p.peek() != '}' {
		notPlain()
	}
	end := p.rng(p.i, p.i+1)
	p.i++
	return &hclsyntax.Body{
		Attributes: hclsyntax.Attributes{name: attr},
		SrcRange:   attr.SrcRange,
		EndRange:   hcl.Range{Filename: p.name, Start: attr.SrcRange.End, End: attr.SrcRange.End},
	}, end
}

// value reads a value: a quoted string, a whole number, true, false,
// null, or (not nested) a list or a map of those.
func (p *quickParser) value(nested bool) hclsyntax.Expression {
	c := p.peek()
	switch {
	case c == '"':
		return p.template()
	case c >= '0' && c <= '9':
		from := p.i
		for c := p.peek(); c >= '0' && c <= '9'; c = p.peek() {
			p.i++
		}
		if c := p.peek(); c == '.' || c == 'e' || c == 'E' {
			notPlain() // a fraction or an exponent: left to hclsyntax
		}
		v, err := cty.ParseNumberVal(string(p.src[from:p.i]))
		if err != nil {
			notPlain()
		}
		return &hclsyntax.LiteralValueExpr{Val: v, SrcRange: p.rng(from, p.i)}
	case isIdentStart(c):
		name, r := p.ident()
		switch name {
		case "true":
			return &hclsyntax.LiteralValueExpr{Val: cty.True, SrcRange: r}
		case "false":
			return &hclsyntax.LiteralValueExpr{Val: cty.False, SrcRange: r}
		case "null":
			return &hclsyntax.LiteralValueExpr{Val: cty.NullVal(cty.DynamicPseudoType), SrcRange: r}
		}
	case c == '[' && !nested:
		return p.tuple()
	case c == '{' && !nested:
		return p.object()
	}
	notPlain()
	return nil
}

// tuple reads a list: items separated by commas, newlines and comments
// between them ignored.
func (p *quickParser) tuple() *hclsyntax.TupleConsExpr {
	t := &hclsyntax.TupleConsExpr{OpenRange: p.rng(p.i, p.i+1)}
	p.i++
	gap := func() {
		for {
			p.spaces()
			if _, ok := p.lineEnd(); !ok {
				return
			}
		}
	}
	for {
		gap()
		if p.peek() == ']' {
			break
		}
		t.Exprs = append(t.Exprs, p.value(true))
		gap()
		if p.peek() == ']' {
			break
		}
		if p.peek() != ',' {
			notPlain()
		}
		p.i++
	}
	t.SrcRange = hcl.RangeBetween(t.OpenRange, p.rng(p.i, p.i+1))
	p.i++
	return t
}

// object reads a map: "key = value" items separated by commas or line
// ends; a key is a name or a quoted string.
func (p *quickParser) object() *hclsyntax.ObjectConsExpr {
	o := &hclsyntax.ObjectConsExpr{OpenRange: p.rng(p.i, p.i+1)}
	p.i++
	for {
		p.spaces()
		if _, ok := p.lineEnd(); ok {
			continue
		}
		if p.peek() == '}' {
			break
		}
		var key hclsyntax.Expression
		switch c := p.peek(); {
		case c == '"':
			key = p.template()
		case isIdentStart(c):
			name, r := p.ident()
			switch name {
			case "true", "false", "null", "for":
				notPlain() // a literal key, or a for expression
			}
			key = &hclsyntax.ScopeTraversalExpr{
				Traversal: hcl.Traversal{hcl.TraverseRoot{Name: name, SrcRange: r}},
				SrcRange:  r,
			}
		default:
			notPlain()
		}
		p.spaces()
		p.equals()
		o.Items = append(o.Items, hclsyntax.ObjectConsItem{
			KeyExpr:   &hclsyntax.ObjectConsKeyExpr{Wrapped: key},
			ValueExpr: p.value(true),
		})
		p.spaces()
		switch c := p.peek(); {
		case c == '}':
		case c == ',':
			p.i++
		default:
			if _, ok := p.lineEnd(); !ok {
				notPlain()
			}
		}
		if p.peek() == '}' {
			break
		}
	}
	o.SrcRange = hcl.RangeBetween(o.OpenRange, p.rng(p.i, p.i+1))
	p.i++
	return o
}

// ident reads a name: a letter or underscore, then letters, digits,
// underscores and dashes.
func (p *quickParser) ident() (string, hcl.Range) {
	from := p.i
	for c := p.peek(); isIdentStart(c) || c >= '0' && c <= '9' || c == '-'; c = p.peek() {
		p.i++
	}
	return string(p.src[from:p.i]), p.rng(from, p.i)
}

func isIdentStart(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
