package trust

import (
	"errors"
	"fmt"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/drover-sh/drover/spec"
)

// The repository's policy file. A trust block may name one:
//
//	trust {
//	  repository_policy = ".drover/trust.hcl"   # relative to the config root
//	  root_signers      = ["ops"]               # groups of this block
//	  signers "ops" { … }
//	  rule "**" { signers = ["ops"] }
//	}
//
// The file holds signers and rule blocks as the trust block does. The
// policy a commit is judged by is the block's, then the file's groups and
// rules (after the block's, so the last matching rule may be the file's),
// then a rule that lets only the root signers change the file itself. The
// file is read from the revision the node runs, or in every-commit mode
// from the first parent of the commit judged when that parent is itself
// among the commits checked: a commit that changes the policy is judged by
// the policy before it, never by itself.

// decodeRoot checks repository_policy and root_signers.
func (p *Policy) decodeRoot(b *Block) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if b.RepositoryPolicy == nil {
		if len(b.RootSigners) > 0 {
			diags = append(diags, errorAt(b.RootRange, "Root signers without a repository policy",
				"root_signers names who may change the repository's policy file, and there is none: add repository_policy = \".drover/trust.hcl\" or remove root_signers."))
		}
		return diags
	}
	name := *b.RepositoryPolicy
	if err := checkPolicyPath(name); err != nil {
		diags = append(diags, errorAt(b.RepositoryRange, "Invalid repository policy path", "repository_policy = %q: %v.", name, err))
	}
	if len(b.RootSigners) == 0 {
		diags = append(diags, errorAt(b.RepositoryRange, "No root signers",
			"repository_policy needs root_signers, the groups of this block that may change the policy file, like root_signers = [\"ops\"]."))
	}
	for _, s := range b.RootSigners {
		if !p.groups[s] {
			diags = append(diags, errorAt(b.RootRange, "Unknown root signers",
				"root_signers names signers %q, which no signers block of the trust block defines (the root signers cannot come from the repository).", s))
		}
	}
	p.file = &rule{pattern: name, signers: b.RootSigners}
	return diags
}

// checkPolicyPath accepts a plain relative path, with no pattern
// characters, that the config loader does not read as a config file.
func checkPolicyPath(name string) error {
	if err := checkPattern(name); err != nil {
		return err
	}
	if strings.ContainsAny(name, `*?[]\`) {
		return fmt.Errorf("write a file's path, without pattern characters")
	}
	dir, base := path.Split(name)
	hidden := slices.ContainsFunc(strings.Split(strings.TrimSuffix(dir, "/"), "/"), spec.SkipDir)
	if !hidden && spec.IsConfigFile(base) {
		return fmt.Errorf("drover would load it as a config file of the repository; put it in a hidden directory, like \".drover/trust.hcl\"")
	}
	return nil
}

// withFile is the policy with the repository's policy file src, named
// name (relative to the config root) in diagnostics. The file is bounded
// as a config file is, and may not set what only the node decides.
func (p *Policy) withFile(name string, src []byte) (*Policy, hcl.Diagnostics) {
	if len(src) > spec.MaxFileBytes {
		return nil, tooLarge(name)
	}
	if d := spec.CheckNesting(name, src); d != nil {
		return nil, hcl.Diagnostics{d}
	}
	parse := hclparse.NewParser().ParseHCL
	if strings.HasSuffix(name, ".json") {
		parse = hclparse.NewParser().ParseJSON
	}
	f, diags := parse(src, name)
	if diags.HasErrors() {
		return nil, diags
	}
	var b Block
	if diags = gohcl.DecodeBody(f.Body, nil, &b); diags.HasErrors() {
		return nil, diags
	}
	for _, set := range []struct {
		ok   bool
		key  string
		rng  hcl.Range
		what string
	}{
		{b.Mode != nil, "mode", b.ModeRange, "which commits are checked"},
		{b.RepositoryPolicy != nil, "repository_policy", b.RepositoryRange, "where the policy file is"},
		{b.RootSigners != nil, "root_signers", b.RootRange, "who may change the policy file"},
	} {
		if set.ok {
			diags = append(diags, errorAt(set.rng, "Setting only the node may make",
				"%s, %s, is set in the agent configuration's trust block only; remove it from %s.", set.key, set.what, name))
		}
	}
	q := &Policy{Mode: p.Mode, ssh: slices.Clone(p.ssh), pgp: slices.Clone(p.pgp), pgpOf: map[string][]string{},
		groups: maps.Clone(p.groups), rules: slices.Clone(p.rules), file: p.file}
	for fp, g := range p.pgpOf {
		q.pgpOf[fp] = slices.Clone(g)
	}
	diags = append(diags, q.add(&b, name)...)
	if diags.HasErrors() {
		return nil, diags
	}
	return q, diags
}

// brokenPolicy is a policy file that does not decode: every path but the
// file itself is refused with the reason, so a root signer can still
// repair it.
type brokenPolicy struct {
	commit plumbing.Hash // whose tree holds it
	reason string
}

// policyAt is the policy of the revision whose commit is at and tree is
// tree: the trust block with the repository's policy file as that tree
// holds it. It is p when there is no file; broken is set when the file
// does not decode. Each version of the file is decoded once a Check.
func (c *checker) policyAt(at, tree plumbing.Hash) (*Policy, *brokenPolicy, error) {
	if c.p.file == nil || at.IsZero() {
		return c.p, nil, nil
	}
	blob, err := c.fileIn(tree)
	if err != nil || blob.IsZero() {
		return c.p, nil, err
	}
	if q, ok := c.policies[blob]; ok {
		if q.broken != nil {
			return c.p, &brokenPolicy{commit: at, reason: q.broken.reason}, nil
		}
		return q.policy, nil, nil
	}
	src, err := c.blob(blob)
	if err != nil {
		return nil, nil, err
	}
	var q *Policy
	diags := tooLarge(c.p.file.pattern)
	if src != nil {
		q, diags = c.p.withFile(c.p.file.pattern, src)
	}
	v := decodedPolicy{policy: q}
	if diags.HasErrors() {
		v = decodedPolicy{broken: &brokenPolicy{commit: at, reason: located(diags)}}
	}
	c.policies[blob] = v
	if v.broken != nil {
		return c.p, v.broken, nil
	}
	return q, nil, nil
}

// decodedPolicy is a version of the policy file, decoded.
type decodedPolicy struct {
	policy *Policy
	broken *brokenPolicy
}

// located is diagnostics as one line, each with its file, line and column.
func located(diags hcl.Diagnostics) string {
	var out []string
	for _, d := range diags {
		switch {
		case d.Severity != hcl.DiagError:
		case d.Subject == nil:
			out = append(out, d.Summary+"; "+d.Detail)
		default:
			out = append(out, d.Error())
		}
	}
	return strings.Join(out, "; ")
}

// fileIn is the blob of the policy file in tree (ZeroHash: the file is
// not there).
func (c *checker) fileIn(tree plumbing.Hash) (plumbing.Hash, error) {
	h, err := c.rootTree(tree)
	if err != nil || h.IsZero() {
		return plumbing.ZeroHash, err
	}
	segs := strings.Split(c.p.file.pattern, "/")
	for i, name := range segs {
		raw, err := c.tree(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		found := false
		for t := raw; len(t) > 0 && !found; {
			var e entry
			if e, t, err = nextEntry(t); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", h, err)
			}
			last := i == len(segs)-1
			if string(e.name) == name && e.dir() != last {
				h, found = plumbing.Hash(e.hash), true
			}
		}
		if !found {
			return plumbing.ZeroHash, nil
		}
	}
	return h, nil
}

// tooLarge is the diagnostic of a policy file larger than a config file
// may be.
func tooLarge(name string) hcl.Diagnostics {
	return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Policy file too large",
		Detail: fmt.Sprintf("%s is larger than %d bytes, the most drover reads from one file.", name, spec.MaxFileBytes)}}
}

// blob reads blob h; nil, without reading it, when it is larger than a
// config file may be.
func (c *checker) blob(h plumbing.Hash) ([]byte, error) {
	o, err := c.st.EncodedObject(plumbing.BlobObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("read policy file %s: %w", c.p.file.pattern, ErrIncomplete)
	}
	if err != nil {
		return nil, fmt.Errorf("read policy file %s: %w", c.p.file.pattern, err)
	}
	if o.Size() > spec.MaxFileBytes {
		return nil, nil
	}
	r, err := o.Reader()
	if err != nil {
		return nil, fmt.Errorf("read policy file %s: %w", c.p.file.pattern, err)
	}
	defer r.Close()
	src, err := spec.ReadLimited(r)
	if err != nil {
		return nil, fmt.Errorf("read policy file %s: %w", c.p.file.pattern, err)
	}
	return src, nil
}
