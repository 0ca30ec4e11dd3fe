package review

import (
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/spec"
)

// Report is what `drover plan` prints: the two revisions, the head's
// diagnostics and, when the head is valid, the plan.
type Report struct {
	Base, Head Revision
	// Node is the --node filter, "" for every node.
	Node string
	// Diagnostics of the head revision, errors first.
	Diagnostics []Diagnostic
	// DiagnosticText is the diagnostics as drover validate prints them,
	// with source snippets.
	DiagnosticText string
	// Notes are remarks about the comparison, such as an invalid base.
	Notes []string
	// Plan is nil when the head is invalid.
	Plan *Plan
}

// Revision describes one side of the comparison.
type Revision struct {
	// Label is how the revision was chosen: a branch, a revision
	// expression, or "working tree".
	Label string
	// Commit is the full commit hash ("" when none); for the working tree,
	// the commit checked out.
	Commit string
	// Note adds context: "merge base with main", "uncommitted changes".
	Note string
}

func (r Revision) String() string {
	s := r.Label
	var extra []string
	if r.Commit != "" {
		extra = append(extra, r.Commit[:min(7, len(r.Commit))])
	}
	if r.Note != "" {
		extra = append(extra, r.Note)
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

// Valid reports whether the head revision is valid.
func (r *Report) Valid() bool { return r.Plan != nil }

// Changed reports whether any node changes.
func (r *Report) Changed() bool { return r.Plan != nil && r.Plan.Changed() }

// Diagnostic is one validation message of the head revision.
type Diagnostic struct {
	Severity string // "error" or "warning"
	Summary  string
	Detail   string
	// File, Line and Column locate the start of the offending range;
	// File is relative to the config root, empty when the diagnostic has
	// no location.
	File   string
	Line   int
	Column int
}

// Diagnostics converts HCL diagnostics, errors first, and renders their
// text with source snippets as p prints them. The list holds every
// diagnostic, whatever p leaves out of the text.
func Diagnostics(files spec.Sources, diags hcl.Diagnostics, p spec.DiagnosticPrinter) ([]Diagnostic, string) {
	sorted := spec.SortDiagnostics(diags)
	out := make([]Diagnostic, 0, len(sorted))
	for _, d := range sorted {
		x := Diagnostic{Severity: "warning", Summary: d.Summary, Detail: d.Detail}
		if d.Severity == hcl.DiagError {
			x.Severity = "error"
		}
		if d.Subject != nil {
			x.File, x.Line, x.Column = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
		}
		out = append(out, x)
	}
	var sb strings.Builder
	if len(sorted) > 0 {
		_ = p.Write(&sb, files, sorted)
	}
	return out, sb.String()
}

// errorCount counts error diagnostics.
func (r *Report) errorCount() int {
	n := 0
	for _, d := range r.Diagnostics {
		if d.Severity == "error" {
			n++
		}
	}
	return n
}
