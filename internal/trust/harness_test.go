package trust

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/hashicorp/hcl/v2/gohcl"
	"github.com/hashicorp/hcl/v2/hclparse"

	"github.com/drover-sh/drover/internal/testenv"
)

// world is a Git repository and signing keys made for one test: SSH keys
// by ssh-keygen, OpenPGP keys by gpg in a private GNUPGHOME, commits by
// the real git, signed with git commit -S as a team member would.
type world struct {
	t      testing.TB
	dir    string // the repository
	keys   string // key files
	gnupg  string // GNUPGHOME
	pgpFpr map[string]string
}

func newWorld(t testing.TB) *world {
	t.Helper()
	testenv.RequireTools(t, "git", "ssh-keygen", "gpg")
	base := t.TempDir()
	w := &world{t: t, dir: filepath.Join(base, "repo"), keys: filepath.Join(base, "keys"),
		gnupg: filepath.Join(base, "gnupg"), pgpFpr: map[string]string{}}
	for _, d := range []string{w.dir, w.keys, w.gnupg} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		// Only this GNUPGHOME's agent, started by the signing below.
		cmd := exec.Command("gpgconf", "--kill", "gpg-agent")
		cmd.Env = append(os.Environ(), "GNUPGHOME="+w.gnupg)
		_ = cmd.Run()
	})
	w.git("init", "-q", "-b", "main")
	return w
}

// run runs a command in the repository with a clean Git configuration.
func (w *world) run(stdin, name string, args ...string) string {
	w.t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = w.dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1", "GNUPGHOME="+w.gnupg,
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com",
		"GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com")
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (w *world) git(args ...string) string { w.t.Helper(); return w.run("", "git", args...) }

// sshKey makes an ed25519 key and returns its public key line.
func (w *world) sshKey(name string) string {
	w.t.Helper()
	f := filepath.Join(w.keys, name)
	w.run("", "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", name, "-f", f)
	pub, err := os.ReadFile(f + ".pub")
	if err != nil {
		w.t.Fatal(err)
	}
	return strings.TrimSpace(string(pub))
}

// pgpKey makes an OpenPGP key without passphrase and returns its armored
// public key.
func (w *world) pgpKey(name string) string {
	w.t.Helper()
	uid := fmt.Sprintf("%s <%s@example.com>", name, name)
	w.run("", "gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never")
	for _, line := range strings.Split(w.run("", "gpg", "--with-colons", "--list-keys", uid), "\n") {
		if strings.HasPrefix(line, "fpr:") {
			w.pgpFpr[name] = strings.Split(line, ":")[9]
			break
		}
	}
	return w.run("", "gpg", "--armor", "--export", w.pgpFpr[name])
}

// commit writes files ("" deletes one) and commits them signed by key:
// "" unsigned, "ssh:NAME" or "pgp:NAME".
func (w *world) commit(key, msg string, files map[string]string) plumbing.Hash {
	w.t.Helper()
	for name, content := range files {
		p := filepath.Join(w.dir, filepath.FromSlash(name))
		if content == "" {
			w.git("rm", "-q", name)
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			w.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			w.t.Fatal(err)
		}
		w.git("add", name)
	}
	w.git(append(w.signArgs(key), "commit", "-q", "--allow-empty", "-m", msg)...)
	return w.head()
}

// signArgs are the git options that sign with key (see commit).
func (w *world) signArgs(key string) []string {
	kind, name, _ := strings.Cut(key, ":")
	switch kind {
	case "":
		return []string{"-c", "commit.gpgsign=false"}
	case "ssh":
		return []string{"-c", "gpg.format=ssh", "-c", "user.signingkey=" + filepath.Join(w.keys, name), "-c", "commit.gpgsign=true"}
	case "pgp":
		return []string{"-c", "gpg.format=openpgp", "-c", "user.signingkey=" + w.pgpFpr[name], "-c", "commit.gpgsign=true"}
	}
	w.t.Fatalf("unknown key %q", key)
	return nil
}

func (w *world) head() plumbing.Hash { return plumbing.NewHash(w.git("rev-parse", "HEAD")) }

// tamper writes a copy of commit h with its message changed and its
// signature kept, and returns the copy's hash.
func (w *world) tamper(h plumbing.Hash) plumbing.Hash {
	w.t.Helper()
	raw := w.git("cat-file", "commit", h.String())
	if !strings.Contains(raw, "gpgsig") {
		w.t.Fatalf("commit %s is not signed", h)
	}
	forged := raw + " (tampered)\n"
	return plumbing.NewHash(w.run(forged, "git", "hash-object", "-t", "commit", "-w", "--stdin"))
}

// policy decodes a trust block.
func policy(t testing.TB, src string) *Policy {
	t.Helper()
	p, diags := parseBlock(t, src)
	if diags != "" {
		t.Fatalf("trust block: %s", diags)
	}
	return p
}

func parseBlock(t testing.TB, src string) (*Policy, string) {
	t.Helper()
	f, diags := hclparse.NewParser().ParseHCL([]byte(src), "agent.hcl")
	if diags.HasErrors() {
		t.Fatalf("parse: %s", diags)
	}
	var raw struct {
		Trust Block `hcl:"trust,block"`
	}
	if diags := gohcl.DecodeBody(f.Body, nil, &raw); diags.HasErrors() {
		return nil, diags.Error()
	}
	p, diags := Decode(&raw.Trust)
	if diags.HasErrors() {
		return nil, diags.Error()
	}
	return p, ""
}

// check runs p over the repository from base to head.
func (w *world) check(p *Policy, base, head plumbing.Hash) *Verdict {
	w.t.Helper()
	repo, err := git.PlainOpen(w.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	v, err := p.Check(repo.Storer, "", base, head)
	if err != nil {
		w.t.Fatalf("check %s..%s: %v", base, head, err)
	}
	return v
}

// hcl quotes s as an HCL string.
func hclString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "${", "$${", "%{", "%%{").Replace(s) + `"`
}
