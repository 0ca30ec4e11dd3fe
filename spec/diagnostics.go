package spec

import (
	"fmt"
	"io"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"
)

// Sources gives a diagnostic printer the parsed form of the files its
// diagnostics point into, for source snippets and the "in tenant ..."
// context.
type Sources interface {
	// HCLFile returns the parsed file called name, or nil when there is
	// none.
	HCLFile(name string) *hcl.File
}

// ParsedFiles is Sources over files that are parsed already, such as the
// agent configuration.
type ParsedFiles map[string]*hcl.File

// HCLFile implements Sources.
func (m ParsedFiles) HCLFile(name string) *hcl.File { return m[name] }

// NewSources returns the Sources of decoded config files. Files keep only
// their text, so a file is parsed again when a printed diagnostic points
// into it, and only then: printing costs what is printed, however many
// diagnostics a configuration has.
func NewSources(files []*File) Sources {
	s := &sources{files: make(map[string]*File, len(files)), parsed: map[string]*hcl.File{}}
	for _, f := range files {
		s.files[f.Name] = f
	}
	return s
}

type sources struct {
	files  map[string]*File
	mu     sync.Mutex
	parsed map[string]*hcl.File // nil for a file that does not parse
}

func (s *sources) HCLFile(name string) *hcl.File {
	s.mu.Lock()
	defer s.mu.Unlock()
	if hf, ok := s.parsed[name]; ok {
		return hf
	}
	f, ok := s.files[name]
	if !ok {
		return nil
	}
	hf, _ := parse(name, f.text())
	s.parsed[name] = hf
	return hf
}

// SimilarWarnings is how many warnings with the same summary are printed in
// full unless a printer asks for all; the rest are counted in one line.
const SimilarWarnings = 3

// DiagnosticPrinter prints diagnostics with source snippets, errors first in
// file order, then warnings. Every error is printed; of warnings with the
// same summary (one rule, so one fix) the first SimilarWarnings are, and
// the rest are counted in one line per summary at the end.
type DiagnosticPrinter struct {
	Width uint // wrap details at this width; 0 does not wrap
	Color bool
	// AllWarnings prints every warning in full.
	AllWarnings bool
	// MoreHint ends the line that counts left-out warnings and says how to
	// see them, like "; use --all-warnings to see them".
	MoreHint string
}

// left counts the warnings of one summary that were not printed.
type left struct {
	summary string
	n       int
}

// Write prints diags to w.
func (p DiagnosticPrinter) Write(w io.Writer, src Sources, diags hcl.Diagnostics) error {
	shown, more := p.selectDiags(SortDiagnostics(diags))
	files := map[string]*hcl.File{}
	for _, d := range shown {
		if d.Subject == nil || src == nil {
			continue
		}
		name := d.Subject.Filename
		if _, ok := files[name]; ok {
			continue
		}
		if hf := src.HCLFile(name); hf != nil {
			files[name] = hf
		}
	}
	if err := hcl.NewDiagnosticTextWriter(w, files, p.Width, p.Color).WriteDiagnostics(shown); err != nil {
		return err
	}
	for _, m := range more {
		noun := "warnings"
		if m.n == 1 {
			noun = "warning"
		}
		if _, err := fmt.Fprintf(w, "… and %d more %s like this (%s)%s\n", m.n, noun, m.summary, p.MoreHint); err != nil {
			return err
		}
	}
	return nil
}

// selectDiags returns the sorted diagnostics to print in full, and the
// warnings left out per summary, in the order their summaries first appear.
func (p DiagnosticPrinter) selectDiags(sorted hcl.Diagnostics) (hcl.Diagnostics, []left) {
	if p.AllWarnings {
		return sorted, nil
	}
	shown := make(hcl.Diagnostics, 0, min(len(sorted), 64))
	var more []left
	seen := map[string]int{}  // warnings per summary
	index := map[string]int{} // summary → its entry in more
	for _, d := range sorted {
		if d.Severity == hcl.DiagError {
			shown = append(shown, d)
			continue
		}
		seen[d.Summary]++
		if seen[d.Summary] <= SimilarWarnings {
			shown = append(shown, d)
			continue
		}
		i, ok := index[d.Summary]
		if !ok {
			i = len(more)
			index[d.Summary] = i
			more = append(more, left{summary: d.Summary})
		}
		more[i].n++
	}
	return shown, more
}

// WriteDiagnostics prints diagnostics as a DiagnosticPrinter with the given
// width and colour does: every error, warnings summarised.
func WriteDiagnostics(w io.Writer, src Sources, diags hcl.Diagnostics, width uint, color bool) error {
	return DiagnosticPrinter{Width: width, Color: color}.Write(w, src, diags)
}

// SortDiagnostics orders diagnostics errors first, then by file, line and
// column, so output is stable whatever order files were parsed in.
func SortDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	out := append(hcl.Diagnostics(nil), diags...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity == hcl.DiagError
		}
		ra, rb := rangeOf(a), rangeOf(b)
		if ra.Filename != rb.Filename {
			return ra.Filename < rb.Filename
		}
		return ra.Start.Byte < rb.Start.Byte
	})
	return out
}

func rangeOf(d *hcl.Diagnostic) hcl.Range {
	if d.Subject != nil {
		return *d.Subject
	}
	return hcl.Range{}
}
