package review

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/drover-sh/drover/internal/english"
)

// ANSI colours for a terminal.
const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiRed   = "\x1b[31m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
)

// WriteText prints the report for a terminal: the summary, the moves, then
// every node with its daemon changes and file diffs. color adds ANSI
// colours.
func WriteText(w io.Writer, r *Report, color bool) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	t := &textWriter{w: bw, color: color}
	t.report(r)
	return bw.Flush()
}

type textWriter struct {
	w     *bufio.Writer
	color bool
}

func (t *textWriter) paint(code, s string) string {
	if !t.color || s == "" {
		return s
	}
	return code + s + ansiReset
}

func (t *textWriter) printf(format string, args ...any) { fmt.Fprintf(t.w, format, args...) }

func (t *textWriter) report(r *Report) {
	t.printf("%s %s → %s\n", t.paint(ansiBold, "drover plan:"), r.Base, r.Head)
	if r.Node != "" {
		t.printf("Only node %s.\n", r.Node)
	}
	if r.Plan == nil {
		// Errors first: nothing else can be shown.
		t.printf("\n%s\n\n", t.paint(ansiRed, fmt.Sprintf("The head revision is invalid (%s): nothing can be planned.", english.Count(r.errorCount(), "error"))))
		t.printf("%s", r.DiagnosticText)
	}
	for _, n := range r.Notes {
		t.printf("\nNote: %s\n", n)
	}
	p := r.Plan
	if p == nil {
		return
	}
	t.plan(p)
	if r.DiagnosticText != "" {
		// Warnings of a valid head come last, as a footnote to the plan.
		t.printf("\n%s\n\n%s", t.paint(ansiBold, english.Count(len(r.Diagnostics), "warning")+":"), r.DiagnosticText)
	}
}

func (t *textWriter) plan(p *Plan) {
	t.printf("\n%s\n", t.paint(ansiBold, p.Summary()))
	if !p.Changed() {
		return
	}
	t.printf("%s\n%s\n", p.DaemonSummary(), PlacementNote)
	if len(p.Moves) > 0 {
		t.printf("\nMoves (%d):\n", len(p.Moves))
		tw := tabwriter.NewWriter(t.w, 0, 0, 2, ' ', 0)
		for _, m := range p.Moves {
			fmt.Fprintf(tw, "  %s\t%s → %s\t%s: %s\n", m.Key, m.From, m.To, m.Reason, m.Detail)
		}
		tw.Flush()
	}
	for _, n := range p.Nodes {
		t.node(n)
	}
}

func (t *textWriter) node(n *Node) {
	t.printf("\n%s %s\n", t.paint(ansiBold, fmt.Sprintf("Node %s (shard %s):", n.Name, n.Shard)), n.Headline())
	for _, d := range n.disruptions(func(s string) string { return s }) {
		t.printf("  %s %s\n", t.paint(ansiRed, d.label+":"), d.programs)
	}
	for _, d := range n.Daemons {
		sign := map[DaemonKind]string{DaemonAdded: "+", DaemonChanged: "~", DaemonMovedIn: ">", DaemonMovedOut: "<", DaemonRemoved: "-"}[d.Kind]
		line := fmt.Sprintf("  %s %-9s %s", sign, d.Kind.Label(), d.Key)
		if s := d.Text(); s != "" {
			line += ": " + s
		}
		switch d.Kind {
		case DaemonAdded, DaemonMovedIn:
			line = t.paint(ansiGreen, line)
		case DaemonRemoved, DaemonMovedOut:
			line = t.paint(ansiRed, line)
		}
		t.printf("%s\n", line)
	}
	for _, a := range n.Addresses.Added {
		t.printf("%s\n", t.paint(ansiGreen, "  + address "+a))
	}
	for _, a := range n.Addresses.Removed {
		t.printf("%s\n", t.paint(ansiRed, "  - address "+a))
	}
	for _, a := range n.Routes.Added {
		t.printf("%s\n", t.paint(ansiGreen, "  + route "+a))
	}
	for _, a := range n.Routes.Removed {
		t.printf("%s\n", t.paint(ansiRed, "  - route "+a))
	}
	if len(n.Files) == 0 {
		return
	}
	t.printf("  files:\n")
	for _, f := range n.Files {
		t.printf("    %-7s %s (+%d -%d)\n", f.Status, f.Name(), f.Additions, f.Deletes)
	}
	for _, f := range n.Files {
		t.printf("\n")
		t.diff(f.Diff)
	}
}

// diff prints a unified diff, coloured on a terminal.
func (t *textWriter) diff(d string) {
	if !t.color {
		t.w.WriteString(d)
		return
	}
	for _, line := range strings.SplitAfter(d, "\n") {
		if line == "" {
			continue
		}
		body := strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "+++ "), strings.HasPrefix(line, "--- "):
			body = t.paint(ansiBold, body)
		case strings.HasPrefix(line, "@@"):
			body = t.paint(ansiCyan, body)
		case strings.HasPrefix(line, "+"):
			body = t.paint(ansiGreen, body)
		case strings.HasPrefix(line, "-"):
			body = t.paint(ansiRed, body)
		}
		t.w.WriteString(body + "\n")
	}
}
