package trust

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// ErrIncomplete is a check that needs commits the repository does not hold
// (a shallow clone): fetch more history and check again.
var ErrIncomplete = errors.New("the history between the two revisions is not all in the repository")

// Verdict is the outcome of a check: trusted when it has no problems.
type Verdict struct {
	Mode Mode
	// Commits is how many commits were checked.
	Commits int
	// Problems are what the policy refuses, in the order found, at most
	// maxProblems.
	Problems []Problem
	// More counts the problems left out past maxProblems.
	More int
}

// Problem is one refusal: a commit, and the path its signer may not change
// ("" when the commit is refused as a whole: unsigned, unknown key).
type Problem struct {
	Commit  plumbing.Hash
	Subject string
	Signer  Signer
	Path    string
	// Rule is the pattern of the rule that decided Path, "" for none.
	Rule    string
	Allowed []string
	// Broken says which repository policy file does not decode, where,
	// when that is why Path is refused.
	Broken string
}

// maxProblems bounds the problems a verdict lists; a branch refused for
// thousands of paths is refused for the first ones as well.
const maxProblems = 20

// Trusted reports whether the policy allows the revision.
func (v *Verdict) Trusted() bool { return len(v.Problems) == 0 }

// Reason is the verdict in sentences, one problem a line.
func (v *Verdict) Reason() string {
	var b strings.Builder
	for _, p := range v.Problems {
		b.WriteString(p.String())
		b.WriteByte('\n')
	}
	if v.More > 0 {
		fmt.Fprintf(&b, "… and %d more\n", v.More)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func (p Problem) String() string {
	c := fmt.Sprintf("commit %s %q", p.Commit.String()[:12], p.Subject)
	switch {
	case !p.Signer.Known() && p.Path != "":
		return fmt.Sprintf("%s changes %s but is signed by %s", c, p.Path, p.Signer)
	case !p.Signer.Known():
		return fmt.Sprintf("%s is signed by %s", c, p.Signer)
	case p.Broken != "":
		return fmt.Sprintf("%s changes %s, but %s", c, p.Path, p.Broken)
	case p.Rule == "":
		return fmt.Sprintf("%s changes %s, which no trust rule covers (signed by %s)", c, p.Path, p.Signer)
	}
	return fmt.Sprintf("%s changes %s, which rule %q lets only %s change, but is signed by %s",
		c, p.Path, p.Rule, strings.Join(p.Allowed, ", "), p.Signer)
}

// RefusedError is a revision the policy refuses.
type RefusedError struct {
	Head    plumbing.Hash
	Verdict *Verdict
}

func (e *RefusedError) Error() string {
	return fmt.Sprintf("untrusted revision %s:\n%s", e.Head.String()[:12], e.Verdict.Reason())
}

// Check decides whether head may follow base, the revision applied until
// now (ZeroHash: none). root is the config root in the repository ("" for
// its top): rule patterns are relative to it, and changes outside it are
// not checked. Objects come from st; a Check with commits st lacks fails
// with ErrIncomplete.
//
// Head mode checks head's signer against every path that differs between
// base and head. Every-commit mode checks each commit reachable from head
// and not from base against the paths it changes relative to its first
// parent (a merge commit too, so the merge's signer answers for what the
// merge brings in, and the merged commits are checked on their own). When
// there is no base, or head does not descend from it (a rewritten
// branch), every-commit mode also makes the head check.
//
// With a repository policy file, a commit is judged by the file as base
// holds it, or in every-commit mode as its first parent holds it when that
// parent is among the commits checked (so a policy change takes effect for
// the commits above it, never for itself); a commit that changes the file
// must be signed by a root signer and leave it decodable.
func (p *Policy) Check(st storer.EncodedObjectStorer, root string, base, head plumbing.Hash) (*Verdict, error) {
	c := &checker{p: p, st: st, root: strings.Trim(path.Clean("/"+root), "/"),
		trees: map[plumbing.Hash][]byte{}, policies: map[plumbing.Hash]decodedPolicy{}}
	v := &Verdict{Mode: p.Mode}
	if base == head {
		return v, nil // nothing new: the running revision is checked again
	}
	headCommit, err := c.commit(head)
	if err != nil {
		return nil, err
	}
	baseTree := plumbing.ZeroHash
	if !base.IsZero() {
		b, err := c.commit(base)
		if err != nil {
			return nil, err
		}
		baseTree = b.TreeHash
	}
	running, broken, err := c.policyAt(base, baseTree)
	if err != nil {
		return nil, err
	}
	checkHead := p.Mode == ModeHead || base.IsZero()
	if p.Mode == ModeEveryCommit && !base.IsZero() {
		commits, descends, err := c.between(base, head)
		if err != nil {
			return nil, err
		}
		checkHead = !descends
		inRange := map[plumbing.Hash]bool{}
		for _, cm := range commits {
			inRange[cm.Hash] = true
		}
		for _, cm := range commits {
			parent, pol, brk := plumbing.ZeroHash, running, broken
			if len(cm.ParentHashes) > 0 {
				first, err := c.commit(cm.ParentHashes[0])
				if err != nil {
					return nil, err
				}
				parent = first.TreeHash
				// A parent checked in this range holds a policy only root
				// signers brought in; one outside it is judged by the
				// running revision's.
				if inRange[first.Hash] {
					if pol, brk, err = c.policyAt(first.Hash, parent); err != nil {
						return nil, err
					}
				}
			}
			if err := c.checkCommit(v, cm, parent, pol, brk); err != nil {
				return nil, err
			}
		}
	}
	if checkHead {
		if err := c.checkCommit(v, headCommit, baseTree, running, broken); err != nil {
			return nil, err
		}
	}
	return v, nil
}

// checker is one Check: the policy, the objects and the trees decoded so
// far (each tree is decoded once however many commits share it).
type checker struct {
	p     *Policy
	st    storer.EncodedObjectStorer
	root  string
	trees map[plumbing.Hash][]byte
	// policies are the versions of the repository's policy file read so
	// far, by blob.
	policies map[plumbing.Hash]decodedPolicy
}

// checkCommit checks cm's signer, by policy p, against the paths that
// differ between tree from (ZeroHash: empty) and cm's tree. With a broken
// repository policy file, only the file itself may change.
func (c *checker) checkCommit(v *Verdict, cm *object.Commit, from plumbing.Hash, p *Policy, broken *brokenPolicy) error {
	v.Commits++
	changed, err := c.changed(from, cm.TreeHash)
	if err != nil {
		return err
	}
	s := p.signer(cm)
	add := func(pr Problem) {
		if len(v.Problems) >= maxProblems {
			v.More++
			return
		}
		pr.Commit, pr.Subject, pr.Signer = cm.Hash, subject(cm.Message), s
		v.Problems = append(v.Problems, pr)
	}
	if !s.Known() {
		// Refused whatever it changes; the first path says what it would
		// have done.
		pr := Problem{}
		if len(changed) > 0 {
			pr.Path = changed[0]
		}
		add(pr)
		return nil
	}
	for _, name := range changed {
		r := p.ruleFor(name)
		if r != p.file && broken != nil {
			add(Problem{Path: name, Broken: fmt.Sprintf("the repository policy %s of commit %s, which judges it, is broken: %s",
				c.p.file.pattern, broken.commit.String()[:12], broken.reason)})
			continue
		}
		if r == p.file && r != nil {
			// The new version must decode, or nothing after it could be
			// judged.
			if _, brk, err := c.policyAt(cm.Hash, cm.TreeHash); err != nil {
				return err
			} else if brk != nil {
				add(Problem{Path: name, Broken: "the new version is broken: " + brk.reason})
				continue
			}
		}
		if r == nil {
			add(Problem{Path: name})
			continue
		}
		if !slices.ContainsFunc(s.Groups, func(g string) bool { return slices.Contains(r.signers, g) }) {
			add(Problem{Path: name, Rule: r.pattern, Allowed: r.signers})
		}
	}
	return nil
}

// maxCommitBytes bounds a commit object read from the (pushed) repository:
// its message is decoded into memory and encoded again, without the
// signature, for the signature check. A signed commit with a long message
// is a few kilobytes.
const maxCommitBytes = 1 << 20

func (c *checker) commit(h plumbing.Hash) (*object.Commit, error) {
	o, err := c.st.EncodedObject(plumbing.CommitObject, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("read commit %s: %w", h, ErrIncomplete)
	}
	if err == nil && o.Size() > maxCommitBytes {
		err = fmt.Errorf("%d bytes, more than the %d a commit may have", o.Size(), maxCommitBytes)
	}
	var cm *object.Commit
	if err == nil {
		cm, err = object.DecodeCommit(c.st, o)
	}
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", h, err)
	}
	return cm, nil
}

func subject(msg string) string {
	s, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	if len(s) > 72 {
		s = s[:69] + "..."
	}
	return s
}
