package spec

import "github.com/hashicorp/hcl/v2"

// span is a source range inside one file, without the file's name: the
// decoded form of a repository keeps one for every value written (a
// 100,000-daemon repository has well over a million), and an hcl.Range —
// 64 bytes holding a pointer the garbage collector follows — made up most
// of the decoded memory. A span is 24 bytes and holds no pointer; the File
// that owns it supplies the name (File.rng).
type span struct{ start, end spanPos }

// spanPos is hcl.Pos in 32-bit fields: a config file is at most
// MaxFileBytes long.
type spanPos struct{ line, column, byte int32 }

// spanOf is the span of r (whose Filename is dropped).
func spanOf(r hcl.Range) span {
	return span{
		start: spanPos{int32(r.Start.Line), int32(r.Start.Column), int32(r.Start.Byte)},
		end:   spanPos{int32(r.End.Line), int32(r.End.Column), int32(r.End.Byte)},
	}
}

// in is the span as an hcl.Range of the file named name.
func (s span) in(name string) hcl.Range {
	return hcl.Range{
		Filename: name,
		Start:    hcl.Pos{Line: int(s.start.line), Column: int(s.start.column), Byte: int(s.start.byte)},
		End:      hcl.Pos{Line: int(s.end.line), Column: int(s.end.column), Byte: int(s.end.byte)},
	}
}

// missing reports whether s is the zero span: the attribute was not written.
// Every written value starts on line 1 or later.
func (s span) missing() bool { return s.start.line == 0 }

// contains reports whether o lies inside s.
func (s span) contains(o span) bool { return o.start.byte >= s.start.byte && o.end.byte <= s.end.byte }

// rng is a span of f as an hcl.Range, for a diagnostic.
func (f *File) rng(s span) hcl.Range { return s.in(f.Name) }
