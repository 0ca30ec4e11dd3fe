package trust

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
)

// team is a world with the keys of three groups and a stranger, and a
// first commit signed by ops.
type team struct {
	*world
	base plumbing.Hash
	src  string // the trust block, without mode
}

func newTeam(t *testing.T) *team {
	w := newWorld(t)
	ops, acme, beta := w.sshKey("ops"), w.sshKey("acme"), w.sshKey("beta")
	w.sshKey("stranger")
	opsPGP := w.pgpKey("opspgp")
	src := fmt.Sprintf(`
  signers "ops" {
    ssh     = [%s]
    openpgp = [%s]
  }
  signers "team-acme" { ssh = [%s] }
  signers "team-beta" { ssh = [%s] }
  rule "**"              { signers = ["ops"] }
  rule "tenants/acme/**" { signers = ["ops", "team-acme"] }
  rule "tenants/beta/**" { signers = ["ops", "team-beta"] }
}`, hclString("ops@example.com "+ops), hclString(opsPGP), hclString("carol@acme.example "+acme), hclString(beta))
	tm := &team{world: w, src: src}
	tm.base = w.commit("ssh:ops", "cluster", map[string]string{
		"cluster.hcl": "cluster {}\n", "tenants/acme/app.hcl": "a = 1\n", "tenants/beta/app.hcl": "b = 1\n"})
	return tm
}

func (tm *team) policy(mode Mode) *Policy {
	return policy(tm.t, fmt.Sprintf("trust {\n  mode = %q\n%s", mode, tm.src))
}

// wantVerdict checks that v is trusted (want == "") or that its reason
// holds every line of want.
func wantVerdict(t *testing.T, v *Verdict, want ...string) {
	t.Helper()
	if len(want) == 0 {
		if !v.Trusted() {
			t.Fatalf("refused, want trusted:\n%s", v.Reason())
		}
		return
	}
	if v.Trusted() {
		t.Fatalf("trusted, want refused with %q", want)
	}
	for _, w := range want {
		if !strings.Contains(v.Reason(), w) {
			t.Errorf("reason does not say %q:\n%s", w, v.Reason())
		}
	}
}

// TestSignedCommits: a commit signed by a key the rules allow is trusted,
// SSH and OpenPGP alike; unsigned, unknown and another team's commits are
// refused, each naming the commit, the path and the signer.
func TestSignedCommits(t *testing.T) {
	tm := newTeam(t)
	for _, mode := range []Mode{ModeHead, ModeEveryCommit} {
		p := tm.policy(mode)
		for _, c := range []struct {
			name, key string
			files     map[string]string
			want      []string
		}{
			{"ops ssh", "ssh:ops", map[string]string{"cluster.hcl": "cluster { x = 1 }\n"}, nil},
			{"ops openpgp", "pgp:opspgp", map[string]string{"cluster.hcl": "cluster { x = 2 }\n"}, nil},
			{"team on its path", "ssh:acme", map[string]string{"tenants/acme/app.hcl": "a = 2\n"}, nil},
			{"unsigned", "", map[string]string{"tenants/acme/app.hcl": "a = 3\n"},
				[]string{`"unsigned"`, "changes tenants/acme/app.hcl but is signed by unsigned"}},
			{"unknown key", "ssh:stranger", map[string]string{"cluster.hcl": "cluster { x = 3 }\n"},
				[]string{"changes cluster.hcl but is signed by an unknown SSH key SHA256:"}},
			{"another team", "ssh:beta", map[string]string{"tenants/acme/app.hcl": "a = 4\n"},
				[]string{`changes tenants/acme/app.hcl, which rule "tenants/acme/**" lets only ops, team-acme change, but is signed by beta (team-beta)`}},
			{"team outside its path", "ssh:acme", map[string]string{"cluster.hcl": "cluster { x = 4 }\n"},
				[]string{`changes cluster.hcl, which rule "**" lets only ops change, but is signed by carol@acme.example (team-acme)`}},
			{"deletion", "ssh:acme", map[string]string{"tenants/beta/app.hcl": ""},
				[]string{`changes tenants/beta/app.hcl, which rule "tenants/beta/**"`}},
		} {
			t.Run(string(mode)+"/"+c.name, func(t *testing.T) {
				tm.git("reset", "-q", "--hard", tm.base.String())
				head := tm.commit(c.key, c.name, c.files)
				v := tm.check(p, tm.base, head)
				wantVerdict(t, v, c.want...)
				if len(c.want) > 0 && !strings.Contains(v.Reason(), head.String()[:12]) {
					t.Errorf("reason does not name commit %s:\n%s", head, v.Reason())
				}
			})
		}
	}
}

// TestEveryCommit: a properly signed head on top of an unauthorised commit
// is refused in every-commit mode; head mode lets the head's signer answer
// for everything since the applied revision.
func TestEveryCommit(t *testing.T) {
	tm := newTeam(t)
	bad := tm.commit("", "sneak", map[string]string{"cluster.hcl": "cluster { evil = true }\n"})
	head := tm.commit("ssh:ops", "innocent", map[string]string{"tenants/beta/app.hcl": "b = 2\n"})
	wantVerdict(t, tm.check(tm.policy(ModeEveryCommit), tm.base, head),
		fmt.Sprintf("commit %s \"sneak\" changes cluster.hcl but is signed by unsigned", bad.String()[:12]))
	wantVerdict(t, tm.check(tm.policy(ModeHead), tm.base, head))

	// A team head over another team's unauthorised change: refused in
	// both modes.
	tm.git("reset", "-q", "--hard", tm.base.String())
	tm.commit("ssh:beta", "beta edits acme", map[string]string{"tenants/acme/app.hcl": "a = 9\n"})
	head = tm.commit("ssh:acme", "acme edits acme", map[string]string{"tenants/acme/app.hcl": "a = 10\n"})
	wantVerdict(t, tm.check(tm.policy(ModeEveryCommit), tm.base, head), "signed by beta (team-beta)")
	wantVerdict(t, tm.check(tm.policy(ModeHead), tm.base, head)) // acme answers for the path's final content

	// Commits each signed by who may change their paths: trusted.
	tm.git("reset", "-q", "--hard", tm.base.String())
	tm.commit("ssh:ops", "ops", map[string]string{"cluster.hcl": "cluster { y = 1 }\n"})
	head = tm.commit("ssh:acme", "acme", map[string]string{"tenants/acme/app.hcl": "a = 11\n"})
	wantVerdict(t, tm.check(tm.policy(ModeEveryCommit), tm.base, head))
	wantVerdict(t, tm.check(tm.policy(ModeHead), tm.base, head), `changes cluster.hcl, which rule "**" lets only ops change`)
}

// TestTampered: a signed commit copied with its content changed and its
// signature kept is refused, for SSH and OpenPGP signatures.
func TestTampered(t *testing.T) {
	tm := newTeam(t)
	for _, key := range []string{"ssh:ops", "pgp:opspgp"} {
		tm.git("reset", "-q", "--hard", tm.base.String())
		good := tm.commit(key, "change", map[string]string{"cluster.hcl": "cluster { z = 1 }\n"})
		p := tm.policy(ModeHead)
		wantVerdict(t, tm.check(p, tm.base, good))
		forged := tm.tamper(good)
		wantVerdict(t, tm.check(p, tm.base, forged), "but is signed by a bad")
	}
}

// TestMerges: a merge commit must be signed, and answers for the paths it
// changes relative to its first parent; the merged commits are checked on
// their own.
func TestMerges(t *testing.T) {
	tm := newTeam(t)
	p := tm.policy(ModeEveryCommit)
	tm.git("checkout", "-q", "-b", "acme")
	tm.commit("ssh:acme", "acme work", map[string]string{"tenants/acme/app.hcl": "a = 20\n"})
	tm.git("checkout", "-q", "main")
	tm.commit("ssh:ops", "ops work", map[string]string{"cluster.hcl": "cluster { m = 1 }\n"})
	main := tm.head()

	merge := func(key string) plumbing.Hash {
		tm.git("reset", "-q", "--hard", main.String())
		tm.git(append(tm.signArgs(key), "merge", "-q", "--no-ff", "-m", "merge acme", "acme")...)
		return tm.head()
	}
	// Signed by ops, or by the team whose path the merge brings in.
	wantVerdict(t, tm.check(p, tm.base, merge("ssh:ops")))
	wantVerdict(t, tm.check(p, tm.base, merge("ssh:acme")))
	// Unsigned: refused, though every merged commit is signed.
	m := merge("")
	wantVerdict(t, tm.check(p, tm.base, m), fmt.Sprintf("commit %s \"merge acme\" changes tenants/acme/app.hcl but is signed by unsigned", m.String()[:12]))

	// An unsigned commit on the merged branch: refused, though the merge
	// is signed by ops.
	tm.git("checkout", "-q", "acme")
	tm.commit("", "unsigned on acme", map[string]string{"tenants/acme/app.hcl": "a = 21\n"})
	tm.git("checkout", "-q", "main")
	wantVerdict(t, tm.check(p, tm.base, merge("ssh:ops")), `"unsigned on acme" changes tenants/acme/app.hcl but is signed by unsigned`)

	// main merged into the team's branch by the team, then fast-forwarded:
	// the merge brings cluster.hcl in relative to its first parent.
	tm.git("checkout", "-q", "acme")
	tm.git("reset", "-q", "--hard", "HEAD~1")
	tm.git(append(tm.signArgs("ssh:acme"), "merge", "-q", "--no-ff", "-m", "sync main", "main")...)
	wantVerdict(t, tm.check(p, tm.base, tm.head()), `"sync main" changes cluster.hcl, which rule "**" lets only ops change`)
}

// TestRewrittenHistory: when the new head does not descend from the
// applied revision, every-commit mode also checks the head against
// everything that differs, so dropping an ops commit needs ops.
func TestRewrittenHistory(t *testing.T) {
	tm := newTeam(t)
	applied := tm.commit("ssh:ops", "fix", map[string]string{"cluster.hcl": "cluster { fixed = true }\n"})
	tm.git("reset", "-q", "--hard", tm.base.String())
	head := tm.commit("ssh:acme", "acme", map[string]string{"tenants/acme/app.hcl": "a = 30\n"})
	wantVerdict(t, tm.check(tm.policy(ModeEveryCommit), applied, head), `"acme" changes cluster.hcl, which rule "**" lets only ops change`)
}

// TestNoBase: with nothing applied, the head's signer must be allowed to
// change every path of the tree.
func TestNoBase(t *testing.T) {
	tm := newTeam(t)
	head := tm.commit("ssh:acme", "acme", map[string]string{"tenants/acme/app.hcl": "a = 40\n"})
	for _, mode := range []Mode{ModeHead, ModeEveryCommit} {
		wantVerdict(t, tm.check(tm.policy(mode), plumbing.ZeroHash, head), "changes cluster.hcl", "changes tenants/beta/app.hcl")
	}
	head = tm.commit("ssh:ops", "ops", nil) // an empty commit by ops vouches for the tree
	wantVerdict(t, tm.check(tm.policy(ModeEveryCommit), plumbing.ZeroHash, head))
}

// TestSSHSignerOptions: the allowed_signers options are honoured: a key
// limited to another namespace, or expired, signs nothing.
func TestSSHSignerOptions(t *testing.T) {
	tm := newTeam(t)
	key := tm.sshKey("limited")
	head := tm.commit("ssh:limited", "limited", map[string]string{"cluster.hcl": "cluster { l = 1 }\n"})
	for _, c := range []struct{ line, want string }{
		{`dave@example.com namespaces="git" ` + key, ""},
		{`dave@example.com namespaces="file,mail" ` + key, `whose allowed_signers lines do not admit namespace "git"`},
		{`dave@example.com valid-before="20200101" ` + key, "do not admit"},
		{`dave@example.com valid-after="29990101Z" ` + key, "do not admit"},
	} {
		p := policy(t, fmt.Sprintf("trust {\n signers \"ops\" { ssh = [%s] }\n rule \"**\" { signers = [\"ops\"] }\n}", hclString(c.line)))
		v := tm.check(p, tm.base, head)
		if c.want == "" {
			wantVerdict(t, v)
		} else {
			wantVerdict(t, v, c.want)
		}
	}
}

// TestHugeCommitRefused: a pushed commit larger than maxCommitBytes is not
// decoded (nor encoded again for its signature): the check fails, naming
// its size.
func TestHugeCommitRefused(t *testing.T) {
	tm := newTeam(t)
	msg := filepath.Join(t.TempDir(), "msg")
	if err := os.WriteFile(msg, []byte("big\n\n"+strings.Repeat("x", maxCommitBytes)), 0o644); err != nil {
		t.Fatal(err)
	}
	tm.git(append(tm.signArgs("ssh:ops"), "commit", "-q", "--allow-empty", "-F", msg)...)
	huge := tm.head()
	repo, err := git.PlainOpen(tm.dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = tm.policy(ModeHead).Check(repo.Storer, "", tm.base, huge)
	if err == nil || !strings.Contains(err.Error(), "more than the 1048576 a commit may have") {
		t.Fatalf("check of a huge commit: %v, want refused for its size", err)
	}
}
