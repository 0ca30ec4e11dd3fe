package review

import (
	"encoding/json"
	"io"
)

// SchemaVersion is the version of the JSON output. Fields are only ever
// added within a version; a removal or change of meaning bumps it.
const SchemaVersion = 1

// The JSON types below are the stable interface of `drover plan --format
// json`, documented in the README. Lists are never null, and optional
// values are null rather than missing.

type jsonReport struct {
	SchemaVersion int          `json:"schema_version"`
	Base          jsonRevision `json:"base"`
	Head          jsonRevision `json:"head"`
	Node          *string      `json:"node"`
	Valid         bool         `json:"valid"`
	Changed       bool         `json:"changed"`
	Summary       *string      `json:"summary"`
	// Placement is the placement compared: "configured" (every node
	// alive); null when the head is invalid.
	Placement   *string          `json:"placement"`
	Notes       []string         `json:"notes"`
	Diagnostics []jsonDiagnostic `json:"diagnostics"`
	Daemons     Counts           `json:"daemons"`
	Moves       []jsonMove       `json:"moves"`
	Nodes       []jsonNode       `json:"nodes"`
}

type jsonRevision struct {
	Label  string  `json:"label"`
	Commit *string `json:"commit"`
	Note   *string `json:"note"`
}

// jsonDiagnostic is a Diagnostic; a diagnostic without a location (or a
// detail) has null there.
type jsonDiagnostic struct {
	Severity string  `json:"severity"`
	Summary  string  `json:"summary"`
	Detail   *string `json:"detail"`
	File     *string `json:"file"`
	Line     *int    `json:"line"`
	Column   *int    `json:"column"`
}

type jsonMove struct {
	Key    string `json:"key"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type jsonNode struct {
	Name          string        `json:"name"`
	Shard         string        `json:"shard"`
	Status        string        `json:"status"`
	Headline      string        `json:"headline"`
	Settings      []jsonField   `json:"settings"`
	Programs      ProgramCounts `json:"programs"`
	NginxReload   bool          `json:"nginx_reload"`
	NetworkChange bool          `json:"network_change"`
	Daemons       []jsonDaemon  `json:"daemons"`
	Ports         []jsonPort    `json:"ports"`
	Addresses     ListChange    `json:"addresses"`
	Routes        ListChange    `json:"routes"`
	Files         []jsonFile    `json:"files"`
}

type jsonDaemon struct {
	Key     string      `json:"key"`
	Program string      `json:"program"`
	Change  string      `json:"change"`
	From    *string     `json:"from"`
	To      *string     `json:"to"`
	Reason  *string     `json:"reason"`
	Detail  *string     `json:"detail"`
	Fields  []jsonField `json:"fields"`
	Port    *jsonPort   `json:"port"`
	Restart bool        `json:"restart"`
	Action  *string     `json:"action"`
}

type jsonField struct {
	Field    string  `json:"field"`
	Change   string  `json:"change"`
	Old      *string `json:"old"`
	New      *string `json:"new"`
	Redacted bool    `json:"redacted"`
	// Encrypted: an encrypted environment value on either side.
	Encrypted bool `json:"encrypted,omitempty"`
}

type jsonPort struct {
	Key    string `json:"key"`
	Old    int    `json:"old"`
	New    int    `json:"new"`
	Reason string `json:"reason"`
	Detail string `json:"detail"`
}

type jsonFile struct {
	Root      string `json:"root"`
	Path      string `json:"path"`
	Status    string `json:"status"`
	Additions int    `json:"additions"`
	Deletions int    `json:"deletions"`
	Diff      string `json:"diff"`
}

// WriteJSON prints the report as one indented JSON object.
func WriteJSON(w io.Writer, r *Report) error {
	out := jsonReport{
		SchemaVersion: SchemaVersion,
		Base:          revisionJSON(r.Base),
		Head:          revisionJSON(r.Head),
		Valid:         r.Valid(),
		Changed:       r.Changed(),
		Notes:         nonNil(r.Notes),
		Diagnostics:   make([]jsonDiagnostic, 0, len(r.Diagnostics)),
		Moves:         []jsonMove{},
		Nodes:         []jsonNode{},
		Node:          orNull(r.Node),
	}
	for _, d := range r.Diagnostics {
		out.Diagnostics = append(out.Diagnostics, diagnosticJSON(d))
	}
	if p := r.Plan; p != nil {
		out.Summary, out.Placement = orNull(p.Summary()), orNull(PlacementConfigured)
		out.Daemons = p.Daemons
		for _, m := range p.Moves {
			out.Moves = append(out.Moves, jsonMove{Key: m.Key, From: m.From, To: m.To, Reason: string(m.Reason), Detail: m.Detail})
		}
		for _, n := range p.Nodes {
			out.Nodes = append(out.Nodes, nodeJSON(n))
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func revisionJSON(r Revision) jsonRevision {
	return jsonRevision{Label: r.Label, Commit: orNull(r.Commit), Note: orNull(r.Note)}
}

func diagnosticJSON(d Diagnostic) jsonDiagnostic {
	j := jsonDiagnostic{Severity: d.Severity, Summary: d.Summary, Detail: orNull(d.Detail)}
	if d.File != "" {
		j.File, j.Line, j.Column = &d.File, &d.Line, &d.Column
	}
	return j
}

// orNull is s, or null when s is empty: the JSON has null for an absent
// value, never "".
func orNull(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func nodeJSON(n *Node) jsonNode {
	j := jsonNode{
		Name: n.Name, Shard: n.Shard, Status: string(n.Status), Headline: n.Headline(),
		Settings: fieldsJSON(n.Settings), Programs: n.Programs,
		NginxReload: n.NginxReload, NetworkChange: n.NetworkChange,
		Daemons: []jsonDaemon{}, Ports: []jsonPort{}, Files: []jsonFile{},
		Addresses: ListChange{Added: nonNil(n.Addresses.Added), Removed: nonNil(n.Addresses.Removed)},
		Routes:    ListChange{Added: nonNil(n.Routes.Added), Removed: nonNil(n.Routes.Removed)},
	}
	for _, d := range n.Daemons {
		jd := jsonDaemon{Key: d.Key, Program: d.Program, Change: string(d.Kind), Fields: fieldsJSON(d.Fields), Restart: d.Restart,
			Action: orNull(string(d.Action))}
		if d.Kind == DaemonMovedIn || d.Kind == DaemonMovedOut {
			jd.From, jd.To, jd.Reason, jd.Detail = orNull(d.From), orNull(d.To), orNull(string(d.Reason)), orNull(d.Detail)
		}
		if d.Port != nil {
			p := portJSON(*d.Port)
			jd.Port = &p
		}
		j.Daemons = append(j.Daemons, jd)
	}
	for _, p := range n.Ports {
		j.Ports = append(j.Ports, portJSON(p))
	}
	for _, f := range n.Files {
		j.Files = append(j.Files, jsonFile{Root: string(f.Root), Path: f.Path, Status: string(f.Status),
			Additions: f.Additions, Deletions: f.Deletes, Diff: f.Diff})
	}
	return j
}

func fieldsJSON(fs []FieldChange) []jsonField {
	out := make([]jsonField, 0, len(fs))
	for _, f := range fs {
		jf := jsonField{Field: f.Field, Change: f.Change(), Redacted: f.Redacted, Encrypted: f.Encrypted}
		if !f.Redacted {
			jf.Old, jf.New = f.Old, f.New
		}
		out = append(out, jf)
	}
	return out
}

func portJSON(p PortChange) jsonPort {
	return jsonPort{Key: p.Key, Old: p.Old, New: p.New, Reason: string(p.Reason), Detail: p.Detail}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
