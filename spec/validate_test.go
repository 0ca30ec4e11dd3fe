package spec_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/spec"
)

// The file names of the valid base repository every validation case starts
// from. A case overlays files on it (or drops some) to break exactly one rule.
const (
	clusterFile = "cluster.hcl"
	shardFile   = "shards/web-1.hcl"
	tenantFile  = "tenants/acme.hcl"
)

// baseRepo returns a valid repo: cluster osl-1, shard web-1 with nodes web-1a
// (index 1) and web-1b (index 2), tenant acme (uid 10042) with webroot main
// and daemon worker.
func baseRepo() map[string]string {
	return map[string]string{
		clusterFile: `cluster "osl-1" {}` + "\n",
		shardFile:   shard(`node "web-1a" { index = 1 }`, `node "web-1b" { index = 2 }`),
		tenantFile:  daemon(),
	}
}

// block returns `header {` with each line indented below it and a closing
// brace: the first line is on line 2.
func block(header string, lines ...string) string {
	var b strings.Builder
	b.WriteString(header + " {\n")
	for _, l := range lines {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("}\n")
	return b.String()
}

// cluster returns cluster.hcl with attrs from line 2.
func cluster(attrs ...string) string { return block(`cluster "osl-1"`, attrs...) }

// shard returns shards/web-1.hcl with node lines from line 2.
func shard(nodes ...string) string { return block(`shard "web-1"`, nodes...) }

// daemon returns tenants/acme.hcl whose daemon "worker" has the extra
// attribute lines attrs, the first of them on line 7.
func daemon(attrs ...string) string { return daemonCmd(`"app --port=$PORT"`, attrs...) }

// daemonCmd is daemon with the command expression cmd on line 6.
func daemonCmd(cmd string, attrs ...string) string {
	var b strings.Builder
	b.WriteString(`tenant "acme" {
  uid   = 10042
  shard = "web-1"
  webroot "main" {
    daemon "worker" {
      command = ` + cmd + "\n")
	for _, a := range attrs {
		b.WriteString("      " + a + "\n")
	}
	b.WriteString("    }\n  }\n}\n")
	return b.String()
}

// webroot returns tenants/acme.hcl whose webroot "main" has the extra
// attribute lines attrs, the first of them on line 5.
func webroot(attrs ...string) string {
	var b strings.Builder
	b.WriteString(`tenant "acme" {
  uid   = 10042
  shard = "web-1"
  webroot "main" {
`)
	for _, a := range attrs {
		b.WriteString("    " + a + "\n")
	}
	b.WriteString(`    daemon "worker" { command = "app" }` + "\n  }\n}\n")
	return b.String()
}

// wantDiag is one expected diagnostic. file and line are those of its
// Subject ("" and 0 when it has none), and col too unless it is 0; detail is
// a substring of its Detail.
type wantDiag struct {
	severity hcl.DiagnosticSeverity
	summary  string
	detail   string
	file     string
	line     int
	col      int
}

// atCol is w with its Subject's column checked too.
func (w wantDiag) atCol(col int) wantDiag {
	w.col = col
	return w
}

func errAt(file string, line int, summary, detail string) wantDiag {
	return wantDiag{severity: hcl.DiagError, summary: summary, detail: detail, file: file, line: line}
}

func warnAt(file string, line int, summary, detail string) wantDiag {
	return wantDiag{severity: hcl.DiagWarning, summary: summary, detail: detail, file: file, line: line}
}

func (w wantDiag) matches(d *hcl.Diagnostic) bool {
	file, line, col := "", 0, 0
	if d.Subject != nil {
		file, line, col = d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column
	}
	return d.Severity == w.severity && d.Summary == w.summary &&
		strings.Contains(d.Detail, w.detail) && file == w.file && line == w.line &&
		(w.col == 0 || col == w.col)
}

func (w wantDiag) String() string {
	sev := "error"
	if w.severity == hcl.DiagWarning {
		sev = "warning"
	}
	return fmt.Sprintf("%s %q at %s:%d,%d, detail containing %q", sev, w.summary, w.file, w.line, w.col, w.detail)
}

func formatDiag(d *hcl.Diagnostic) string {
	at := "(no subject)"
	if d.Subject != nil {
		at = fmt.Sprintf("%s:%d,%d", d.Subject.Filename, d.Subject.Start.Line, d.Subject.Start.Column)
	}
	sev := "error"
	if d.Severity == hcl.DiagWarning {
		sev = "warning"
	}
	return fmt.Sprintf("%s %q at %s: %s", sev, d.Summary, at, d.Detail)
}

// A 129-character proxy path, one over the limit, and a 128-character one.
var (
	longPath  = "/" + strings.Repeat("a", 128)
	limitPath = "/" + strings.Repeat("a", 127)
)

// validateCase is a repo that breaks one rule and the diagnostics it must
// produce, no more and no fewer.
type validateCase struct {
	name  string
	files map[string]string // overlaid on baseRepo
	drop  []string          // base files to remove
	want  []wantDiag        // empty: the repo is valid
}

// validateCases has one case per validation rule (a few rules have a case per
// kind of bad input).
var validateCases = []validateCase{
	// Repository structure.
	{
		name: "no files",
		drop: []string{clusterFile, shardFile, tenantFile},
		want: []wantDiag{errAt("", 0, "No configuration files", "No *.hcl or *.hcl.json files")},
	},
	{
		name: "missing cluster",
		drop: []string{clusterFile},
		want: []wantDiag{errAt("", 0, "Missing cluster block", `cluster "osl-1" {}`)},
	},
	{
		name:  "duplicate cluster",
		files: map[string]string{"other.hcl": `cluster "osl-2" {}`},
		want:  []wantDiag{errAt("other.hcl", 1, "Duplicate cluster block", "another is declared at cluster.hcl:1")},
	},
	{
		// The tenant names a shard declared in the broken file: no "Unknown
		// shard" follows the syntax error.
		name:  "syntax error suppresses cross-file errors",
		files: map[string]string{shardFile: "shard \"web-1\" {\n  node \"web-1a\" { index = 1 }\n"},
		want:  []wantDiag{errAt(shardFile, 1, "Unclosed configuration block", "no closing brace")},
	},

	// HCL-level errors, each without follow-up noise from the zero value.
	{
		name:  "unknown attribute",
		files: map[string]string{tenantFile: daemon(`colour = "red"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Unsupported argument", `An argument named "colour" is not expected here.`)},
	},
	{
		name:  "unknown block type",
		files: map[string]string{tenantFile: daemon(`location "/" {}`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Unsupported block type", `Blocks of type "location" are not expected here.`)},
	},
	{
		name:  "unknown top-level block",
		files: map[string]string{"vars.hcl": `variable "x" {}`},
		want:  []wantDiag{errAt("vars.hcl", 1, "Unsupported block type", `Blocks of type "variable"`)},
	},
	{
		name:  "missing label",
		files: map[string]string{"tenants/zeta.hcl": block(`tenant`, `uid = 10043`, `shard = "web-1"`)},
		want:  []wantDiag{errAt("tenants/zeta.hcl", 1, "Missing name for tenant", "must have 1 labels")},
	},
	{
		name:  "missing required attribute",
		files: map[string]string{shardFile: shard(`node "web-1a" { index = 1 }`, `node "web-1b" {}`)},
		want:  []wantDiag{errAt(shardFile, 3, "Missing required argument", `The argument "index" is required`)},
	},
	{
		name:  "missing command",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`, `webroot "main" {`, `daemon "worker" {}`, `}`)},
		want:  []wantDiag{errAt(tenantFile, 5, "Missing required argument", `The argument "command" is required`)},
	},
	{
		name:  "wrong value type",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = "many"`, `shard = "web-1"`)},
		want:  []wantDiag{errAt(tenantFile, 2, "Unsuitable value type", "a number is required")},
	},
	{
		name:  "fractional number",
		files: map[string]string{tenantFile: daemon(`num_procs = 1.5`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Unsuitable value type", "must be a whole number")},
	},
	{
		name:  "weight out of float64 range",
		files: map[string]string{shardFile: shard(`node "web-1a" { index = 1 }`, `node "web-1b" {`, `  index  = 2`, `  weight = 1e400`, `}`)},
		want:  []wantDiag{errAt(shardFile, 5, "Unsuitable value type", "value must be between")},
	},
	{
		name:  "attribute set twice",
		files: map[string]string{tenantFile: daemon(`num_procs = 2`, `num_procs = 3`)},
		want:  []wantDiag{errAt(tenantFile, 8, "Attribute redefined", "already set at tenants/acme.hcl:7,")},
	},
	{
		name:  "variables not allowed",
		files: map[string]string{tenantFile: daemonCmd(`"app --port=${PORT}"`)},
		want:  []wantDiag{errAt(tenantFile, 6, "Variables not allowed", `write "$${NAME}"`)},
	},
	{
		name:  "variable in shard",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = var.shard`)},
		want:  []wantDiag{errAt(tenantFile, 3, "Variables not allowed", "no variables")},
	},
	{
		name:  "function calls not allowed",
		files: map[string]string{tenantFile: daemonCmd(`upper("app")`)},
		want:  []wantDiag{errAt(tenantFile, 6, "Function calls not allowed", "plain data")},
	},

	// Names.
	{
		name:  "cluster name",
		files: map[string]string{clusterFile: `cluster "OSL-1" {}`},
		want:  []wantDiag{errAt(clusterFile, 1, "Invalid cluster name", `The cluster name "OSL-1" is not valid.`)},
	},
	{
		name:  "shard name",
		files: map[string]string{"shards/bad.hcl": block(`shard "-web"`, `node "web-9a" { index = 9 }`)},
		want:  []wantDiag{errAt("shards/bad.hcl", 1, "Invalid shard name", `The shard name "-web" is not valid.`)},
	},
	{
		name:  "node name",
		files: map[string]string{shardFile: shard(`node "web-1a" { index = 1 }`, `node "web.1b" { index = 2 }`)},
		want:  []wantDiag{errAt(shardFile, 3, "Invalid node name", `The node name "web.1b" is not valid.`)},
	},
	{
		name:  "tenant name starting with a digit",
		files: map[string]string{"tenants/zeta.hcl": block(`tenant "1zeta"`, `uid = 10043`, `shard = "web-1"`)},
		want:  []wantDiag{errAt("tenants/zeta.hcl", 1, "Invalid tenant name", `"1zeta" is not a valid Linux user name`)},
	},
	{
		name:  "tenant name of 33 characters",
		files: map[string]string{"tenants/zeta.hcl": block(`tenant "`+strings.Repeat("z", 33)+`"`, `uid = 10043`, `shard = "web-1"`)},
		want:  []wantDiag{errAt("tenants/zeta.hcl", 1, "Invalid tenant name", "Use 1 to 32 characters")},
	},
	{
		name:  "webroot name",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`, `webroot "Main" {}`)},
		want:  []wantDiag{errAt(tenantFile, 4, "Invalid webroot name", `The webroot name "Main" is not valid.`)},
	},
	{
		name:  "daemon name",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`, `webroot "main" {`, `daemon "_worker" { command = "app" }`, `}`)},
		want:  []wantDiag{errAt(tenantFile, 5, "Invalid daemon name", `The daemon name "_worker" is not valid.`)},
	},

	// Duplicates, naming the other place.
	{
		name:  "duplicate shard across files",
		files: map[string]string{"shards/web-2.hcl": block(`shard "web-1"`, `node "web-2a" { index = 9 }`)},
		want:  []wantDiag{errAt("shards/web-2.hcl", 1, "Duplicate shard", "also declared at shards/web-1.hcl:1")},
	},
	{
		name:  "duplicate node across shards",
		files: map[string]string{"shards/web-2.hcl": block(`shard "web-2"`, `node "web-1a" { index = 9 }`)},
		want:  []wantDiag{errAt("shards/web-2.hcl", 2, "Duplicate node", `The node "web-1a" is also declared at shards/web-1.hcl:2.`)},
	},
	{
		name:  "duplicate tenant across files",
		files: map[string]string{"tenants/zeta.hcl": block(`tenant "acme"`, `uid = 10043`, `shard = "web-1"`)},
		want:  []wantDiag{errAt("tenants/zeta.hcl", 1, "Duplicate tenant", `The tenant "acme" is also declared at tenants/acme.hcl:1.`)},
	},
	{
		name:  "duplicate webroot",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`, `webroot "main" {}`, `webroot "main" {}`)},
		want:  []wantDiag{errAt(tenantFile, 5, "Duplicate webroot", "also declared at tenants/acme.hcl:4")},
	},
	{
		name: "duplicate daemon",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`, `webroot "main" {`,
			`daemon "worker" { command = "a" }`, `daemon "worker" { command = "b" }`, `}`)},
		want: []wantDiag{errAt(tenantFile, 6, "Duplicate daemon", "also declared at tenants/acme.hcl:5")},
	},

	// Cluster.
	{
		name:  "ula_prefix not a prefix",
		files: map[string]string{clusterFile: cluster(`ula_prefix = "fd00:5ccd::"`)},
		want:  []wantDiag{errAt(clusterFile, 2, "Invalid ULA prefix", `"fd00:5ccd::" is not an IPv6 prefix`)},
	},
	{
		name:  "ula_prefix /48",
		files: map[string]string{clusterFile: cluster(`ula_prefix = "fd00:5ccd:1::/48"`)},
		want:  []wantDiag{errAt(clusterFile, 2, "Invalid ULA prefix", "must be a /32 inside fd00::/8")},
	},
	{
		name:  "ula_prefix outside fd00::/8",
		files: map[string]string{clusterFile: cluster(`ula_prefix = "fc00:5ccd::/32"`)},
		want:  []wantDiag{errAt(clusterFile, 2, "Invalid ULA prefix", "must be a /32 inside fd00::/8")},
	},
	{
		name:  "ula_prefix IPv4",
		files: map[string]string{clusterFile: cluster(`ula_prefix = "10.0.0.0/32"`)},
		want:  []wantDiag{errAt(clusterFile, 2, "Invalid ULA prefix", "must be a /32 inside fd00::/8")},
	},
	{
		name:  "ula_prefix host bits",
		files: map[string]string{clusterFile: cluster(`ula_prefix = "fd00:5ccd::1/32"`)},
		want:  []wantDiag{errAt(clusterFile, 2, "Invalid ULA prefix", `has host bits set; write the network address "fd00:5ccd::/32"`)},
	},
	{
		name:  "max_daemons_per_webroot 0",
		files: map[string]string{clusterFile: cluster(`max_daemons_per_webroot = 0`)},
		want:  []wantDiag{errAt(clusterFile, 2, "Invalid max_daemons_per_webroot", "between 1 and 10000; it is 0")},
	},
	{
		// A negative limit used to index the daemon slice with it and panic.
		name:  "max_daemons_per_webroot negative",
		files: map[string]string{clusterFile: cluster(`max_daemons_per_webroot = -1`)},
		want:  []wantDiag{errAt(clusterFile, 2, "Invalid max_daemons_per_webroot", "it is -1")},
	},

	// Nodes.
	{
		name:  "node index 0",
		files: map[string]string{shardFile: shard(`node "web-1a" { index = 0 }`, `node "web-1b" { index = 2 }`)},
		want:  []wantDiag{errAt(shardFile, 2, "Invalid node index", "between 1 and 65535; it is 0")},
	},
	{
		name:  "node index 65536",
		files: map[string]string{shardFile: shard(`node "web-1a" { index = 65536 }`, `node "web-1b" { index = 2 }`)},
		want:  []wantDiag{errAt(shardFile, 2, "Invalid node index", "between 1 and 65535; it is 65536")},
	},
	{
		name:  "duplicate node index",
		files: map[string]string{"shards/web-2.hcl": block(`shard "web-2"`, `node "web-2a" { index = 2 }`)},
		want:  []wantDiag{errAt("shards/web-2.hcl", 2, "Duplicate node index", `Index 2 is already used by node "web-1b" at shards/web-1.hcl:3.`)},
	},
	{
		name:  "weight 0",
		files: map[string]string{shardFile: shard(`node "web-1a" { index = 1 }`, `node "web-1b" {`, `  index  = 2`, `  weight = 0`, `}`)},
		want:  []wantDiag{errAt(shardFile, 5, "Invalid node weight", "greater than 0; it is 0")},
	},
	{
		name:  "weight negative",
		files: map[string]string{shardFile: shard(`node "web-1a" { index = 1 }`, `node "web-1b" {`, `  index  = 2`, `  weight = -1.5`, `}`)},
		want:  []wantDiag{errAt(shardFile, 5, "Invalid node weight", "it is -1.5")},
	},

	// Tenants.
	{
		name:  "uid below 1000",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 999`, `shard = "web-1"`)},
		want:  []wantDiag{errAt(tenantFile, 2, "Invalid uid", "between 1000 and 4294967294 (uids below 1000 belong to the system); it is 999")},
	},
	{
		name:  "uid (uid_t)-1",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 4294967295`, `shard = "web-1"`)},
		want:  []wantDiag{errAt(tenantFile, 2, "Invalid uid", "it is 4294967295")},
	},
	{
		name:  "uid 2^32+1000 (would wrap to 1000 in 32 bits)",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 4294968296`, `shard = "web-1"`)},
		want:  []wantDiag{errAt(tenantFile, 2, "Invalid uid", "it is 4294968296")},
	},
	{
		name:  "uid negative",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = -10042`, `shard = "web-1"`)},
		want:  []wantDiag{errAt(tenantFile, 2, "Invalid uid", "it is -10042")},
	},
	{
		name:  "uid beyond 64 bits",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 1e30`, `shard = "web-1"`)},
		want:  []wantDiag{errAt(tenantFile, 2, "Unsuitable value type", "must be a whole number")},
	},
	{
		name:  "uid fractional",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042.5`, `shard = "web-1"`)},
		want:  []wantDiag{errAt(tenantFile, 2, "Unsuitable value type", "must be a whole number")},
	},
	{
		name:  "duplicate uid",
		files: map[string]string{"tenants/zeta.hcl": block(`tenant "zeta"`, `uid = 10042`, `shard = "web-1"`)},
		want:  []wantDiag{errAt("tenants/zeta.hcl", 2, "Duplicate uid", `The uid 10042 is already used by tenant "acme" at tenants/acme.hcl:2.`)},
	},
	{
		name:  "unknown shard",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-9"`)},
		want:  []wantDiag{errAt(tenantFile, 3, "Unknown shard", `The shard "web-9" is not declared. Use one of: "web-1".`)},
	},
	{
		name:  "shard with every node drained",
		files: map[string]string{shardFile: shard(`node "web-1a" {`, `  index = 1`, `  drain = true`, `}`)},
		want:  []wantDiag{errAt(tenantFile, 3, "Shard has no active node", `Every node of shard "web-1" is drained`)},
	},
	{
		name:  "shard without nodes",
		files: map[string]string{"shards/web-2.hcl": `shard "web-2" {}`},
		want:  []wantDiag{errAt("shards/web-2.hcl", 1, "Shard has no nodes", `The shard "web-2" has no node blocks.`)},
	},

	// Webroots.
	{
		name:  "nginx file name collision",
		files: map[string]string{"tenants/a.hcl": tenantWith("a", 2001, "b_c", "d"), "tenants/a_b.hcl": tenantWith("a_b", 2002, "c", "d")},
		want: []wantDiag{errAt("tenants/a_b.hcl", 4, "Conflicting nginx file name",
			`The webroot "a_b/c" and the webroot "a/b_c" at tenants/a.hcl:4 would share the nginx files "locations/a_b_c.conf", "servers/a_b_c.conf" on a node, each overwriting the other's. Rename one of them (nginx files are named {tenant}_{webroot}.conf).`).atCol(11)},
	},
	{
		name:  "server name syntax",
		files: map[string]string{tenantFile: webroot(`server_names = ["acme.example.com", "Acme.example.com"]`)},
		want:  []wantDiag{errAt(tenantFile, 5, "Invalid server name", `"Acme.example.com" is not a host name. Use a name like "example.com" or "*.example.com": dot-separated labels of lower-case letters, digits and '-'. Write it in lower case.`)},
	},
	{
		name:  "server name with an empty label",
		files: map[string]string{tenantFile: webroot(`server_names = ["acme..example.com"]`)},
		want:  []wantDiag{errAt(tenantFile, 5, "Invalid server name", `"acme..example.com" is not a host name.`)},
	},
	{
		name: "duplicate server name across webroots",
		files: map[string]string{
			tenantFile:         webroot(`server_names = ["acme.example.com"]`),
			"tenants/zeta.hcl": block(`tenant "zeta"`, `uid = 10043`, `shard = "web-1"`, `webroot "main" {`, `  server_names = ["www.example.com", "acme.example.com"]`, `}`),
		},
		want: []wantDiag{errAt("tenants/zeta.hcl", 5, "Duplicate server name", `The server name "acme.example.com" is already used at tenants/acme.hcl:5.`)},
	},
	{
		name:  "public_folder ..",
		files: map[string]string{tenantFile: webroot(`public_folder = "../x"`)},
		want:  []wantDiag{errAt(tenantFile, 5, "Invalid public folder", `"../x" is not a relative folder inside the webroot.`)},
	},
	{
		name:  "public_folder absolute",
		files: map[string]string{tenantFile: webroot(`public_folder = "/abs"`)},
		want:  []wantDiag{errAt(tenantFile, 5, "Invalid public folder", `"/abs" is not a relative folder`)},
	},
	{
		name:  "public_folder with a space",
		files: map[string]string{tenantFile: webroot(`public_folder = "a b"`)},
		want:  []wantDiag{errAt(tenantFile, 5, "Invalid public folder", `"a b" is not a relative folder`)},
	},
	{
		name:  "too many daemons in webroot",
		files: map[string]string{clusterFile: cluster(`max_daemons_per_webroot = 2`), tenantFile: daemons(3)},
		want:  []wantDiag{errAt(tenantFile, 7, "Too many daemons in webroot", "The webroot acme/main has 3 daemons; the cluster allows 2 (max_daemons_per_webroot).")},
	},

	// Daemons.
	// Every name a daemon takes on a node (spec.DaemonNames) is unique in the
	// cluster. Exec spec files and memory cgroups are named after programs
	// and processes, so they collide with them.
	{
		name:  "program name collision",
		files: map[string]string{"tenants/a-b.hcl": tenantWith("a-b", 2001, "w", "c"), "tenants/a.hcl": tenantWith("a", 2002, "w", "b-c")},
		want: []wantDiag{errAt("tenants/a.hcl", 5, "Conflicting supervisord program name",
			`The daemon "a/w/b-c" and the daemon "a-b/w/c" at tenants/a-b.hcl:5 would share the supervisord program "daemon-a-b-c", supervisord process "daemon-a-b-c", memory cgroup "drover/daemon-a-b-c" and exec spec file "daemon-a-b-c.json" on a node, each overwriting the other's. Rename one of them (programs are named daemon-{tenant}-{daemon}, and their processes {program}_NN when num_procs > 1).`).atCol(12)},
	},
	{
		name: "program name collision within a tenant",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`,
			`webroot "main" {`, `  daemon "queue" { command = "app" }`, `}`,
			`webroot "shop" {`, `  daemon "queue" { command = "app" }`, `}`)},
		want: []wantDiag{errAt(tenantFile, 8, "Conflicting supervisord program name",
			`The daemon "acme/shop/queue" and the daemon "acme/main/queue" at tenants/acme.hcl:5 would share the supervisord program "daemon-acme-queue",`).atCol(12)},
	},
	{
		// The example: a's b-c runs daemon-a-b-c_00 and _01, and
		// a-b's c_00 is the program daemon-a-b-c_00 with one process of that
		// name; both would set the limit of one memory cgroup.
		name: "process name collision",
		files: map[string]string{
			"tenants/a-b.hcl": tenantWith("a-b", 2001, "w", "c_00"),
			"tenants/a.hcl": block(`tenant "a"`, `uid = 2002`, `shard = "web-1"`, `webroot "w" {`,
				`  daemon "b-c" {`, `    command   = "app"`, `    num_procs = 2`, `  }`, `}`),
		},
		want: []wantDiag{errAt("tenants/a.hcl", 5, "Conflicting supervisord process name",
			`The daemon "a/w/b-c" and the daemon "a-b/w/c_00" at tenants/a-b.hcl:5 would share the supervisord process "daemon-a-b-c_00" and memory cgroup "drover/daemon-a-b-c_00" on a node, each overwriting the other's. Rename one of them (programs are named daemon-{tenant}-{daemon}, and their processes {program}_NN when num_procs > 1).`).atCol(12)},
	},
	{
		// Names are unique in the cluster, not per shard: a tenant may
		// move to another shard.
		name: "program name collision across shards",
		files: map[string]string{
			"shards/web-2.hcl": block(`shard "web-2"`, `node "web-2a" { index = 9 }`),
			"tenants/a-b.hcl":  tenantWith("a-b", 2001, "w", "c"),
			"tenants/a.hcl":    strings.Replace(tenantWith("a", 2002, "w", "b-c"), `"web-1"`, `"web-2"`, 1),
		},
		want: []wantDiag{errAt("tenants/a.hcl", 5, "Conflicting supervisord program name", `The daemon "a/w/b-c" and the daemon "a-b/w/c" at tenants/a-b.hcl:5 would share`).atCol(12)},
	},
	{
		// d_00 with 2 processes runs daemon-a-d_00_00 and _01, d with 2
		// daemon-a-d_00 and _01: no name is shared.
		name: "numbered daemon names without a collision",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`, `webroot "main" {`,
			`  daemon "d" {`, `    command   = "app"`, `    num_procs = 2`, `  }`,
			`  daemon "d_00" {`, `    command   = "app"`, `    num_procs = 2`, `  }`, `}`)},
	},
	{
		name:  "empty command",
		files: map[string]string{tenantFile: daemonCmd(`""`)},
		want:  []wantDiag{errAt(tenantFile, 6, "Empty command", `The daemon "worker" has an empty command.`)},
	},
	{
		name:  "NUL in command",
		files: map[string]string{tenantFile: daemonCmd(`"app\u0000 --port=$PORT"`)},
		want:  []wantDiag{errAt(tenantFile, 6, "NUL character in command", "The command contains a NUL character")},
	},
	{
		name:  "NUL in environment value",
		files: map[string]string{tenantFile: daemon(`environment = { A = "x\u0000" }`)},
		want:  []wantDiag{errAt(tenantFile, 7, "NUL character in environment value", "The environment value contains a NUL character")},
	},
	{
		name:  "environment key syntax",
		files: map[string]string{tenantFile: daemon(`environment = { "1A" = "x" }`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid environment variable name", `"1A" is not a valid variable name.`)},
	},
	{
		name:  "environment key with a dash",
		files: map[string]string{tenantFile: daemon(`environment = { "APP-ENV" = "x" }`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid environment variable name", `"APP-ENV" is not a valid variable name.`)},
	},
	{
		name:  "HOST reserved",
		files: map[string]string{tenantFile: daemon(`environment = { HOST = "::" }`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Reserved environment variable", "HOST is set by drover")},
	},
	{
		name:  "PORT reserved",
		files: map[string]string{tenantFile: daemon(`environment = {`, `  PORT = "8080"`, `}`)},
		want:  []wantDiag{errAt(tenantFile, 8, "Reserved environment variable", "PORT is set by drover")},
	},
	{
		name:  "duplicate environment key",
		files: map[string]string{tenantFile: daemon(`environment = {`, `  A = "1"`, `  "A" = "2"`, `}`)},
		want:  []wantDiag{errAt(tenantFile, 9, "Duplicate environment variable", "A is already set at tenants/acme.hcl:8.")},
	},
	{
		name:  "environment not a map",
		files: map[string]string{tenantFile: daemon(`environment = ["APP_ENV=production"]`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid environment", "must be a map of names to strings")},
	},
	{
		name:  "environment value not a string",
		files: map[string]string{tenantFile: daemon(`environment = { A = ["x"] }`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid environment value", "The value of A is a tuple, not a string.")},
	},
	{
		name:  "proxy_path /",
		files: map[string]string{tenantFile: daemon(`proxy_path = "/"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid proxy path", `cannot take over the whole site ("/")`)},
	},
	proxyPathCase("/app/"),
	proxyPathCase("app"),
	proxyPathCase("//app"),
	proxyPathCase("/a b"),
	proxyPathCase("/a;b"),
	proxyPathCase("/a{"),
	proxyPathCase("/a}"),
	proxyPathCase("/a#b"),
	proxyPathCase(`/a\"b`),
	proxyPathCase("/a'b"),
	proxyPathCase(`/a\\b`),
	proxyPathCase("/$x"),
	proxyPathCase("/%"),
	proxyPathCase(`/a\tb`),
	proxyPathCase(longPath),
	proxyPathCase("/.hidden"),
	proxyPathCase("/app/../etc"),
	{
		name:  "proxy_path of 128 characters",
		files: map[string]string{tenantFile: daemon(`proxy_path = "` + limitPath + `"`)},
	},
	{
		name: "duplicate proxy path",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`, `webroot "main" {`,
			`daemon "a" {`, `  command    = "a $PORT"`, `  proxy_path = "/app"`, `}`,
			`daemon "b" {`, `  command    = "b $PORT"`, `  proxy_path = "/app"`, `}`, `}`)},
		want: []wantDiag{errAt(tenantFile, 11, "Duplicate proxy path", `The proxy path "/app" is already used by daemon "a" at tenants/acme.hcl:7.`)},
	},
	{
		name:  "num_procs 0",
		files: map[string]string{tenantFile: daemon(`num_procs = 0`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid num_procs", "between 1 and 64; it is 0")},
	},
	{
		name:  "num_procs 65",
		files: map[string]string{tenantFile: daemon(`num_procs = 65`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid num_procs", "between 1 and 64; it is 65")},
	},
	{
		name:  "stop_signal unknown",
		files: map[string]string{tenantFile: daemon(`stop_signal = "STOP"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid stop signal", `The stop signal "STOP" is not supported. Use one of TERM, HUP, INT, QUIT, KILL, USR1, USR2.`)},
	},
	{
		name:  "stop_signal SIGTERM",
		files: map[string]string{tenantFile: daemon(`stop_signal = "SIGTERM"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid stop signal", `Did you mean "TERM"?`)},
	},
	{
		name:  "stop_signal lower case",
		files: map[string]string{tenantFile: daemon(`stop_signal = "hup"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid stop signal", `Did you mean "HUP"?`)},
	},
	{
		name:  "stop_wait_secs 0",
		files: map[string]string{tenantFile: daemon(`stop_wait_secs = 0`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid stop_wait_secs", "between 1 and 3600; it is 0")},
	},
	{
		name:  "stop_wait_secs 3601",
		files: map[string]string{tenantFile: daemon(`stop_wait_secs = 3601`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid stop_wait_secs", "between 1 and 3600; it is 3601")},
	},
	{
		name:  "max_memory_mb 15",
		files: map[string]string{tenantFile: daemon(`max_memory_mb = 15`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid max_memory_mb", "at least 16 MB; it is 15")},
	},
	{
		name:  "max_open_files 63",
		files: map[string]string{tenantFile: daemon(`max_open_files = 63`)},
		want: []wantDiag{errAt(tenantFile, 7, "Invalid max_open_files",
			"The limit on open files must be between 64 and 1048576 (the kernel's default fs.nr_open); it is 63. Omit max_open_files").atCol(24)},
	},
	{
		name:  "max_open_files 1048577",
		files: map[string]string{tenantFile: daemon(`max_open_files = 1048577`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid max_open_files", "between 64 and 1048576 (the kernel's default fs.nr_open); it is 1048577.")},
	},
	{
		name:  "max_open_files beyond int64",
		files: map[string]string{tenantFile: daemon(`max_open_files = 1e30`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Unsuitable value type", "must be a whole number, between -9223372036854775808 and 9223372036854775807")},
	},
	{
		name:  "max_open_files not a number",
		files: map[string]string{tenantFile: daemon(`max_open_files = "many"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Unsuitable value type", "a number is required").atCol(25)},
	},
	{
		name:  "max_open_files fractional",
		files: map[string]string{tenantFile: daemon(`max_open_files = 1024.5`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Unsuitable value type", "must be a whole number")},
	},
	{
		name: "max_open_files at its bounds",
		files: map[string]string{tenantFile: daemon(`max_open_files = 64`), "tenants/other.hcl": `tenant "other" {
  uid   = 10043
  shard = "web-1"
  webroot "main" {
    daemon "ws" {
      command        = "app"
      max_open_files = 1048576
    }
  }
}
`},
	},
	{
		name:  "port 9999",
		files: map[string]string{tenantFile: daemon(`proxy_path = "/app"`, `port = 9999`)},
		want:  []wantDiag{errAt(tenantFile, 8, "Invalid port", "between 10000 and 19999; it is 9999")},
	},
	{
		name:  "port 20000",
		files: map[string]string{tenantFile: daemon(`proxy_path = "/app"`, `port = 20000`)},
		want:  []wantDiag{errAt(tenantFile, 8, "Invalid port", "it is 20000")},
	},
	{
		name: "duplicate port in tenant",
		files: map[string]string{tenantFile: block(`tenant "acme"`, `uid = 10042`, `shard = "web-1"`,
			`webroot "main" {`, `daemon "a" {`, `  command    = "a $PORT"`, `  proxy_path = "/a"`, `  port       = 12000`, `}`, `}`,
			`webroot "blog" {`, `daemon "b" {`, `  command    = "b $PORT"`, `  proxy_path = "/b"`, `  port       = 12000`, `}`, `}`)},
		want: []wantDiag{errAt(tenantFile, 15, "Duplicate port", `Port 12000 is already pinned by daemon "a" of the same tenant at tenants/acme.hcl:8.`)},
	},
	{
		name:  "pin to unknown node",
		files: map[string]string{tenantFile: daemon(`node = "web-9z"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Unknown node", `pinned to node "web-9z", which is not in its tenant's shard "web-1". Use one of: "web-1a", "web-1b".`)},
	},
	{
		name: "pin to node of another shard",
		files: map[string]string{
			"shards/web-2.hcl": block(`shard "web-2"`, `node "web-2a" { index = 9 }`),
			tenantFile:         daemon(`node = "web-2a"`),
		},
		want: []wantDiag{errAt(tenantFile, 7, "Unknown node", `not in its tenant's shard "web-1"`)},
	},

	// Warnings: the config is still valid.
	{
		name: "pin to drained node",
		files: map[string]string{
			shardFile:  shard(`node "web-1a" { index = 1 }`, `node "web-1b" {`, `  index = 2`, `  drain = true`, `}`),
			tenantFile: daemon(`node = "web-1b"`),
		},
		want: []wantDiag{warnAt(tenantFile, 7, "Pinned to a drained node", "placed as if unpinned")},
	},
	{
		name:  "proxied command with a fixed port",
		files: map[string]string{tenantFile: daemonCmd(`"app --port=8080"`, `proxy_path = "/app"`)},
		want: []wantDiag{warnAt(tenantFile, 6, "Command listens on a fixed port",
			`The daemon "worker" is proxied at /app, but its command sets port 8080 and never mentions $PORT: nginx sends requests to the port drover allocates, which the daemon finds in $PORT. Listen on $HOST:$PORT, like --port=$PORT.`).atCol(17)},
	},
	{
		name:  "proxied command with a fixed listen address",
		files: map[string]string{tenantFile: daemonCmd(`"gunicorn -b 0.0.0.0:8000 app:app"`, `proxy_path = "/app"`)},
		want:  []wantDiag{warnAt(tenantFile, 6, "Command listens on a fixed port", `its command sets port 8000 and never mentions $PORT`)},
	},
	{
		// A Node.js server reading process.env.PORT: nothing to warn about.
		name:  "proxied command reading PORT itself",
		files: map[string]string{tenantFile: daemonCmd(`"node server.js"`, `proxy_path = "/app"`)},
	},
	{
		name:  "proxied command with the pinned port",
		files: map[string]string{tenantFile: daemonCmd(`"app --port 12000"`, `proxy_path = "/app"`, `port       = 12000`)},
	},
	{
		name:  "port pin without proxy_path",
		files: map[string]string{tenantFile: daemon(`port = 12000`)},
		want:  []wantDiag{warnAt(tenantFile, 7, "Port pin without proxy_path", `The daemon "worker" pins port 12000 but has no proxy_path`)},
	},
	{
		name:  "num_procs above 1 with proxy_path",
		files: map[string]string{tenantFile: daemon(`proxy_path = "/app"`, `num_procs  = 2`)},
		want:  []wantDiag{warnAt(tenantFile, 8, "Several processes share one port", "runs 2 processes that all get the same $HOST:$PORT")},
	},

	// JSON syntax: the same rules, with ranges into the JSON file.
	{
		name:  "JSON valid",
		files: map[string]string{tenantFile + ".json": tenantJSON(`"/app"`)},
		drop:  []string{tenantFile},
	},
	{
		name:  "JSON invalid proxy path",
		files: map[string]string{tenantFile + ".json": tenantJSON(`"/app/"`)},
		drop:  []string{tenantFile},
		want:  []wantDiag{errAt(tenantFile+".json", 11, "Invalid proxy path", `The proxy path "/app/" is not valid.`)},
	},
	{
		name:  "JSON unknown property",
		files: map[string]string{"extra.hcl.json": "{\n  \"tenants\": {}\n}\n"},
		want:  []wantDiag{errAt("extra.hcl.json", 2, "Extraneous JSON object property", `No argument or block type is named "tenants".`)},
	},
	{
		name:  "JSON syntax error",
		files: map[string]string{"extra.hcl.json": "{\n  \"tenant\": nul\n}\n"},
		want:  []wantDiag{errAt("extra.hcl.json", 2, "Invalid JSON keyword", `Did you mean "null"?`)},
	},
}

// proxyPathCase is the case for one invalid proxy_path, given as the
// content of an HCL string literal.
func proxyPathCase(lit string) validateCase {
	name := "proxy_path " + lit
	if len(lit) > 20 {
		name = fmt.Sprintf("proxy_path of %d characters", len(lit))
	}
	return struct {
		name  string
		files map[string]string
		drop  []string
		want  []wantDiag
	}{
		name:  name,
		files: map[string]string{tenantFile: daemon(`proxy_path = "` + lit + `"`)},
		want:  []wantDiag{errAt(tenantFile, 7, "Invalid proxy path", "each starts with '/', then a letter, digit, '_', '~' or '-'")},
	}
}

// tenantWith returns a tenant file: tenant name (uid) with webroot wr (line
// 4) holding daemon d (line 5).
func tenantWith(name string, uid int, wr, d string) string {
	return block(fmt.Sprintf("tenant %q", name), fmt.Sprintf("uid = %d", uid), `shard = "web-1"`,
		fmt.Sprintf("webroot %q {", wr), fmt.Sprintf(`  daemon %q { command = "app" }`, d), "}")
}

// daemons returns tenants/acme.hcl with n daemons in webroot main, daemon i
// (from 0) on line 5+i.
func daemons(n int) string {
	lines := []string{`uid = 10042`, `shard = "web-1"`, `webroot "main" {`}
	for i := range n {
		lines = append(lines, fmt.Sprintf(`  daemon "d%d" { command = "app" }`, i))
	}
	return block(`tenant "acme"`, append(lines, "}")...)
}

// tenantJSON is tenant acme in JSON syntax, its proxy_path (a JSON value) on
// line 11.
func tenantJSON(proxyPath string) string {
	return `{
  "tenant": {
    "acme": {
      "uid": 10042,
      "shard": "web-1",
      "webroot": {
        "main": {
          "daemon": {
            "worker": {
              "command": "app --port=$PORT",
              "proxy_path": ` + proxyPath + `,
              "environment": {"APP_ENV": "production"}
            }
          }
        }
      }
    }
  }
}
`
}

func TestValidate(t *testing.T) { runValidateCases(t, validateCases) }

// runValidateCases loads each case's repository and checks its
// diagnostics, no more and no fewer.
func runValidateCases(t *testing.T, cases []validateCase) {
	seen := map[string]bool{}
	for _, tc := range cases {
		if seen[tc.name] {
			t.Fatalf("duplicate case name %q", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			repo := baseRepo()
			for _, n := range tc.drop {
				delete(repo, n)
			}
			for n, s := range tc.files {
				repo[n] = s
			}
			srcs := map[string][]byte{}
			for n, s := range repo {
				srcs[n] = []byte(s)
			}
			cfg, _, diags := spec.Load(srcs)

			used := make([]bool, len(diags))
			for _, w := range tc.want {
				found := false
				for i, d := range diags {
					if !used[i] && w.matches(d) {
						used[i], found = true, true
						break
					}
				}
				if !found {
					t.Errorf("missing %v", w)
				}
			}
			for i, d := range diags {
				if !used[i] {
					t.Errorf("unexpected %s", formatDiag(d))
				}
			}
			wantErrs := 0
			for _, w := range tc.want {
				if w.severity == hcl.DiagError {
					wantErrs++
				}
			}
			gotErrs := 0
			for _, d := range diags {
				if d.Severity == hcl.DiagError {
					gotErrs++
				}
			}
			if gotErrs != wantErrs {
				t.Errorf("got %d errors, want %d", gotErrs, wantErrs)
			}
			if wantErrs > 0 && cfg != nil {
				t.Errorf("config is non-nil despite errors")
			}
			if wantErrs == 0 && cfg == nil {
				t.Errorf("config is nil without errors")
			}
		})
	}
}
