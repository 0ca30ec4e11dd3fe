package edit

import (
	"bytes"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"

	"github.com/drover-sh/drover/spec"
)

// Attrs are the daemon attributes an edit sets or removes. Attributes
// not named are left as they are.
type Attrs struct {
	// Values sets attributes by HCL name: a string, an int or a bool, as
	// the attribute's spec.DaemonField says.
	Values map[string]any
	// Env sets environment variables (a later entry for the same key wins).
	Env []EnvVar
	// UnsetEnv removes environment variables.
	UnsetEnv []string
	// Unset removes attributes, by HCL name (see Unsettable).
	Unset []string
}

// EnvVar is one environment variable.
type EnvVar struct{ Key, Value string }

// Unsettable are the attributes `daemon set --unset` may remove: every
// optional one.
var Unsettable = func() []string {
	var names []string
	for _, f := range spec.DaemonFields {
		if !f.Required {
			names = append(names, f.Name)
		}
	}
	return names
}()

// scalars lists the attributes to set in the order a new block has them
// (spec.DaemonFields), or says which one cannot be set so.
func (a Attrs) scalars() ([]scalar, error) {
	out := make([]scalar, 0, len(a.Values))
	for _, f := range spec.DaemonFields {
		v, ok := a.Values[f.Name]
		if !ok {
			continue
		}
		var val cty.Value
		switch x := v.(type) {
		case string:
			ok, val = f.Type == spec.TypeString, cty.StringVal(x)
		case int:
			ok, val = f.Type == spec.TypeNumber, cty.NumberIntVal(int64(x))
		case bool:
			ok, val = f.Type == spec.TypeBool, cty.BoolVal(x)
		default:
			ok = false
		}
		if !ok {
			return nil, fmt.Errorf("%s cannot be set to %v (%T)", f.Name, v, v)
		}
		out = append(out, scalar{f.Name, val})
	}
	for name := range a.Values {
		if !slices.ContainsFunc(out, func(s scalar) bool { return s.name == name }) {
			return nil, fmt.Errorf("a daemon has no attribute %q", name)
		}
	}
	return out, nil
}

type scalar struct {
	name string
	val  cty.Value
}

// Add declares a new daemon in the webroot's block, after its last item.
func (r *Repo) Add(k Key, a Attrs) (*Edit, error) {
	p, err := r.locate(k)
	if err != nil {
		return nil, err
	}
	if p.daemon != nil {
		return nil, fmt.Errorf("daemon %s already exists (%s:%d): use drover daemon set to change it", k, p.file, p.daemon.TypeRange.Start.Line)
	}
	if _, ok := a.Values["command"]; !ok {
		return nil, fmt.Errorf("a new daemon needs a command (--command)")
	}
	scalars, err := a.scalars()
	if err != nil {
		return nil, err
	}
	f := hclwrite.NewEmptyFile()
	body := f.Body().AppendNewBlock("daemon", []string{k.Daemon}).Body()
	for _, s := range scalars {
		body.SetAttributeValue(s.name, s.val)
	}
	if env := mergeEnv(nil, a.Env, a.UnsetEnv); len(env) > 0 {
		body.SetAttributeRaw("environment", envTokens(env))
	}
	block := hclwrite.Format(f.Bytes())
	after := insertBlock(p.src, p.webroot, block)
	return r.finish(p.file, p.src, after, "add daemon "+k.String())
}

// Set changes attributes of an existing daemon.
func (r *Repo) Set(k Key, a Attrs) (*Edit, error) {
	p, err := r.locateDaemon(k)
	if err != nil {
		return nil, err
	}
	for _, name := range a.Unset {
		if !slices.Contains(Unsettable, name) {
			return nil, fmt.Errorf("cannot unset %q: only %s are optional", name, strings.Join(Unsettable, ", "))
		}
	}
	scalars, err := a.scalars()
	if err != nil {
		return nil, err
	}
	start, end := p.daemon.TypeRange.Start.Byte, p.daemon.CloseBraceRange.End.Byte
	block, addEnv, dropEnv, err := editEnv(p, p.src[start:end], start, a.Env, a.UnsetEnv)
	if err != nil {
		return nil, err
	}
	return r.rewrite(p, block, "change daemon "+k.String(), func(body *hclwrite.Body) error {
		if dropEnv {
			body.RemoveAttribute("environment")
		}
		if len(addEnv) > 0 {
			body.SetAttributeRaw("environment", envTokens(addEnv))
		}
		var added []scalar
		for _, s := range scalars {
			if body.GetAttribute(s.name) == nil {
				added = append(added, s)
				continue
			}
			body.SetAttributeValue(s.name, s.val)
		}
		for _, name := range a.Unset {
			body.RemoveAttribute(name)
			if b := body.FirstMatchingBlock(name, nil); b != nil { // health
				body.RemoveBlock(b)
			}
		}
		appendBeforeEnvironment(body, added)
		return nil
	})
}

// SetEnabled enables or disables a daemon: disabling sets enabled = false,
// enabling removes the attribute (true is the default).
func (r *Repo) SetEnabled(k Key, on bool) (*Edit, error) {
	p, err := r.locateDaemon(k)
	if err != nil {
		return nil, err
	}
	verb := "disable"
	if on {
		verb = "enable"
	}
	start, end := p.daemon.TypeRange.Start.Byte, p.daemon.CloseBraceRange.End.Byte
	return r.rewrite(p, p.src[start:end], verb+" daemon "+k.String(), func(body *hclwrite.Body) error {
		if on {
			body.RemoveAttribute("enabled")
			return nil
		}
		if attr := body.GetAttribute("enabled"); attr != nil {
			body.SetAttributeValue("enabled", cty.False)
			return nil
		}
		appendBeforeEnvironment(body, []scalar{{"enabled", cty.False}})
		return nil
	})
}

// Remove deletes a daemon block, with the comment lines directly above it.
func (r *Repo) Remove(k Key) (*Edit, error) {
	p, err := r.locateDaemon(k)
	if err != nil {
		return nil, err
	}
	return r.finish(p.file, p.src, removeBlock(p.src, p.daemon), "remove daemon "+k.String())
}

func (r *Repo) locateDaemon(k Key) (*place, error) {
	p, err := r.locate(k)
	if err != nil {
		return nil, err
	}
	if p.daemon == nil {
		return nil, fmt.Errorf("webroot %s/%s (%s:%d) has no daemon %q (%s)", k.Tenant, k.Webroot, p.file, p.webroot.TypeRange.Start.Line, k.Daemon, daemonNames(p.webroot))
	}
	return p, nil
}

// rewrite edits the daemon block (block: its text, perhaps already
// changed) through hclwrite and puts it back, formatted and indented where
// it was. Nothing outside the block changes.
func (r *Repo) rewrite(p *place, block []byte, summary string, change func(*hclwrite.Body) error) (*Edit, error) {
	start, end := p.daemon.TypeRange.Start.Byte, p.daemon.CloseBraceRange.End.Byte
	f, diags := hclwrite.ParseConfig(block, p.file, hcl.InitialPos)
	if diags.HasErrors() {
		return nil, fmt.Errorf("%s: %s", p.file, diags.Error())
	}
	blocks := f.Body().Blocks()
	if len(blocks) != 1 {
		return nil, fmt.Errorf("%s: cannot isolate the daemon block", p.file)
	}
	if err := change(blocks[0].Body()); err != nil {
		return nil, err
	}
	formatted := hclwrite.Format(f.Bytes())
	if string(formatted) == string(hclwrite.Format(p.src[start:end])) {
		// Nothing to change: keep the block exactly as written, even if
		// it is not formatted.
		return &Edit{File: p.file, Before: p.src, After: p.src, Summary: summary}, nil
	}
	after := replaceBlock(p.src, p.daemon, formatted)
	return r.finish(p.file, p.src, after, summary)
}

// appendBeforeEnvironment adds new attributes to a body, keeping a
// trailing environment map last (as drover writes blocks).
func appendBeforeEnvironment(body *hclwrite.Body, attrs []scalar) {
	if len(attrs) == 0 {
		return
	}
	env := body.GetAttribute("environment")
	var envToks hclwrite.Tokens
	if env != nil && lastItemIs(body, "environment") {
		envToks = env.BuildTokens(nil)
		body.RemoveAttribute("environment")
	}
	for _, s := range attrs {
		body.SetAttributeValue(s.name, s.val)
	}
	if envToks != nil {
		body.AppendUnstructuredTokens(envToks)
	}
}

// lastItemIs reports whether the last attribute or block of body is the
// attribute name.
func lastItemIs(body *hclwrite.Body, name string) bool {
	toks := body.BuildTokens(nil)
	attr := body.GetAttribute(name)
	if attr == nil {
		return false
	}
	at := attr.BuildTokens(nil)
	// The attribute's tokens end the body's tokens when it is last.
	if len(at) == 0 || len(toks) < len(at) {
		return false
	}
	return toks[len(toks)-1] == at[len(at)-1]
}

// editEnv changes the environment map of a daemon block in its source
// text, keeping the text, order and comments of the entries it does not
// touch: a changed value is replaced in place, a removed entry loses its
// line, a new one is appended. block is the daemon block's text, which
// starts at offset base of the file. When the block has no environment, or
// every entry goes, add and drop say what is left to do through hclwrite.
// The map must be a literal { KEY = "value" }.
func editEnv(p *place, block []byte, base int, set []EnvVar, unset []string) (out []byte, add []EnvVar, drop bool, err error) {
	attr, ok := p.daemon.Body.Attributes["environment"]
	if !ok {
		return block, mergeEnv(nil, set, unset), false, nil
	}
	obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return nil, nil, false, fmt.Errorf("%s:%d: environment is not a literal map { KEY = \"value\" }: edit it by hand", p.file, attr.SrcRange.Start.Line)
	}
	final := map[string]string{}
	for _, v := range set {
		final[v.Key] = v.Value
	}
	type splice struct {
		start, end int // in block
		text       string
	}
	var edits []splice
	seen := map[string]bool{}
	kept := 0
	for _, item := range obj.Items {
		kv, diags := item.KeyExpr.Value(nil)
		if diags.HasErrors() || !kv.IsKnown() || kv.IsNull() || kv.Type() != cty.String {
			return nil, nil, false, fmt.Errorf("%s:%d: an environment key is not a literal name: edit it by hand", p.file, item.KeyExpr.Range().Start.Line)
		}
		key := kv.AsString()
		seen[key] = true
		ks, vs, ve := item.KeyExpr.Range().Start.Byte-base, item.ValueExpr.Range().Start.Byte-base, item.ValueExpr.Range().End.Byte-base
		switch v, ok := final[key]; {
		case slices.Contains(unset, key):
			end := ve
			if rest := bytes.TrimLeft(block[end:], " \t"); len(rest) > 0 && rest[0] == ',' {
				end = len(block) - len(rest) + 1
			}
			ls, le := lineStart(block, ks), lineEnd(block, end)
			if tail := strings.TrimSpace(string(block[end:le])); isBlank(block[ls:ks]) && (tail == "" || strings.HasPrefix(tail, "#") || strings.HasPrefix(tail, "//")) {
				edits = append(edits, splice{ls, le, ""})
			} else {
				edits = append(edits, splice{ks, end, ""})
			}
		case ok:
			kept++
			edits = append(edits, splice{vs, ve, string(hclwrite.TokensForValue(cty.StringVal(v)).Bytes())})
		default:
			kept++
		}
	}
	var added strings.Builder
	for _, v := range mergeEnv(nil, set, unset) {
		if !seen[v.Key] {
			kept++
			fmt.Fprintf(&added, "%s = %s\n", keyTokens(v.Key).Bytes(), hclwrite.TokensForValue(cty.StringVal(v.Value)).Bytes())
		}
	}
	if kept == 0 {
		return block, nil, true, nil
	}
	if added.Len() > 0 {
		close := obj.SrcRange.End.Byte - 1 - base // the closing brace
		if ls := lineStart(block, close); isBlank(block[ls:close]) && ls > obj.OpenRange.End.Byte-base {
			edits = append(edits, splice{ls, ls, added.String()})
		} else {
			edits = append(edits, splice{close, close, "\n" + added.String()})
		}
	}
	sort.SliceStable(edits, func(i, j int) bool { return edits[i].start > edits[j].start })
	out = append([]byte{}, block...)
	for _, e := range edits {
		out = append(out[:e.start], append([]byte(e.text), out[e.end:]...)...)
	}
	return out, nil, false, nil
}

// mergeEnv applies sets and unsets to an ordered environment.
func mergeEnv(env []EnvVar, set []EnvVar, unset []string) []EnvVar {
	idx := map[string]int{}
	for i, v := range env {
		idx[v.Key] = i
	}
	for _, v := range set {
		if i, ok := idx[v.Key]; ok {
			env[i].Value = v.Value
			continue
		}
		idx[v.Key] = len(env)
		env = append(env, v)
	}
	var out []EnvVar
	for _, v := range env {
		if !slices.Contains(unset, v.Key) {
			out = append(out, v)
		}
	}
	return out
}

// envTokens writes an environment map, one variable a line.
func envTokens(env []EnvVar) hclwrite.Tokens {
	attrs := make([]hclwrite.ObjectAttrTokens, 0, len(env))
	for _, v := range env {
		attrs = append(attrs, hclwrite.ObjectAttrTokens{Name: keyTokens(v.Key), Value: hclwrite.TokensForValue(cty.StringVal(v.Value))})
	}
	return hclwrite.TokensForObject(attrs)
}

// keyTokens writes a map key: bare when it is an identifier, else quoted
// (validation then explains what is wrong with it).
func keyTokens(k string) hclwrite.Tokens {
	if hclsyntax.ValidIdentifier(k) {
		return hclwrite.TokensForIdentifier(k)
	}
	return hclwrite.TokensForValue(cty.StringVal(k))
}
