package spec

import (
	"bytes"
	"strings"
	"unicode/utf8"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The quoted strings of the plain form (quick.go): their values, escapes
// resolved as HCL resolves them, and their ranges, columns counted as HCL
// counts them.

// template reads a quoted string as the template hclsyntax makes of it:
// one literal part.
func (p *quickParser) template() *hclsyntax.TemplateExpr {
	val, whole, content := p.quoted()
	return &hclsyntax.TemplateExpr{
		Parts:    []hclsyntax.Expression{&hclsyntax.LiteralValueExpr{Val: cty.StringVal(val), SrcRange: content}},
		SrcRange: whole,
	}
}

// quoted reads a quoted string without templates: its value, its range
// with the quotes, and the range HCL gives its literal part (from after
// the opening quote to the closing one; for an empty string, the empty
// range after the closing quote).
func (p *quickParser) quoted() (val string, whole, content hcl.Range) {
	open := p.i
	from := p.i + 1
	plain := true // no escape: the value is the text itself
	ascii := true // a column a byte
	j := from
scan:
	for {
		switch c := p.at(j); c {
		case '"':
			break scan
		case 0, '\n':
			notPlain()
		case '\\':
			if next := p.at(j + 1); next == 0 || next == '\n' {
				notPlain()
			}
			j, plain = j+2, false
		case '$', '%':
			switch {
			case p.at(j+1) == '{':
				notPlain() // an interpolation or a directive
			case p.at(j+1) == c && p.at(j+2) == '{':
				j += 3 // "$${": an escaped interpolation
			default:
				j++
			}
			plain = false
		default:
			ascii = ascii && c < utf8.RuneSelf
			j++
		}
	}
	whole = p.rng(open, j+1)
	content = p.rng(from, j)
	if !ascii {
		p.countColumns(open, j)
		whole.End, content.End = p.pos(j+1), p.pos(j)
	}
	p.i = j + 1
	if from == j {
		content.Start = whole.End
		content.End = whole.End
	}
	if plain {
		return string(p.src[from:j]), whole, content
	}
	return p.unescape(p.src[from:j]), whole, content
}

// countColumns counts the columns of the quoted string from the opening
// quote at open to the closing one at close, which holds non-ASCII
// characters, as HCL does: its scanner counts grapheme clusters token by
// token, so the string is given to it (a rare case: every ASCII string
// is counted by bytes).
func (p *quickParser) countColumns(open, close int) {
	toks, diags := hclsyntax.LexExpression(p.src[open:close+1], p.name, p.pos(open))
	if diags.HasErrors() || len(toks) < 2 {
		notPlain()
	}
	cq := toks[len(toks)-2]
	if cq.Type != hclsyntax.TokenCQuote || cq.Range.Start.Byte != close || cq.Range.Start.Line != p.line {
		notPlain()
	}
	p.wide = close - p.lineStart + 1 - cq.Range.Start.Column
}

// unescape is the value of a quoted string's text with escapes: the text
// is cut into the tokens HCL's scanner makes of it (an escaped "$${" or
// "%%{", a lone "$" or "%", a run of anything else) and each with an
// escape is resolved by hclsyntax.ParseStringLiteralToken, as HCL's parser
// does.
func (p *quickParser) unescape(text []byte) string {
	var sb strings.Builder
	sb.Grow(len(text))
	for k := 0; k < len(text); {
		end := k + 1
		switch c := text[k]; c {
		case '$', '%':
			if k+2 < len(text) && text[k+1] == c && text[k+2] == '{' {
				end = k + 3
				if end < len(text) && text[end] == '~' {
					end++
				}
			}
		default:
			for end = k; end < len(text) && text[end] != '$' && text[end] != '%'; end++ {
				if text[end] == '\\' {
					end++
				}
			}
		}
		tok := text[k:end]
		k = end
		if bytes.IndexByte(tok, '\\') < 0 && (len(tok) < 3 || tok[0] != '$' && tok[0] != '%') {
			sb.Write(tok) // no escape: the text is the value
			continue
		}
		s, diags := hclsyntax.ParseStringLiteralToken(hclsyntax.Token{Type: hclsyntax.TokenQuotedLit, Bytes: tok})
		if diags.HasErrors() {
			notPlain()
		}
		sb.WriteString(s)
	}
	return sb.String()
}
