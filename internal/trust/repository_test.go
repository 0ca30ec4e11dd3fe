package trust

import (
	"fmt"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
)

// policyFile is where the repository policy lives in these tests.
const policyFile = ".drover/trust.hcl"

// repoTeam is a world whose node policy lets ops change everything, names
// the repository policy file and ops as its root signers, and knows
// team-acme's key without giving it any path: the repository file does.
type repoTeam struct {
	*world
	base plumbing.Hash
	src  string // the trust block, without mode
	acme string // team-acme's signers block, for policy files
}

func newRepoTeam(t *testing.T) *repoTeam {
	w := newWorld(t)
	ops, acme := w.sshKey("ops"), w.sshKey("acme")
	rt := &repoTeam{world: w}
	rt.src = fmt.Sprintf(`
  repository_policy = %q
  root_signers      = ["ops"]
  signers "ops" { ssh = [%s] }
  rule "**" { signers = ["ops"] }
}`, policyFile, hclString("ops@example.com "+ops))
	rt.acme = fmt.Sprintf("signers \"team-acme\" { ssh = [%s] }\n", hclString("carol@acme.example "+acme))
	rt.base = w.commit("ssh:ops", "cluster", map[string]string{
		"cluster.hcl": "cluster {}\n", "tenants/acme/app.hcl": "a = 1\n"})
	return rt
}

func (rt *repoTeam) policy(mode Mode) *Policy {
	return policy(rt.t, fmt.Sprintf("trust {\n  mode = %q\n%s", mode, rt.src))
}

// grant is a policy file that lets team-acme change its tenant.
func (rt *repoTeam) grant() string {
	return rt.acme + `rule "tenants/acme/**" { signers = ["ops", "team-acme"] }` + "\n"
}

// TestRepositoryPolicy: a team cannot grant itself a path in the
// repository's policy file; ops can, and from then on the team's commits
// to its path are applied, in both modes.
func TestRepositoryPolicy(t *testing.T) {
	rt := newRepoTeam(t)
	for _, mode := range []Mode{ModeHead, ModeEveryCommit} {
		t.Run(string(mode), func(t *testing.T) {
			p := rt.policy(mode)
			rt.git("reset", "-q", "--hard", rt.base.String())
			self := rt.commit("ssh:acme", "acme grants itself", map[string]string{policyFile: rt.grant()})
			wantVerdict(t, rt.check(p, rt.base, self),
				`changes .drover/trust.hcl but is signed by an unknown SSH key`)

			rt.git("reset", "-q", "--hard", rt.base.String())
			granted := rt.commit("ssh:ops", "ops grants acme", map[string]string{policyFile: rt.grant()})
			wantVerdict(t, rt.check(p, rt.base, granted))
			team := rt.commit("ssh:acme", "acme work", map[string]string{"tenants/acme/app.hcl": "a = 2\n"})
			wantVerdict(t, rt.check(p, granted, team))
			// Still only its path, and never the policy file.
			outside := rt.commit("ssh:acme", "acme outside", map[string]string{"cluster.hcl": "cluster { x = 1 }\n"})
			wantVerdict(t, rt.check(p, team, outside),
				`changes cluster.hcl, which rule "**" lets only ops change, but is signed by carol@acme.example (team-acme)`)
			// A file that lets the team change .drover/ still cannot let it
			// change the policy file: that is the root signers' alone.
			rt.git("reset", "-q", "--hard", team.String())
			wide := rt.commit("ssh:ops", "ops widens", map[string]string{policyFile: rt.grant() + `rule ".drover/**" { signers = ["team-acme"] }` + "\n"})
			wantVerdict(t, rt.check(p, team, wide))
			more := rt.commit("ssh:acme", "acme edits the policy", map[string]string{policyFile: rt.grant() + `rule "**" { signers = ["team-acme"] }` + "\n"})
			wantVerdict(t, rt.check(p, wide, more),
				`changes .drover/trust.hcl, which rule ".drover/trust.hcl" lets only ops change, but is signed by carol@acme.example (team-acme)`)
			rt.git("reset", "-q", "--hard", wide.String())
			other := rt.commit("ssh:acme", "acme edits .drover", map[string]string{".drover/notes.txt": "hello\n"})
			wantVerdict(t, rt.check(p, wide, other))
		})
	}
}

// TestRepositoryPolicyRange: the policy of a commit is its parent's, never
// its own. A commit that grants and uses the grant at once is refused; in
// every-commit mode ops's grant followed by the team's commit in one range
// is applied, in head mode the team's head cannot answer for the grant.
func TestRepositoryPolicyRange(t *testing.T) {
	rt := newRepoTeam(t)
	for _, mode := range []Mode{ModeHead, ModeEveryCommit} {
		p := rt.policy(mode)
		rt.git("reset", "-q", "--hard", rt.base.String())
		both := rt.commit("ssh:ops", "ops grants", map[string]string{policyFile: rt.grant()})
		rt.git("reset", "-q", "--hard", rt.base.String())
		// The same grant and its use in one commit by the team.
		self := rt.commit("ssh:acme", "grant and use", map[string]string{policyFile: rt.grant(), "tenants/acme/app.hcl": "a = 3\n"})
		wantVerdict(t, rt.check(p, rt.base, self), `"grant and use" changes .drover/trust.hcl but is signed by an unknown SSH key`)

		rt.git("reset", "-q", "--hard", both.String())
		team := rt.commit("ssh:acme", "acme work", map[string]string{"tenants/acme/app.hcl": "a = 4\n"})
		v := rt.check(p, rt.base, team)
		if mode == ModeEveryCommit {
			wantVerdict(t, v)
		} else {
			wantVerdict(t, v, `"acme work" changes .drover/trust.hcl but is signed by an unknown SSH key`)
		}
	}

	// A grant by ops on a branch the team forked before a revocation does
	// not outlive the revocation: a commit whose parent is outside the
	// range is judged by the running revision's policy.
	p := rt.policy(ModeEveryCommit)
	rt.git("reset", "-q", "--hard", rt.base.String())
	granted := rt.commit("ssh:ops", "ops grants", map[string]string{policyFile: rt.grant()})
	revoked := rt.commit("ssh:ops", "ops revokes", map[string]string{policyFile: rt.acme})
	rt.git("checkout", "-q", "-b", "old", granted.String())
	rt.commit("ssh:acme", "acme on the old grant", map[string]string{"tenants/acme/app.hcl": "a = 5\n"})
	rt.git("checkout", "-q", "main")
	rt.git(append(rt.signArgs("ssh:ops"), "merge", "-q", "--no-ff", "-m", "merge old", "old")...)
	wantVerdict(t, rt.check(p, revoked, rt.head()),
		`"acme on the old grant" changes tenants/acme/app.hcl, which rule "**" lets only ops change`)
}

// TestBrokenRepositoryPolicy: a commit that breaks the policy file is
// refused with the file's line; a running revision whose file is broken
// refuses every change but a root signer's repair of the file.
func TestBrokenRepositoryPolicy(t *testing.T) {
	rt := newRepoTeam(t)
	broken := rt.acme + "\n" + `rule "tenants/acme/**" { signers = ["nobody"] }` + "\n"
	for _, mode := range []Mode{ModeHead, ModeEveryCommit} {
		p := rt.policy(mode)
		rt.git("reset", "-q", "--hard", rt.base.String())
		bad := rt.commit("ssh:ops", "ops breaks", map[string]string{policyFile: broken})
		wantVerdict(t, rt.check(p, rt.base, bad),
			`"ops breaks" changes .drover/trust.hcl, but the new version is broken: .drover/trust.hcl:3,`,
			`names signers "nobody", which no signers block defines`)

		// Applied anyway (a node that ran it before the trust block named
		// the file): the team is refused, a repair by ops is applied.
		team := rt.commit("ssh:ops", "ops edits acme", map[string]string{"tenants/acme/app.hcl": "a = 6\n"})
		wantVerdict(t, rt.check(p, bad, team),
			fmt.Sprintf(`changes tenants/acme/app.hcl, but the repository policy .drover/trust.hcl of commit %s, which judges it, is broken: .drover/trust.hcl:3,`, bad.String()[:12]))
		rt.git("reset", "-q", "--hard", bad.String())
		fixed := rt.commit("ssh:ops", "ops repairs", map[string]string{policyFile: rt.grant()})
		wantVerdict(t, rt.check(p, bad, fixed))
	}
	// Larger than a config file may be: refused unread.
	rt.git("reset", "-q", "--hard", rt.base.String())
	huge := rt.commit("ssh:ops", "ops pads", map[string]string{policyFile: strings.Repeat("# pad\n", 1<<20)})
	wantVerdict(t, rt.check(rt.policy(ModeHead), rt.base, huge),
		`"ops pads" changes .drover/trust.hcl, but the new version is broken: Policy file too large; .drover/trust.hcl is larger than 4194304 bytes`)
}

// TestRepositoryPolicyErrors: the settings of the trust block and of the
// policy file, each with its located message.
func TestRepositoryPolicyErrors(t *testing.T) {
	ops := `signers "ops" { ssh = ["` + testKey + `"] }` + "\n"
	for _, c := range []struct{ name, body, want string }{
		{"roots alone", ops + `rule "**" { signers = ["ops"] }` + "\nroot_signers = [\"ops\"]", "there is none: add repository_policy"},
		{"no roots", ops + `repository_policy = ".drover/trust.hcl"`, "repository_policy needs root_signers"},
		{"unknown roots", ops + `repository_policy = ".drover/trust.hcl"` + "\nroot_signers = [\"dev\"]", `root_signers names signers "dev"`},
		{"loaded as config", ops + `repository_policy = "trust.hcl"` + "\nroot_signers = [\"ops\"]", `put it in a hidden directory`},
		{"pattern", ops + `repository_policy = ".drover/*.hcl"` + "\nroot_signers = [\"ops\"]", "without pattern characters"},
		{"absolute", ops + `repository_policy = "/etc/trust.hcl"` + "\nroot_signers = [\"ops\"]", "drop the leading '/'"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, diags := parseBlock(t, "trust {\n"+c.body+"\n}\n")
			if !strings.Contains(diags, c.want) || !strings.Contains(diags, "agent.hcl:") {
				t.Errorf("diagnostics %q do not say %q with a place", diags, c.want)
			}
		})
	}
	// A block with a repository policy needs no rule of its own.
	policy(t, "trust {\n"+ops+`repository_policy = ".drover/trust.hcl"`+"\nroot_signers = [\"ops\"]\n}\n")

	p := policy(t, "trust {\n"+ops+`repository_policy = ".drover/trust.hcl"`+"\nroot_signers = [\"ops\"]\n}\n")
	for _, c := range []struct{ name, src, want string }{
		{"mode", `mode = "head"`, `.drover/trust.hcl:1,8-14: Setting only the node may make; mode, which commits are checked`},
		{"roots", `root_signers = ["ops"]`, "root_signers, who may change the policy file, is set in the agent configuration's trust block only"},
		{"redefine", ops, `signers "ops" is defined in the agent configuration's trust block`},
		{"syntax", "rule {", ".drover/trust.hcl:1,"},
		{"deep", strings.Repeat("[", 100), "Nesting too deep"},
		{"large", strings.Repeat("#", 5<<20), "Policy file too large; .drover/trust.hcl is larger than 4194304 bytes"},
	} {
		t.Run("file/"+c.name, func(t *testing.T) {
			_, diags := p.withFile(policyFile, []byte(c.src))
			if !strings.Contains(located(diags), c.want) {
				t.Errorf("diagnostics %q do not say %q", located(diags), c.want)
			}
		})
	}
}
