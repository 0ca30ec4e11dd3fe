package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/zclconf/go-cty/cty"
)

// The raw* types mirror the HCL schema one to one. gohcl fills them, with the
// ranges of every attribute that a later semantic check may need to point at.
// Optional attributes are pointers so "omitted" and "zero" stay apart.

type rawFile struct {
	Clusters []*rawCluster `hcl:"cluster,block"`
	Shards   []*rawShard   `hcl:"shard,block"`
	Tenants  []*rawTenant  `hcl:"tenant,block"`
}

type rawCluster struct {
	Name                 string    `hcl:"name,label"`
	NameRange            hcl.Range `hcl:"name,label_range"`
	ULAPrefix            *string   `hcl:"ula_prefix,optional"`
	ULAPrefixRange       hcl.Range `hcl:"ula_prefix,attr_value_range"`
	MaxDaemonsPerWebroot *int      `hcl:"max_daemons_per_webroot,optional"`
	MaxDaemonsRange      hcl.Range `hcl:"max_daemons_per_webroot,attr_value_range"`
	DefRange             hcl.Range `hcl:",def_range"`
}

type rawShard struct {
	Name      string     `hcl:"name,label"`
	NameRange hcl.Range  `hcl:"name,label_range"`
	Nodes     []*rawNode `hcl:"node,block"`
	DefRange  hcl.Range  `hcl:",def_range"`
}

type rawNode struct {
	Name        string    `hcl:"name,label"`
	NameRange   hcl.Range `hcl:"name,label_range"`
	Index       int       `hcl:"index"`
	IndexRange  hcl.Range `hcl:"index,attr_value_range"`
	Weight      *float64  `hcl:"weight,optional"`
	WeightRange hcl.Range `hcl:"weight,attr_value_range"`
	Drain       *bool     `hcl:"drain,optional"`
	DefRange    hcl.Range `hcl:",def_range"`
}

type rawTenant struct {
	Name       string        `hcl:"name,label"`
	NameRange  hcl.Range     `hcl:"name,label_range"`
	UID        int           `hcl:"uid"`
	UIDRange   hcl.Range     `hcl:"uid,attr_value_range"`
	Shard      string        `hcl:"shard"`
	ShardRange hcl.Range     `hcl:"shard,attr_value_range"`
	Webroots   []*rawWebroot `hcl:"webroot,block"`
	DefRange   hcl.Range     `hcl:",def_range"`
}

type rawWebroot struct {
	Name              string       `hcl:"name,label"`
	NameRange         hcl.Range    `hcl:"name,label_range"`
	ServerNames       []string     `hcl:"server_names,optional"`
	ServerNamesRange  hcl.Range    `hcl:"server_names,attr_value_range"`
	PublicFolder      *string      `hcl:"public_folder,optional"`
	PublicFolderRange hcl.Range    `hcl:"public_folder,attr_value_range"`
	Daemons           []*rawDaemon `hcl:"daemon,block"`
	DefRange          hcl.Range    `hcl:",def_range"`
}

type rawDaemon struct {
	Name              string         `hcl:"name,label"`
	NameRange         hcl.Range      `hcl:"name,label_range"`
	Command           string         `hcl:"command"`
	CommandRange      hcl.Range      `hcl:"command,attr_value_range"`
	ProxyPath         *string        `hcl:"proxy_path,optional"`
	ProxyPathRange    hcl.Range      `hcl:"proxy_path,attr_value_range"`
	NumProcs          *int           `hcl:"num_procs,optional"`
	NumProcsRange     hcl.Range      `hcl:"num_procs,attr_value_range"`
	StopSignal        *string        `hcl:"stop_signal,optional"`
	StopSignalRange   hcl.Range      `hcl:"stop_signal,attr_value_range"`
	StopWaitSecs      *int           `hcl:"stop_wait_secs,optional"`
	StopWaitSecsRange hcl.Range      `hcl:"stop_wait_secs,attr_value_range"`
	MaxMemoryMB       *int           `hcl:"max_memory_mb,optional"`
	MaxMemoryMBRange  hcl.Range      `hcl:"max_memory_mb,attr_value_range"`
	Environment       hcl.Expression `hcl:"environment,optional"`
	Enabled           *bool          `hcl:"enabled,optional"`
	Port              *int           `hcl:"port,optional"`
	PortRange         hcl.Range      `hcl:"port,attr_value_range"`
	Node              *string        `hcl:"node,optional"`
	NodeRange         hcl.Range      `hcl:"node,attr_value_range"`
	DefRange          hcl.Range      `hcl:",def_range"`
}

// envEntry is one environment variable with the ranges of its key and value.
type envEntry struct {
	Key, Value           string
	KeyRange, ValueRange hcl.Range
}

// File is one decoded config file: a fragment of a Config, not yet merged or
// validated. Files are immutable once parsed, so a caller may cache them (by
// Git blob hash, say) and build a new Config from a mix of old and new Files.
type File struct {
	Name string
	HCL  *hcl.File

	raw    rawFile
	env    map[*rawDaemon][]envEntry
	parsed bool        // false when the syntax was invalid; raw is then empty
	failed bool        // decoding reported an error; Build then returns no Config
	errs   []hcl.Range // where decoding failed; see failedAt
}

// failedAt reports whether decoding already failed inside rng, or rng is
// empty because a required attribute is missing (also reported by decoding),
// so a semantic check of the (zero) value there would only add noise.
func (f *File) failedAt(rng hcl.Range) bool {
	if rng.Filename == "" {
		return true
	}
	for _, r := range f.errs {
		if r.Filename == rng.Filename && r.Start.Byte >= rng.Start.Byte && r.End.Byte <= rng.End.Byte {
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
	p := hclparse.NewParser()
	var hf *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(name, ".json") {
		hf, diags = p.ParseJSON(src, name)
	} else {
		hf, diags = p.ParseHCL(src, name)
	}
	if hf == nil || hf.Body == nil || diags.HasErrors() {
		return &File{Name: name, HCL: hf}, diags
	}
	f := &File{Name: name, HCL: hf, env: map[*rawDaemon][]envEntry{}, parsed: true}
	diags = append(diags, explainDecode(gohcl.DecodeBody(hf.Body, nil, &f.raw))...)
	for _, t := range f.raw.Tenants {
		for _, w := range t.Webroots {
			for _, d := range w.Daemons {
				entries, envDiags := decodeEnvironment(d.Environment)
				diags = append(diags, envDiags...)
				f.env[d] = entries
			}
		}
	}
	for _, d := range diags {
		if d.Severity == hcl.DiagError && d.Subject != nil {
			f.errs = append(f.errs, *d.Subject)
		}
	}
	f.failed = diags.HasErrors()
	return f, diags
}

// decodeEnvironment reads the environment map keeping each key's range.
func decodeEnvironment(expr hcl.Expression) ([]envEntry, hcl.Diagnostics) {
	if expr == nil {
		return nil, nil
	}
	// A missing attribute arrives as a static null expression.
	if v, d := expr.Value(nil); !d.HasErrors() && v.IsNull() {
		return nil, nil
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
		e.KeyRange, e.ValueRange = kv.Key.Range(), kv.Value.Range()
		if k := hcl.ExprAsKeyword(kv.Key); k != "" {
			e.Key = k
		} else if d := gohcl.DecodeExpression(kv.Key, nil, &e.Key); d.HasErrors() {
			diags = append(diags, explainDecode(d)...)
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
				Subject:  &e.ValueRange,
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
