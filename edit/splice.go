package edit

import (
	"bytes"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// The functions below splice a formatted block into the original bytes of a
// file. Only the block's own bytes (and, for a removal, its comment lines and
// one blank line) change; everything else stays byte for byte.

// lineStart is the offset of the start of the line holding offset i.
func lineStart(src []byte, i int) int { return bytes.LastIndexByte(src[:i], '\n') + 1 }

// lineEnd is the offset just after the newline ending the line holding
// offset i (len(src) on a last line without one).
func lineEnd(src []byte, i int) int {
	if j := bytes.IndexByte(src[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(src)
}

// leadingSpace is the whitespace starting the line holding offset i.
func leadingSpace(src []byte, i int) string {
	ls := lineStart(src, i)
	j := ls
	for j < len(src) && (src[j] == ' ' || src[j] == '\t') {
		j++
	}
	return string(src[ls:j])
}

func isBlank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// indent prefixes every line of a formatted block but the first with
// prefix, leaving heredoc content and closing markers alone (their
// indentation is part of the value). Empty lines stay empty.
func indent(block []byte, prefix string) []byte {
	block = bytes.TrimRight(block, "\n")
	if prefix == "" {
		return block
	}
	// Line starts that lie inside a heredoc.
	var skip [][2]int
	toks, _ := hclsyntax.LexConfig(block, "", hcl.InitialPos)
	open := -1
	for _, t := range toks {
		switch t.Type {
		case hclsyntax.TokenOHeredoc:
			open = t.Range.End.Byte
		case hclsyntax.TokenCHeredoc:
			if open >= 0 {
				skip = append(skip, [2]int{open, t.Range.End.Byte})
				open = -1
			}
		}
	}
	inHeredoc := func(i int) bool {
		for _, s := range skip {
			if i >= s[0] && i < s[1] {
				return true
			}
		}
		return false
	}
	var out bytes.Buffer
	off := 0 // offset of the line in block
	for i, line := range bytes.SplitAfter(block, []byte("\n")) {
		if i > 0 && len(bytes.TrimRight(line, "\n")) > 0 && !inHeredoc(off) {
			out.WriteString(prefix)
		}
		out.Write(line)
		off += len(line)
	}
	return out.Bytes()
}

// replaceBlock puts a formatted block where blk was.
func replaceBlock(src []byte, blk *hclsyntax.Block, formatted []byte) []byte {
	start, end := blk.TypeRange.Start.Byte, blk.CloseBraceRange.End.Byte
	var out bytes.Buffer
	out.Write(src[:start])
	out.Write(indent(formatted, leadingSpace(src, start)))
	out.Write(src[end:])
	return out.Bytes()
}

// insertBlock adds a formatted block as the last item of parent's body,
// indented like the body's first item (or two spaces more than parent),
// separated from what precedes it by a blank line.
func insertBlock(src []byte, parent *hclsyntax.Block, formatted []byte) []byte {
	close := parent.CloseBraceRange.Start.Byte
	parentIndent := leadingSpace(src, parent.TypeRange.Start.Byte)
	childIndent := parentIndent + "  "
	if first := firstItemStart(parent.Body); first >= 0 && lineStart(src, first) > lineStart(src, parent.OpenBraceRange.Start.Byte) {
		childIndent = leadingSpace(src, first)
	}
	block := append(indent(formatted, childIndent), '\n')
	var out bytes.Buffer
	ls := lineStart(src, close)
	if isBlank(src[ls:close]) && ls > parent.OpenBraceRange.End.Byte {
		// The closing brace starts its line: insert the block before it.
		prev := bytes.TrimRight(src[parent.OpenBraceRange.End.Byte:ls], " \t\n")
		out.Write(src[:ls])
		if len(prev) > 0 && !bytes.HasSuffix(src[:ls], []byte("\n\n")) {
			out.WriteString("\n")
		}
		out.WriteString(childIndent)
		out.Write(block)
		out.Write(src[ls:])
		return out.Bytes()
	}
	// A one-line parent: `webroot "w" {}`. Open it up.
	head := bytes.TrimRight(src[:close], " \t")
	out.Write(head)
	out.WriteString("\n")
	if !bytes.HasSuffix(head, []byte("{")) {
		out.WriteString("\n")
	}
	out.WriteString(childIndent)
	out.Write(block)
	out.WriteString(parentIndent)
	out.Write(src[close:])
	return out.Bytes()
}

// firstItemStart is the offset of the first attribute or block of a body,
// -1 when it is empty.
func firstItemStart(b *hclsyntax.Body) int {
	first := -1
	for _, a := range b.Attributes {
		if s := a.SrcRange.Start.Byte; first < 0 || s < first {
			first = s
		}
	}
	for _, blk := range b.Blocks {
		if s := blk.TypeRange.Start.Byte; first < 0 || s < first {
			first = s
		}
	}
	return first
}

// removeBlock deletes blk: its lines, the comment lines directly above it
// (they describe it), and a blank line that would otherwise double up.
func removeBlock(src []byte, blk *hclsyntax.Block) []byte {
	start, end := blk.TypeRange.Start.Byte, blk.CloseBraceRange.End.Byte
	ls := lineStart(src, start)
	if !isBlank(src[ls:start]) {
		// Something precedes the block on its line: cut the block only.
		return append(append([]byte{}, src[:start]...), bytes.TrimLeft(src[end:], " \t")...)
	}
	start = ls
	// Comment lines directly above: #, // and /* … */ comments.
	for start > 0 {
		prev := lineStart(src, start-1)
		line := strings.TrimSpace(string(src[prev:start]))
		if strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") || strings.HasPrefix(line, "/*") && strings.HasSuffix(line, "*/") {
			start = prev
			continue
		}
		if !strings.HasSuffix(line, "*/") {
			break
		}
		// The last line of a multi-line /* */ comment: find its first.
		open := bytes.LastIndex(src[:prev], []byte("/*"))
		if open < 0 || !isBlank(src[lineStart(src, open):open]) {
			break
		}
		start = lineStart(src, open)
	}
	// The rest of the closing line, when only a comment or nothing follows.
	le := lineEnd(src, end)
	if rest := strings.TrimSpace(string(src[end:le])); rest == "" || strings.HasPrefix(rest, "#") || strings.HasPrefix(rest, "//") {
		end = le
	}
	before, after := src[:start], src[end:]
	// Drop one blank line when the removal leaves two in a row, or a blank
	// line right before a closing brace.
	prevBlank := bytes.HasSuffix(before, []byte("\n\n"))
	nextLine := after[:lineEnd(after, 0)]
	if prevBlank && (isBlank(nextLine) || bytes.HasPrefix(bytes.TrimSpace(nextLine), []byte("}"))) {
		before = before[:len(before)-1]
	}
	out := append(append([]byte{}, before...), after...)
	return out
}
