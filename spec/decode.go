package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
)

// The raw* types mirror the HCL schema (schema.go) one to one, with the
// ranges of every attribute that a later semantic check may need to point at.
// Optional attributes are pointers so "omitted" and "zero" stay apart.

type rawFile struct {
	Clusters []*rawCluster
	Shards   []*rawShard
	Tenants  []*rawTenant
}

type rawCluster struct {
	Name                 string
	NameRange            span
	ULAPrefix            *string
	ULAPrefixRange       span
	MaxDaemonsPerWebroot *int
	MaxDaemonsRange      span
	DefRange             span
}

type rawShard struct {
	Name      string
	NameRange span
	Nodes     []*rawNode
	DefRange  span
}

type rawNode struct {
	Name        string
	NameRange   span
	Index       int
	IndexRange  span
	Weight      *float64
	WeightRange span
	Drain       *bool
	// AgeRecipient is the node key's public half (secret package).
	AgeRecipient      *string
	AgeRecipientRange span
	DefRange          span
}

type rawTenant struct {
	Name       string
	NameRange  span
	UID        int64 // checked against MinUID..MaxUID before it becomes a uint32
	UIDRange   span
	Shard      string
	ShardRange span
	Webroots   []*rawWebroot
	DefRange   span
	built      *Tenant // see build_local.go
}

type rawWebroot struct {
	Name              string
	NameRange         span
	ServerNames       []string
	ServerNamesRange  span
	PublicFolder      *string
	PublicFolderRange span
	Daemons           []*rawDaemon // until the webroot is built, then daemons
	DefRange          span
	built             *Webroot      // nil for a duplicate block
	daemons           []builtDaemon // in block order
}

type rawDaemon struct {
	Name      string
	NameRange span
	// attrs are the attributes written, in DaemonFields order; the
	// environment is kept apart.
	attrs []rawAttr
	// Environment is the environment's expression while the file is
	// decoded; env is its value after.
	Environment hcl.Expression
	env         []envEntry
	// health is the health block as written, nil without one.
	health   *rawHealth
	DefRange span
	// built is the daemon's model (nil for a duplicate block); placed
	// are the attributes whose check needs the tenant's shard, which Build
	// runs (attrs and env are dropped once built).
	built  *Daemon
	placed []rawAttr
	sealed []sealedEnv
}

// rawAttr is one attribute of a daemon block as written: the slot of its
// type holds the value. Range is the value's range, kept even when the
// value was unsuitable (reported), which marks it failed (File.failedAt).
type rawAttr struct {
	field int // index in DaemonFields
	Range span
	Str   string
	Int   int
	Bool  bool
}

// get returns the attribute f as written, or nil.
func (r *rawDaemon) get(f *DaemonField) *rawAttr {
	for i := range r.attrs {
		if r.attrs[i].field == f.index {
			return &r.attrs[i]
		}
	}
	return nil
}

// rangeOf is the span of attribute f's value; zero when it is absent.
func (r *rawDaemon) rangeOf(f *DaemonField) span {
	if a := r.get(f); a != nil {
		return a.Range
	}
	return span{}
}

// envEntry is one environment variable with the ranges of its key and value.
type envEntry struct {
	Key, Value           string
	KeyRange, ValueRange span
}

// File is one decoded config file: a fragment of a Config, not yet merged or
// validated. Files are immutable once parsed, so a caller may cache them (by
// Git blob hash, say) and build a new Config from a mix of old and new Files.
type File struct {
	Name string
	// src is the file's content: the parsed form is dropped after decoding
	// (it is most of a large repository's memory) and parsed again only to
	// print diagnostics (see NewSources). A Loader lets go of the content
	// of a file that decoded without a word, and keeps how to read it
	// again (reread) for a diagnostic of a later Build; see text.
	src    []byte
	reread func() ([]byte, error)
	size   int // of the content

	raw    rawFile
	parsed bool // false when the syntax was invalid; raw is then empty
	// unparsable: a bound was exceeded (too large, too deep, not a regular
	// file) and the file must never reach a parser, not even to print
	// diagnostics.
	unparsable bool
	failed     bool   // decoding reported an error; Build then returns no Config
	errs       []span // where decoding failed; see failedAt
}

// text is the file's content, read again if it was let go; nil when that
// fails.
func (f *File) text() []byte {
	if f.src != nil || f.reread == nil {
		return f.src
	}
	data, err := f.reread()
	if err != nil {
		return nil
	}
	return data
}

// failedAt reports whether decoding already failed inside rng, or rng is
// empty because a required attribute is missing (also reported by decoding),
// so a semantic check of the (zero) value there would only add noise.
func (f *File) failedAt(rng span) bool {
	if rng.missing() {
		return true
	}
	for _, r := range f.errs {
		if rng.contains(r) {
			return true
		}
	}
	return false
}

// IsConfigFile reports whether a file name is part of a configuration.
func IsConfigFile(name string) bool {
	return strings.HasSuffix(name, ".hcl") || strings.HasSuffix(name, ".hcl.json")
}

// ParseFile parses and decodes one file. name is used in diagnostics and
// should be the path relative to the config root. The returned File is
// non-nil whenever the syntax could be parsed, even with decode errors.
func ParseFile(name string, src []byte) (*File, hcl.Diagnostics) {
	if d := checkDepth(name, src); d != nil {
		// Never parsed, not even to print the diagnostic (HCLFiles).
		return &File{Name: name, src: src, unparsable: true}, hcl.Diagnostics{d}
	}
	body, diags := parseBody(name, src)
	if body == nil || diags.HasErrors() {
		return &File{Name: name, src: src}, diags
	}
	f := &File{Name: name, src: src, parsed: true}
	dec := &decoder{}
	f.raw = dec.file(body)
	diags = append(diags, explainDecode(dec.diags)...)
	for _, t := range f.raw.Tenants {
		for _, w := range t.Webroots {
			for _, d := range w.Daemons {
				entries, envDiags := decodeEnvironment(d.Environment)
				diags = append(diags, envDiags...)
				diags = append(diags, checkDaemonBounds(name, d, entries)...)
				d.env = entries
				d.Environment = nil // the last reference into the syntax tree
			}
		}
	}
	// A value that failed to decode is not checked again (failedAt).
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject != nil && d.Subject.Filename == name {
			f.errs = append(f.errs, spanOf(*d.Subject))
		}
	}
	for _, t := range f.raw.Tenants {
		diags = append(diags, f.buildTenant(t)...)
	}
	f.failed = diags.HasErrors()
	return f, diags
}

// parseBody parses a file to decode it: a file in the plain form by
// quickParse, any other (and every JSON file) by HCL's parser, which then
// reports what is wrong.
func parseBody(name string, src []byte) (hcl.Body, hcl.Diagnostics) {
	if !strings.HasSuffix(name, ".json") {
		if body, ok := quickParse(name, src); ok {
			return body, nil
		}
	}
	hf, diags := parse(name, src)
	if hf == nil || hf.Body == nil {
		return nil, diags
	}
	return hf.Body, diags
}

// parse parses a file in the syntax its name says.
func parse(name string, src []byte) (*hcl.File, hcl.Diagnostics) {
	p := hclparse.NewParser()
	if strings.HasSuffix(name, ".json") {
		return p.ParseJSON(src, name)
	}
	return p.ParseHCL(src, name)
}

// decodeEnvironment reads the environment map keeping each key's range.
func decodeEnvironment(expr hcl.Expression) ([]envEntry, hcl.Diagnostics) {
	if expr == nil {
		return nil, nil
	}
	if diags := checkLiteral(expr); diags.HasErrors() {
		return nil, explainDecode(diags)
	}
	// environment = null means none. (A map in native syntax is never null:
	// evaluating it only to learn that costs a tenth of decoding.)
	if _, isMap := expr.(*hclsyntax.ObjectConsExpr); !isMap {
		if v, d := expr.Value(nil); !d.HasErrors() && v.IsNull() {
			return nil, nil
		}
	}
	pairs, diags := hcl.ExprMap(expr)
	if diags.HasErrors() {
		rng := expr.Range()
		return nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Invalid environment",
			Detail:   "The environment must be a map of names to strings, like { APP_ENV = \"production\" }.",
			Subject:  &rng,
		}}
	}
	var out []envEntry
	for _, kv := range pairs {
		var e envEntry
		keyRange, valueRange := kv.Key.Range(), kv.Value.Range()
		e.KeyRange, e.ValueRange = spanOf(keyRange), spanOf(valueRange)
		if k := hcl.ExprAsKeyword(kv.Key); k != "" {
			e.Key = k
		} else if d := gohcl.DecodeExpression(kv.Key, nil, &e.Key); d.HasErrors() {
			diags = append(diags, explainDecode(d)...)
			continue
		}
		if s, ok := literalString(kv.Value); ok {
			e.Value = s
			out = append(out, e)
			continue
		}
		v, d := kv.Value.Value(nil)
		if d.HasErrors() {
			diags = append(diags, explainDecode(d)...)
			continue
		}
		s, err := envString(v)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Invalid environment value",
				Detail:   fmt.Sprintf("The value of %s %s. Write it as a string, in quotes.", e.Key, err),
				Subject:  &valueRange,
			})
			continue
		}
		e.Value = s
		out = append(out, e)
	}
	return out, diags
}

// envString converts an environment value to its string form. Numbers and
// booleans are accepted as their HCL string conversion; anything else is not.
func envString(v cty.Value) (string, error) {
	if v.IsNull() {
		return "", fmt.Errorf("is null")
	}
	if !v.IsKnown() {
		return "", fmt.Errorf("is not known")
	}
	switch v.Type() {
	case cty.String:
		return v.AsString(), nil
	case cty.Number, cty.Bool:
		var s string
		if err := gohcl.DecodeExpression(hcl.StaticExpr(v, hcl.Range{}), nil, &s); err.HasErrors() {
			return "", fmt.Errorf("cannot be converted to a string")
		}
		return s, nil
	}
	return "", fmt.Errorf("is a %s, not a string", v.Type().FriendlyName())
}

// explainDecode adds drover-specific hints to HCL's own decode diagnostics.
func explainDecode(diags hcl.Diagnostics) hcl.Diagnostics {
	out := diags[:0]
	for _, d := range diags {
		if d.Summary == "Unsuitable value type" && strings.HasSuffix(d.Detail, "value must be known") {
			continue // always follows the "Variables not allowed" error for the same value
		}
		out = append(out, d)
		switch d.Summary {
		case "Variables not allowed":
			d.Detail += ` drover config files have no variables: "${" starts an HCL interpolation. To pass a literal "${NAME}" to the shell, write "$${NAME}" ("$NAME" needs no escaping).`
		case "Function calls not allowed":
			d.Detail += " drover config files are plain data; write the value itself."
		}
	}
	return out
}

// Failed reports whether the file had syntax or decode errors; such a file
// is worth parsing again rather than caching.
func (f *File) Failed() bool { return !f.parsed || f.failed }
