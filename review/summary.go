package review

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/drover-sh/drover/internal/english"
)

// maxNamed is how many nodes a summary, or programs a node's restarts and
// stops, name before "and N more".
const maxNamed = 8

// Summary is the one-line overview of a plan, such as
// "3 nodes change: web-1a +1 program, web-1b ~1 program; nginx reload on all 3 nodes."
func (p *Plan) Summary() string {
	if len(p.Nodes) == 0 {
		return "No node changes."
	}
	var parts []string
	var programs, nginx, network, added, removed, drained, undrained []string
	for _, n := range p.Nodes {
		if s := n.Programs.String(); s != "" {
			programs = append(programs, n.Name+" "+s)
		}
		if n.NginxReload {
			nginx = append(nginx, n.Name)
		}
		if n.NetworkChange {
			network = append(network, n.Name)
		}
		switch n.Status {
		case NodeAdded:
			added = append(added, n.Name)
		case NodeRemoved:
			removed = append(removed, n.Name)
		}
		for _, s := range n.Settings {
			if s.Field == "drain" && s.New != nil {
				if *s.New == "true" {
					drained = append(drained, n.Name)
				} else {
					undrained = append(undrained, n.Name)
				}
			}
		}
	}
	head := english.Count(len(p.Nodes), "node") + " change"
	if len(p.Nodes) == 1 {
		head = "1 node changes"
	}
	if len(programs) > 0 {
		head += ": " + joinCapped(programs, ", ")
	}
	parts = append(parts, head)
	if len(added) > 0 {
		parts = append(parts, nodeWord(len(added), "new ")+joinCapped(added, ", "))
	}
	if len(removed) > 0 {
		parts = append(parts, nodeWord(len(removed), "removed ")+joinCapped(removed, ", "))
	}
	if len(drained) > 0 {
		parts = append(parts, "drained: "+joinCapped(drained, ", "))
	}
	if len(undrained) > 0 {
		parts = append(parts, "undrained: "+joinCapped(undrained, ", "))
	}
	if len(nginx) > 0 {
		parts = append(parts, "nginx reload on "+p.nodeSet(nginx))
	}
	if len(network) > 0 {
		parts = append(parts, "network change on "+p.nodeSet(network))
	}
	return strings.Join(parts, "; ") + "."
}

// nodeWord is "new node " for one, "2 new nodes: " for more.
func nodeWord(n int, adj string) string {
	if n == 1 {
		return adj + "node "
	}
	return fmt.Sprintf("%d %snodes: ", n, adj)
}

// nodeSet names nodes, or says "both nodes" or "all N nodes".
func (p *Plan) nodeSet(names []string) string {
	if len(names) == p.NodeCount && len(names) > 1 {
		return english.All(len(names), "node")
	}
	return joinCapped(names, ", ")
}

func joinCapped(items []string, sep string) string {
	if len(items) <= maxNamed {
		return strings.Join(items, sep)
	}
	return strings.Join(items[:maxNamed], sep) + " and " + strconv.Itoa(len(items)-maxNamed) + " more"
}

// PlacementNote ends the summary of a plan that changes something: a plan
// compares configured placements, with every node alive. Where the agents
// run a down node's daemons meanwhile (netplan.Cluster.Failover) is the
// state of the live cluster, not a change of the repository.
const PlacementNote = "Placement as configured (every node alive); failovers while a node is down are not shown."

// PlacementConfigured is the placement a plan compares, as the JSON output
// names it.
const PlacementConfigured = "configured"

// DaemonSummary is the second line: "Daemons: 1 added, 2 changed, ...".
func (p *Plan) DaemonSummary() string {
	c := p.Daemons
	return fmt.Sprintf("Daemons: %d added, %d changed, %d removed, %d moved; %s.",
		c.Added, c.Changed, c.Removed, c.Moved, english.Count(c.PortChanges, "port change"))
}

// String is "+1 ~2 -3 programs" (zero parts left out), or "" when no
// program changes.
func (c ProgramCounts) String() string {
	var parts []string
	if c.Added > 0 {
		parts = append(parts, fmt.Sprintf("+%d", c.Added))
	}
	if c.Changed > 0 {
		parts = append(parts, fmt.Sprintf("~%d", c.Changed))
	}
	if c.Removed > 0 {
		parts = append(parts, fmt.Sprintf("-%d", c.Removed))
	}
	if len(parts) == 0 {
		return ""
	}
	word := "programs"
	if c.Added+c.Changed+c.Removed == 1 {
		word = "program"
	}
	return strings.Join(parts, " ") + " " + word
}

// Headline is a node's one-line summary: "-4 programs; nginx reload".
func (n *Node) Headline() string {
	var parts []string
	switch n.Status {
	case NodeAdded:
		parts = append(parts, "new node")
	case NodeRemoved:
		parts = append(parts, "node removed")
	}
	for _, s := range n.Settings {
		switch {
		case s.Field == "drain" && s.New != nil && *s.New == "true":
			parts = append(parts, "drained")
		case s.Field == "drain":
			parts = append(parts, "undrained")
		default:
			parts = append(parts, s.Text())
		}
	}
	if s := n.Programs.String(); s != "" {
		parts = append(parts, s)
	}
	if len(n.Ports) > 0 {
		parts = append(parts, english.Count(len(n.Ports), "port change"))
	}
	if n.NginxReload {
		parts = append(parts, "nginx reload")
	}
	if n.NetworkChange {
		parts = append(parts, "network change")
	}
	if len(parts) == 0 {
		// Something changed that none of the above names: a daemon change
		// that needs no restart, say.
		parts = append(parts, english.Count(len(n.Daemons), "daemon change"))
	}
	return strings.Join(parts, "; ")
}

// ProgramsTo lists the programs that the node's daemon changes do action
// to, in the order of Daemons.
func (n *Node) ProgramsTo(action ProgramAction) []string {
	var out []string
	for _, d := range n.Daemons {
		if d.Action == action {
			out = append(out, d.Program)
		}
	}
	return out
}

// disruption names the programs whose processes a node's change
// interrupts one way: label ("restarts", "stops") and the program names,
// the first maxNamed then "and N more".
type disruption struct{ label, programs string }

// disruptions are the restarts and stops of a node's change, program
// names quoted by quote; none when no process is interrupted.
func (n *Node) disruptions(quote func(string) string) []disruption {
	var out []disruption
	for _, a := range []struct {
		label  string
		action ProgramAction
	}{{"restarts", ProgramRestart}, {"stops", ProgramStop}} {
		names := n.ProgramsTo(a.action)
		if len(names) == 0 {
			continue
		}
		for i := range names {
			names[i] = quote(names[i])
		}
		out = append(out, disruption{a.label, joinCapped(names, ", ")})
	}
	return out
}

// Text is a field change as a phrase: "num_procs: 1 → 2",
// "environment changed: APP_KEY".
func (f FieldChange) Text() string {
	if f.Redacted {
		text := "environment " + f.Change() + ": " + strings.TrimPrefix(f.Field, "environment.")
		if f.Encrypted && f.Change() == "changed" {
			text += " " + EncryptedChanged
		}
		return text
	}
	v := func(s *string) string {
		if s == nil {
			return "unset"
		}
		if f.Field == "command" || f.Field == "proxy_path" {
			return fmt.Sprintf("%q", *s)
		}
		return *s
	}
	return fmt.Sprintf("%s: %s → %s", f.Field, v(f.Old), v(f.New))
}

// Text is a port change as a phrase: "port 16278 → 12000 (pin: pinned to 12000)".
func (pc PortChange) Text() string {
	return fmt.Sprintf("port %d → %d (%s: %s)", pc.Old, pc.New, pc.Reason, pc.Detail)
}

// Text describes a daemon change without its key: "moved from web-1a
// (drain: node web-1a drained); environment changed: KEY".
func (d DaemonChange) Text() string {
	var parts []string
	switch d.Kind {
	case DaemonMovedIn:
		parts = append(parts, fmt.Sprintf("from %s (%s: %s)", d.From, d.Reason, d.Detail))
	case DaemonMovedOut:
		parts = append(parts, fmt.Sprintf("to %s (%s: %s)", d.To, d.Reason, d.Detail))
	}
	for _, f := range d.Fields {
		if f.Field == "port" && d.Port != nil {
			continue // the port change below says it, with the reason
		}
		parts = append(parts, f.Text())
	}
	if d.Port != nil {
		parts = append(parts, d.Port.Text())
	}
	if d.Kind == DaemonChanged && !d.Restart {
		parts = append(parts, "program unchanged")
	}
	return strings.Join(parts, "; ")
}

// Label is the kind as printed: "added", "changed", "moved in", ...
func (k DaemonKind) Label() string { return strings.ReplaceAll(string(k), "-", " ") }
