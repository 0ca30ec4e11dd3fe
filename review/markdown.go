package review

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/drover-sh/drover/internal/english"
)

// Limits that keep a Markdown report postable as one pull-request comment
// (GitHub accepts 65,536 characters) and readable at thousands of changes:
// the summary and tables come first, then the detail up to these caps, with
// a note saying what was left out.
const (
	markdownBudget      = 55000 // bytes of detail before diffs are left out
	markdownMaxNodes    = 50    // rows of the node table
	markdownMaxMoves    = 100   // rows of the moves table
	markdownMaxDaemons  = 40    // daemon lines per node
	markdownMaxList     = 20    // ports, addresses, routes per node
	markdownMaxDiffLine = 150   // lines per file diff
	markdownMaxDiag     = 15000 // bytes of errors
	markdownMaxWarn     = 4000  // bytes of warnings (after the plan)
)

// WriteMarkdown prints the report as a pull-request comment: a summary and
// a table of nodes, the moves, then one collapsible section per node with
// its changes and file diffs, capped to fit a comment.
func WriteMarkdown(w io.Writer, r *Report) error {
	m := &mdWriter{}
	m.report(r)
	bw := bufio.NewWriter(w)
	bw.WriteString(m.sb.String())
	return bw.Flush()
}

type mdWriter struct {
	sb           strings.Builder
	diffsOmitted int // file diffs left out for the budget
}

func (m *mdWriter) printf(format string, args ...any) { fmt.Fprintf(&m.sb, format, args...) }

func (m *mdWriter) report(r *Report) {
	m.printf("## drover plan\n\n")
	m.printf("**Base** %s → **head** %s", mdRevision(r.Base), mdRevision(r.Head))
	if r.Node != "" {
		m.printf(" — node `%s` only", r.Node)
	}
	m.printf("\n\n")
	if r.Plan == nil {
		m.printf("**The head revision is invalid (%s).** Nothing can be planned until it is fixed.\n\n", english.Count(r.errorCount(), "error"))
		m.fenced("text", capText(r.DiagnosticText, markdownMaxDiag))
	}
	for _, n := range r.Notes {
		m.printf("> %s\n\n", mdEscape(n))
	}
	p := r.Plan
	if p == nil {
		return
	}
	m.printf("**%s**\n", mdEscape(p.Summary()))
	if p.Changed() {
		m.printf("%s\n%s\n\n", mdEscape(p.DaemonSummary()), mdEscape(PlacementNote))
		m.nodeTable(p)
		m.moves(p)
		var short []*Node
		for i, n := range p.Nodes {
			left := markdownBudget - m.sb.Len()
			if left < 2000 {
				short = append(short, n)
				continue
			}
			// Share what is left between the nodes still to come, so one
			// node's mass of diffs does not crowd out the others.
			m.node(n, m.sb.Len()+left/(len(p.Nodes)-i))
		}
		m.leftOut(short)
	}
	if r.DiagnosticText != "" {
		m.printf("\n<details><summary>%s</summary>\n\n", english.Count(len(r.Diagnostics), "warning"))
		m.fenced("text", capText(r.DiagnosticText, markdownMaxWarn))
		m.printf("</details>\n")
	}
}

// leftOut ends the comment with what the caps left out.
func (m *mdWriter) leftOut(short []*Node) {
	if len(short) == 0 && m.diffsOmitted == 0 {
		return
	}
	m.printf("---\n\n")
	var left []string
	if m.diffsOmitted > 0 {
		left = append(left, english.Count(m.diffsOmitted, "file diff"))
	}
	if len(short) > 0 {
		left = append(left, "the details of "+english.Count(len(short), "node"))
	}
	m.printf("_This comment leaves out %s to stay within a comment's size. Run `drover plan` (or `drover plan --node NAME`) locally for everything._\n",
		strings.Join(left, " and "))
	if len(short) > 0 {
		m.printf("\n")
		for i, n := range short {
			if i == markdownMaxNodes {
				m.printf("- … and %d more\n", len(short)-i)
				break
			}
			m.printf("- **%s**: %s\n", n.Name, mdEscape(n.Headline()))
		}
	}
}

func mdRevision(r Revision) string {
	s := "`" + r.Label + "`"
	var extra []string
	if r.Commit != "" {
		extra = append(extra, "`"+r.Commit[:min(7, len(r.Commit))]+"`")
	}
	if r.Note != "" {
		extra = append(extra, mdEscape(r.Note))
	}
	if len(extra) > 0 {
		s += " (" + strings.Join(extra, ", ") + ")"
	}
	return s
}

func (m *mdWriter) nodeTable(p *Plan) {
	m.printf("| node | shard | programs | nginx | network | files |\n|---|---|---|---|---|---|\n")
	for i, n := range p.Nodes {
		if i == markdownMaxNodes {
			m.printf("| … and %d more | | | | | |\n", len(p.Nodes)-i)
			break
		}
		programs := n.Programs.String()
		if programs == "" {
			programs = "–"
		}
		nginx, network := "–", "–"
		if n.NginxReload {
			nginx = "reload"
		}
		if n.NetworkChange {
			network = "change"
		}
		name := n.Name
		if n.Status != NodeChanged {
			name += " (" + string(n.Status) + ")"
		}
		m.printf("| %s | %s | %s | %s | %s | %d |\n", name, n.Shard, programs, nginx, network, len(n.Files))
	}
	m.printf("\n")
}

func (m *mdWriter) moves(p *Plan) {
	if len(p.Moves) == 0 {
		return
	}
	m.printf("<details><summary>%s moved</summary>\n\n", english.Count(len(p.Moves), "daemon"))
	m.printf("| daemon | from | to | reason |\n|---|---|---|---|\n")
	for i, mv := range p.Moves {
		if i == markdownMaxMoves {
			m.printf("\n_… and %s (all are in `drover plan --format json`)._\n", english.Count(len(p.Moves)-i, "more move"))
			break
		}
		m.printf("| `%s` | %s | %s | %s: %s |\n", mv.Key, mv.From, mv.To, mv.Reason, mdEscape(mv.Detail))
	}
	m.printf("\n</details>\n\n")
}

// node writes one node's section; its diffs stop at offset limit of the
// comment.
func (m *mdWriter) node(n *Node, limit int) {
	m.printf("<details><summary><b>%s</b> (shard %s): %s</summary>\n\n", n.Name, n.Shard, htmlEscape(n.Headline()))
	for _, d := range n.disruptions(func(s string) string { return "`" + s + "`" }) {
		m.printf("**%s:** %s\n\n", d.label, d.programs)
	}
	for i, d := range n.Daemons {
		if i == markdownMaxDaemons {
			m.printf("- … and %s\n", english.Count(len(n.Daemons)-i, "more daemon change"))
			break
		}
		line := fmt.Sprintf("- **%s** `%s`", d.Kind.Label(), d.Key)
		if s := d.Text(); s != "" {
			line += ": " + mdEscape(s)
		}
		m.printf("%s\n", line)
	}
	list := func(prefix string, items []string) {
		for i, x := range items {
			if i == markdownMaxList {
				m.printf("- … and %d more\n", len(items)-i)
				break
			}
			m.printf("- %s `%s`\n", prefix, x)
		}
	}
	list("address added", n.Addresses.Added)
	list("address removed", n.Addresses.Removed)
	list("route added", n.Routes.Added)
	list("route removed", n.Routes.Removed)
	if len(n.Daemons)+len(n.Addresses.Added)+len(n.Addresses.Removed)+len(n.Routes.Added)+len(n.Routes.Removed) > 0 {
		m.printf("\n")
	}
	omitted := 0
	for _, f := range n.Files {
		diff := capLines(f.Diff, markdownMaxDiffLine)
		if m.sb.Len()+len(diff) > limit {
			omitted++
			continue
		}
		m.fenced("diff", diff)
	}
	if omitted > 0 {
		m.diffsOmitted += omitted
		m.printf("_%s not shown here (comment size): run `drover plan --node %s`._\n\n", english.Count(omitted, "file diff"), n.Name)
	}
	m.printf("</details>\n\n")
}

// fenced writes a fenced code block whose fence is longer than any run of
// backticks in the text, so no content can close it.
func (m *mdWriter) fenced(lang, text string) {
	fence := strings.Repeat("`", max(3, longestRun(text, '`')+1))
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	m.printf("%s%s\n%s%s\n\n", fence, lang, text, fence)
}

func longestRun(s string, c byte) int {
	best, cur := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			cur++
			best = max(best, cur)
		} else {
			cur = 0
		}
	}
	return best
}

// capLines keeps the first n lines of a diff and says how many were cut.
func capLines(s string, n int) string {
	count := 0
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			count++
			if count == n {
				rest := strings.Count(s[i+1:], "\n")
				if rest == 0 {
					return s
				}
				return s[:i+1] + "… " + english.Count(rest, "more line") + "\n"
			}
		}
	}
	return s
}

func capText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := strings.LastIndexByte(s[:n], '\n') + 1
	return s[:cut] + "… " + english.Count(len(s)-cut, "more byte") + " of diagnostics: run drover validate\n"
}

// mdEscape makes text literal in Markdown (and GitHub's HTML).
func mdEscape(s string) string {
	var sb strings.Builder
	for _, r := range s {
		switch r {
		case '\\', '`', '*', '_', '[', ']', '<', '>', '|', '#', '&', '~', '!':
			sb.WriteByte('\\')
		case '\n':
			sb.WriteString(" ")
			continue
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// htmlEscape is for text inside HTML tags (summary lines).
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
