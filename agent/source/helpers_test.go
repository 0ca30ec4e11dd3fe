package source

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5"
)

// TestMain isolates the git CLI (used to build fixtures, and run by go-git's
// file transport as git-upload-pack) from the developer's configuration.
func TestMain(m *testing.M) {
	for k, v := range map[string]string{
		"GIT_CONFIG_GLOBAL":   "/dev/null",
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_AUTHOR_NAME":     "Drover Test",
		"GIT_AUTHOR_EMAIL":    "test@drover.invalid",
		"GIT_COMMITTER_NAME":  "Drover Test",
		"GIT_COMMITTER_EMAIL": "test@drover.invalid",
		"GIT_TERMINAL_PROMPT": "0",
	} {
		os.Setenv(k, v)
	}
	os.Exit(m.Run())
}

// repo is a fixture repository with a work tree, built with the git CLI.
type repo struct {
	t   testing.TB
	dir string
}

// newRepo makes an empty repository whose branch is main.
func newRepo(t testing.TB) *repo {
	t.Helper()
	r := &repo{t: t, dir: filepath.Join(t.TempDir(), "config")}
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r.git("init", "-q", "-b", "main")
	return r
}

// git runs the git CLI in the repository and returns its trimmed output.
func (r *repo) git(args ...string) string {
	r.t.Helper()
	return runGit(r.t, r.dir, args...)
}

func runGit(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

// write writes files (slash paths) into the work tree; "" content deletes.
func (r *repo) write(files map[string]string) {
	r.t.Helper()
	for name, content := range files {
		p := filepath.Join(r.dir, filepath.FromSlash(name))
		if content == "" {
			if err := os.Remove(p); err != nil {
				r.t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

// commit writes files, commits everything and returns the new head.
func (r *repo) commit(msg string, files map[string]string) string {
	r.t.Helper()
	r.write(files)
	r.git("add", "-A")
	r.git("commit", "-q", "--allow-empty", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

// bare makes a bare clone of r beside it and sets it as r's origin.
func (r *repo) bare() string {
	r.t.Helper()
	dst := filepath.Join(filepath.Dir(r.dir), "config.git")
	runGit(r.t, filepath.Dir(r.dir), "clone", "-q", "--bare", r.dir, dst)
	r.git("remote", "add", "origin", dst)
	return dst
}

// mustNew calls New or fails the test.
func mustNew(t testing.TB, o Options) *Source {
	t.Helper()
	s, err := New(o)
	if err != nil {
		t.Fatalf("New(%+v): %v", o, err)
	}
	return s
}

// poll runs Head then Fetch, as the agent does on a poll.
func poll(t testing.TB, s *Source) (string, FetchResult) {
	t.Helper()
	ctx := context.Background()
	head, err := s.Head(ctx)
	if err != nil {
		t.Fatalf("Head: %v", err)
	}
	res, err := s.Fetch(ctx, head)
	if err != nil {
		t.Fatalf("Fetch(%s): %v", head, err)
	}
	return head, res
}

// contents reads every blob of files into name → content.
func contents(t testing.TB, files map[string]Blob) map[string]string {
	t.Helper()
	out := map[string]string{}
	for name, b := range files {
		data, err := b.Read()
		if err != nil {
			t.Fatalf("Read %s: %v", name, err)
		}
		out[name] = string(data)
	}
	return out
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// cacheCommits counts the distinct commits in the cache and returns its shallow list.
func cacheCommits(t testing.TB, cacheDir string) (int, []string) {
	t.Helper()
	dir := filepath.Join(cacheDir, cacheName)
	r, err := git.PlainOpen(dir)
	if err != nil {
		t.Fatal(err)
	}
	iter, err := r.CommitObjects()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{} // a commit may be in several packs
	for {
		c, err := iter.Next()
		if err != nil {
			break
		}
		seen[c.Hash.String()] = true
	}
	n := len(seen)
	var shallow []string
	if b, err := os.ReadFile(filepath.Join(dir, "shallow")); err == nil {
		shallow = strings.Fields(string(b))
		sort.Strings(shallow)
	}
	return n, shallow
}
