package gitrev_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/gitrev"
	"github.com/drover-sh/drover/spec"
)

// git runs git in dir with a clean configuration.
func git(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@drover.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@drover.invalid")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func names(files map[string]gitrev.Blob) string {
	var out []string
	for n := range files {
		out = append(out, n)
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

func newRepo(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	dir := t.TempDir()
	git(t, dir, "init", "-q", "-b", "main")
	write(t, filepath.Join(dir, "README.md"), "not config\n")
	write(t, filepath.Join(dir, "config/cluster.hcl"), "cluster \"c\" {}\n")
	write(t, filepath.Join(dir, "config/tenants/a.hcl"), "# a\n")
	write(t, filepath.Join(dir, "config/tenants/gone.hcl"), "# gone\n")
	write(t, filepath.Join(dir, "config/forced.hcl"), "# tracked although ignored\n")
	write(t, filepath.Join(dir, "config/.hidden/x.hcl"), "# hidden\n")
	write(t, filepath.Join(dir, ".gitignore"), "*.local.hcl\nforced.hcl\nbuild/\n")
	git(t, dir, "add", "-A")
	git(t, dir, "add", "-f", "config/forced.hcl")
	git(t, dir, "commit", "-q", "-m", "base")
	return dir
}

// TestWorkTree: the working tree as the next commit would hold it.
func TestWorkTree(t *testing.T) {
	dir := newRepo(t)
	write(t, filepath.Join(dir, "config/tenants/a.hcl"), "# a, changed\n")
	write(t, filepath.Join(dir, "config/tenants/new.hcl"), "# untracked\n")
	write(t, filepath.Join(dir, "config/tenants/me.local.hcl"), "# ignored\n")
	write(t, filepath.Join(dir, "config/build/out.hcl"), "# ignored directory\n")
	if err := os.Remove(filepath.Join(dir, "config/tenants/gone.hcl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("a.hcl", filepath.Join(dir, "config/tenants/link.hcl")); err != nil {
		t.Fatal(err)
	}
	r, err := gitrev.Open(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Root() != "config" {
		t.Errorf("root %q", r.Root())
	}
	files, err := r.WorkTree(0)
	if err != nil {
		t.Fatal(err)
	}
	// The link is listed, as a link (the Loader rejects it), never read.
	if got, want := names(files), "cluster.hcl forced.hcl tenants/a.hcl tenants/link.hcl tenants/new.hcl"; got != want {
		t.Errorf("work tree files\n got %s\nwant %s", got, want)
	}
	if k := files["tenants/link.hcl"].Kind; k != spec.Symlink {
		t.Errorf("link.hcl kind %v, want Symlink", k)
	}
	data, _ := files["tenants/a.hcl"].Read()
	if string(data) != "# a, changed\n" {
		t.Errorf("a.hcl: %q", data)
	}
	// The hash is Git's blob hash.
	if want := git(t, dir, "hash-object", "config/tenants/a.hcl"); files["tenants/a.hcl"].Hash != want {
		t.Errorf("hash %s, git says %s", files["tenants/a.hcl"].Hash, want)
	}

	head, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := r.Files(head)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(committed), "cluster.hcl forced.hcl tenants/a.hcl tenants/gone.hcl"; got != want {
		t.Errorf("committed files\n got %s\nwant %s", got, want)
	}
	data, _ = committed["tenants/a.hcl"].Read()
	if string(data) != "# a\n" {
		t.Errorf("committed a.hcl: %q", data)
	}
}

// TestBase: the default branch and merge base of a feature branch.
func TestBase(t *testing.T) {
	dir := newRepo(t)
	base := git(t, dir, "rev-parse", "HEAD")
	git(t, dir, "checkout", "-q", "-b", "feature")
	write(t, filepath.Join(dir, "config/tenants/b.hcl"), "# b\n")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "feature")
	git(t, dir, "checkout", "-q", "main")
	write(t, filepath.Join(dir, "config/tenants/c.hcl"), "# c\n")
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "main moves on")
	git(t, dir, "checkout", "-q", "feature")

	r, err := gitrev.Open(dir + "/config")
	if err != nil {
		t.Fatal(err)
	}
	branch, err := r.DefaultBranch()
	if err != nil || branch != "main" {
		t.Fatalf("default branch %q, %v", branch, err)
	}
	head, _ := r.Head()
	tip, err := r.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	mb, err := r.MergeBase(head, tip)
	if err != nil {
		t.Fatal(err)
	}
	if mb.String() != base {
		t.Errorf("merge base %s, want %s", mb, base)
	}
	// origin/HEAD wins over main when there is a remote.
	git(t, dir, "update-ref", "refs/remotes/origin/trunk", tip.Hash.String())
	git(t, dir, "symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/trunk")
	if branch, err := r.DefaultBranch(); err != nil || branch != "origin/trunk" {
		t.Errorf("default branch %q, %v; want origin/trunk", branch, err)
	}
	// A config root missing at a revision has no files.
	if err := os.MkdirAll(filepath.Join(dir, "other"), 0o755); err != nil {
		t.Fatal(err)
	}
	r2, err := gitrev.Open(filepath.Join(dir, "other"))
	if err != nil {
		t.Fatal(err)
	}
	files, err := r2.Files(head)
	if err != nil || len(files) != 0 {
		t.Errorf("missing root: %v %v", names(files), err)
	}
}

// TestCommittedSymlinks: links committed anywhere below the config root
// (to a file outside the repository, to a directory) are listed as links
// in the commit and in the working tree alike, whatever their names, and
// a Loader rejects them naming the path without reading the target.
func TestCommittedSymlinks(t *testing.T) {
	dir := newRepo(t)
	if err := os.Symlink("/proc/self/environ", filepath.Join(dir, "config/leak.hcl")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("../..", filepath.Join(dir, "config/tenants/up")); err != nil {
		t.Fatal(err)
	}
	git(t, dir, "add", "-A")
	git(t, dir, "commit", "-q", "-m", "links")
	r, err := gitrev.Open(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := r.Head()
	if err != nil {
		t.Fatal(err)
	}
	committed, err := r.Files(head)
	if err != nil {
		t.Fatal(err)
	}
	worktree, err := r.WorkTree(0)
	if err != nil {
		t.Fatal(err)
	}
	for what, files := range map[string]map[string]gitrev.Blob{"commit": committed, "work tree": worktree} {
		for _, name := range []string{"leak.hcl", "tenants/up"} {
			if files[name].Kind != spec.Symlink {
				t.Errorf("%s: %s listed as %+v, want a symlink", what, name, files[name])
			}
		}
		_, _, diags, err := spec.NewLoader().Load(files)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, d := range diags {
			if d.Summary == "Symbolic link in the configuration" {
				got = append(got, d.Subject.Filename)
			}
			if strings.Contains(d.Detail, "PATH=") {
				t.Errorf("%s: a diagnostic shows the link's target: %s", what, d.Detail)
			}
		}
		if strings.Join(got, " ") != "leak.hcl tenants/up" {
			t.Errorf("%s: symlink errors for %q, want leak.hcl and tenants/up; all: %v", what, got, diags)
		}
	}
}

// openPacks counts this process's open descriptors on pack files.
func openPacks(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("needs /proc/self/fd")
	}
	n := 0
	for _, fd := range fds {
		if target, err := os.Readlink(filepath.Join("/proc/self/fd", fd.Name())); err == nil && strings.HasSuffix(target, ".pack") {
			n++
		}
	}
	return n
}

// TestBlobReadersKeepPacksOpen: reading the blobs of a packed revision
// opens its pack once per reader and keeps it open (go-git's default
// opened it again for every object), and Close closes them.
func TestBlobReadersKeepPacksOpen(t *testing.T) {
	dir := newRepo(t)
	git(t, dir, "gc", "-q")
	before := openPacks(t)
	r, err := gitrev.Open(filepath.Join(dir, "config"))
	if err != nil {
		t.Fatal(err)
	}
	head, err := r.Resolve("main")
	if err != nil {
		t.Fatal(err)
	}
	files, err := r.Files(head)
	if err != nil {
		t.Fatal(err)
	}
	for name, b := range files {
		data, err := b.Read()
		if err != nil || len(data) == 0 {
			t.Fatalf("read %s: %q %v", name, data, err)
		}
	}
	if open := openPacks(t) - before; open < 1 {
		t.Fatalf("no pack file open after reading %d blobs: the readers do not keep them", len(files))
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if open := openPacks(t) - before; open != 0 {
		t.Fatalf("%d pack files still open after Close", open)
	}
}
