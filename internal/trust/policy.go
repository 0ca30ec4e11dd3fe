// Package trust decides whether the commits of a config repository may be
// applied: who signed each commit (an OpenPGP or an SSH signature, as git
// makes them), and whether the trust policy lets that signer change the
// paths the commit changes. The agent refuses a revision that fails, as it
// refuses an invalid one; drover verify and drover plan run the same check
// from a clone (design.md §6.15).
//
// A policy is the trust block of the agent configuration:
//
//	trust {
//	  mode = "every-commit"           # or "head"
//	  signers "ops" {
//	    ssh     = ["alice@example.com ssh-ed25519 AAAA…"]   # allowed_signers lines
//	    openpgp = [<<-EOT                                    # armored public keys
//	      -----BEGIN PGP PUBLIC KEY BLOCK-----
//	      …
//	    EOT
//	    ]
//	  }
//	  signers "team-acme" { ssh = ["carol@acme.example ssh-ed25519 AAAA…"] }
//	  rule "**"              { signers = ["ops"] }
//	  rule "tenants/acme/**" { signers = ["ops", "team-acme"] }
//	}
//
// Rule patterns are slash paths relative to the config root (the agent's
// source.path); "*" matches within one path segment, "**" any number of
// segments. The last rule that matches a path decides who may change it,
// as in a CODEOWNERS file; a changed path no rule matches is refused.
//
// A block may also name a policy file in the repository (repository_policy)
// that adds signers and rules, and the root signers who alone may change it
// (repository.go).
package trust

import (
	"fmt"
	"maps"
	"path"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/hashicorp/hcl/v2"
)

// Mode says which commits are checked.
type Mode string

const (
	// ModeHead checks the new head alone: its signer must be allowed to
	// change every path that differs from the applied revision.
	ModeHead Mode = "head"
	// ModeEveryCommit checks every commit between the applied revision and
	// the new head, each against the paths it changes.
	ModeEveryCommit Mode = "every-commit"
)

// Policy is a decoded trust block: the signers' keys by group and the
// rules. It is safe for concurrent use.
type Policy struct {
	Mode   Mode
	ssh    []sshEntry
	pgp    openpgp.EntityList
	pgpOf  map[string][]string // primary key fingerprint (upper hex) → groups
	groups map[string]bool
	rules  []rule
	// file is the rule of the repository's policy file, which only the
	// root signers may change, whatever the other rules say; nil without
	// repository_policy.
	file *rule
}

// sshEntry is an allowed_signers line of a group.
type sshEntry struct {
	*allowedSigner
	group string
}

// rule is one rule block: the last one matching a path decides.
type rule struct {
	pattern string
	signers []string
}

// Block is the trust block as HCL holds it; Decode checks it.
type Block struct {
	Mode      *string    `hcl:"mode,optional"`
	ModeRange hcl.Range  `hcl:"mode,attr_value_range"`
	Signers   []rawGroup `hcl:"signers,block"`
	Rules     []rawRule  `hcl:"rule,block"`
	DefRange  hcl.Range  `hcl:",def_range"`

	RepositoryPolicy *string   `hcl:"repository_policy,optional"`
	RepositoryRange  hcl.Range `hcl:"repository_policy,attr_value_range"`
	RootSigners      []string  `hcl:"root_signers,optional"`
	RootRange        hcl.Range `hcl:"root_signers,attr_value_range"`
}

type rawGroup struct {
	Name         string    `hcl:"name,label"`
	SSH          []string  `hcl:"ssh,optional"`
	SSHRange     hcl.Range `hcl:"ssh,attr_value_range"`
	OpenPGP      []string  `hcl:"openpgp,optional"`
	OpenPGPRange hcl.Range `hcl:"openpgp,attr_value_range"`
	DefRange     hcl.Range `hcl:",def_range"`
}

type rawRule struct {
	Pattern      string    `hcl:"pattern,label"`
	Signers      []string  `hcl:"signers"`
	SignersRange hcl.Range `hcl:"signers,attr_value_range"`
	DefRange     hcl.Range `hcl:",def_range"`
}

// Decode checks a trust block and builds its Policy; every problem is a
// located diagnostic. The Policy is nil on errors.
func Decode(b *Block) (*Policy, hcl.Diagnostics) {
	p := &Policy{Mode: ModeHead, pgpOf: map[string][]string{}, groups: map[string]bool{}}
	var diags hcl.Diagnostics
	if b.Mode != nil {
		p.Mode = Mode(*b.Mode)
		if p.Mode != ModeHead && p.Mode != ModeEveryCommit {
			diags = append(diags, errorAt(b.ModeRange, "Invalid trust mode",
				"mode = %q: write \"head\" (the new head's signer must be allowed to change everything since the applied revision) or \"every-commit\" (every commit since the applied revision is checked on its own).", *b.Mode))
		}
	}
	diags = append(diags, p.add(b, "")...)
	if len(b.Rules) == 0 && b.RepositoryPolicy == nil {
		diags = append(diags, errorAt(b.DefRange, "No trust rule",
			"The trust block has no rule, so no commit could be applied. Add one, like rule \"**\" { signers = [\"ops\"] }."))
	}
	diags = append(diags, p.decodeRoot(b)...)
	if diags.HasErrors() {
		return nil, diags
	}
	return p, diags
}

// add decodes the signers and rules of b into p. A group may be defined
// once, in the trust block or in the repository's policy file (file, ""
// for the block); rules may name the groups of both.
func (p *Policy) add(b *Block, file string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	before := maps.Clone(p.groups)
	for _, g := range b.Signers {
		switch {
		case before[g.Name]:
			diags = append(diags, errorAt(g.DefRange, "Duplicate signers block",
				"signers %q is defined in the agent configuration's trust block; give the group of %s another name.", g.Name, file))
		case p.groups[g.Name]:
			diags = append(diags, errorAt(g.DefRange, "Duplicate signers block", "signers %q is defined twice; merge the two blocks.", g.Name))
		}
		p.groups[g.Name] = true
		if len(g.SSH) == 0 && len(g.OpenPGP) == 0 {
			diags = append(diags, errorAt(g.DefRange, "Empty signers block",
				"signers %q lists no key: give ssh = [allowed_signers lines] or openpgp = [armored public keys].", g.Name))
		}
		diags = append(diags, p.addKeys(g)...)
	}
	for _, r := range b.Rules {
		if err := checkPattern(r.Pattern); err != nil {
			diags = append(diags, errorAt(r.DefRange, "Invalid rule pattern", "rule %q: %v.", r.Pattern, err))
		}
		if len(r.Signers) == 0 {
			diags = append(diags, errorAt(r.SignersRange, "Rule without signers",
				"rule %q names no signers; list at least one signers block.", r.Pattern))
		}
		for _, s := range r.Signers {
			if !p.groups[s] {
				diags = append(diags, errorAt(r.SignersRange, "Unknown signers",
					"rule %q names signers %q, which no signers block defines.", r.Pattern, s))
			}
		}
		p.rules = append(p.rules, rule{pattern: r.Pattern, signers: r.Signers})
	}
	return diags
}

// addKeys decodes the keys of group g.
func (p *Policy) addKeys(g rawGroup) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for i, line := range g.SSH {
		a, err := parseAllowedSigner(line)
		if err != nil {
			diags = append(diags, errorAt(g.SSHRange, "Invalid SSH signer",
				"signers %q, ssh entry %d: %v. Each entry is a line of an allowed_signers file (ssh-keygen(1)), like \"alice@example.com ssh-ed25519 AAAA…\".", g.Name, i+1, err))
			continue
		}
		p.ssh = append(p.ssh, sshEntry{a, g.Name})
	}
	for i, armored := range g.OpenPGP {
		keys, err := openpgp.ReadArmoredKeyRing(strings.NewReader(armored))
		if err != nil || len(keys) == 0 {
			diags = append(diags, errorAt(g.OpenPGPRange, "Invalid OpenPGP key",
				"signers %q, openpgp entry %d is not an armored public key (the output of gpg --armor --export KEY): %v.", g.Name, i+1, err))
			continue
		}
		for _, e := range keys {
			if e.PrivateKey != nil {
				diags = append(diags, errorAt(g.OpenPGPRange, "Private OpenPGP key",
					"signers %q, openpgp entry %d holds a private key: export the public key only (gpg --armor --export KEY).", g.Name, i+1))
			}
			fp := fingerprint(e)
			if len(p.pgpOf[fp]) == 0 {
				p.pgp = append(p.pgp, e)
			}
			p.pgpOf[fp] = append(p.pgpOf[fp], g.Name)
		}
	}
	return diags
}

// checkPattern accepts slash paths relative to the config root whose
// segments are "**" or path.Match patterns.
func checkPattern(p string) error {
	switch {
	case p == "":
		return fmt.Errorf("the pattern is empty")
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("patterns are relative to the config root: drop the leading '/'")
	case strings.HasSuffix(p, "/"):
		return fmt.Errorf("a pattern names files: write %q for everything below the directory", p+"**")
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("segment %q: write a plain relative path", seg)
		}
		if seg == "**" {
			continue
		}
		if strings.Contains(seg, "**") {
			return fmt.Errorf("segment %q: \"**\" must be a whole segment", seg)
		}
		if _, err := path.Match(seg, ""); err != nil {
			return fmt.Errorf("segment %q: %v", seg, err)
		}
	}
	return nil
}

// ruleFor is the last rule that matches name, nil for none; the
// repository's policy file has its own rule.
func (p *Policy) ruleFor(name string) *rule {
	if p.file != nil && name == p.file.pattern {
		return p.file
	}
	for i := len(p.rules) - 1; i >= 0; i-- {
		if match(strings.Split(p.rules[i].pattern, "/"), strings.Split(name, "/")) {
			return &p.rules[i]
		}
	}
	return nil
}

// match matches path segments against pattern segments.
func match(pat, name []string) bool {
	for len(pat) > 0 {
		if pat[0] == "**" {
			for i := len(name); i >= 0; i-- {
				if match(pat[1:], name[i:]) {
					return true
				}
			}
			return false
		}
		if len(name) == 0 {
			return false
		}
		if ok, _ := path.Match(pat[0], name[0]); !ok {
			return false
		}
		pat, name = pat[1:], name[1:]
	}
	return len(name) == 0
}

func fingerprint(e *openpgp.Entity) string {
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}

func errorAt(rng hcl.Range, summary, detail string, args ...any) *hcl.Diagnostic {
	r := rng
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: fmt.Sprintf(detail, args...), Subject: &r}
}
