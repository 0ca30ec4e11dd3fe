package gitrev_test

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unsafe"

	gogit "github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/drover-sh/drover/internal/gitrev"
	"github.com/drover-sh/drover/spec"
)

// countingStorer counts the tree objects read.
type countingStorer struct {
	storer.EncodedObjectStorer
	trees int
}

func (c *countingStorer) EncodedObject(t plumbing.ObjectType, h plumbing.Hash) (plumbing.EncodedObject, error) {
	if t == plumbing.TreeObject {
		c.trees++
	}
	return c.EncodedObjectStorer.EncodedObject(t, h)
}

// TestListerMatchesGit: a Lister's listings, over commits that change,
// add, remove and retype entries, are what `git ls-tree -r` shows by the
// readers' rules, and what a fresh listing (no Lister) gives; an unchanged
// directory is not read again, and an unchanged entry keeps its strings.
func TestListerMatchesGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("needs git")
	}
	dir := t.TempDir()
	run := func(args ...string) string { t.Helper(); return git(t, dir, args...) + "\n" }
	put := func(name, content string) { t.Helper(); write(t, filepath.Join(dir, name), content) }
	run("init", "-q", "-b", "main")
	put("cluster.hcl", "# c\n")
	put("README.md", "not config\n")
	put(".hidden/x.hcl", "# hidden\n")
	put("nodes/web.hcl", "# nodes\n")
	for _, n := range []string{"a", "b", "c", "d", "e", "foo"} {
		put("tenants/"+n+".hcl", "# "+n+"\n")
	}
	put("tenants/foo.d/x.hcl", "# a directory sorting next to foo.hcl\n")
	if err := os.Symlink("a.hcl", filepath.Join(dir, "tenants/link.hcl")); err != nil {
		t.Fatal(err)
	}
	steps := []func(){
		func() {},
		func() { put("tenants/c.hcl", "# c changed\n") },
		func() {
			put("tenants/bb.hcl", "# added\n")
			os.Remove(filepath.Join(dir, "tenants/d.hcl"))
		},
		func() { os.Chmod(filepath.Join(dir, "tenants/e.hcl"), 0o755) },
		func() {
			os.Remove(filepath.Join(dir, "tenants/link.hcl"))
			put("tenants/link.hcl", "# a file now\n")
		},
		func() { put("nodes/web.hcl", "# nodes changed\n") },
		func() {}, // nothing changed but the commit
	}
	repo := func() *gogit.Repository {
		r, err := gogit.PlainOpen(dir)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var l gitrev.Lister
	var last map[string]spec.Entry
	read := func(plumbing.Hash, string) func() ([]byte, error) { return nil }
	for i, step := range steps {
		step()
		run("add", "-A")
		run("commit", "-q", "--allow-empty", "-m", "step")
		r := repo()
		c, err := r.CommitObject(plumbing.NewHash(strings.TrimSpace(run("rev-parse", "HEAD"))))
		if err != nil {
			t.Fatal(err)
		}
		tree, err := c.Tree()
		if err != nil {
			t.Fatal(err)
		}
		st := &countingStorer{EncodedObjectStorer: r.Storer}
		got, err := l.TreeEntries(context.Background(), st, tree, read)
		if err != nil {
			t.Fatal(err)
		}
		fresh, err := gitrev.TreeEntries(context.Background(), r.Storer, tree, read)
		if err != nil {
			t.Fatal(err)
		}
		if g, f, w := listed(got), listed(fresh), lsTree(t, run("ls-tree", "-r", "HEAD")); g != w || f != w {
			t.Fatalf("step %d: the Lister listed\n%s\na fresh listing\n%s\ngit ls-tree, by the rules\n%s", i, g, f, w)
		}
		if i == 0 {
			if st.trees != 4 { // the top, .hidden is skipped, nodes, tenants, tenants/foo.d
				t.Errorf("step 0: %d trees read, want 4", st.trees)
			}
		}
		if i == len(steps)-1 {
			if st.trees != 0 {
				t.Errorf("an unchanged tree: %d trees read again, want none", st.trees)
			}
		}
		if i == 1 {
			if st.trees != 2 { // the top and tenants; nodes and tenants/foo.d unchanged
				t.Errorf("step 1: %d trees read, want 2", st.trees)
			}
			for name, e := range got {
				if name == "tenants/c.hcl" {
					continue
				}
				if unsafe.StringData(e.Hash) != unsafe.StringData(last[name].Hash) {
					t.Errorf("step 1: %s unchanged, but its hash string was made again", name)
				}
			}
		}
		last = got
	}
}

// listed is a listing as "path kind hash" lines, sorted.
func listed(m map[string]spec.Entry) string {
	var lines []string
	for name, e := range m {
		lines = append(lines, name+" "+kindName(e.Kind)+" "+e.Hash)
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}

func kindName(k spec.Kind) string {
	switch k {
	case spec.Regular:
		return "file"
	case spec.Symlink:
		return "link"
	case spec.Submodule:
		return "submodule"
	}
	return "other"
}

// lsTree is `git ls-tree -r` output filtered by the readers' rules.
func lsTree(t *testing.T, out string) string {
	var lines []string
	for line := range strings.Lines(out) {
		meta, name, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		f := strings.Fields(meta)
		if !ok || len(f) != 3 {
			t.Fatalf("ls-tree line %q", line)
		}
		kind := spec.Regular
		switch f[0] {
		case "120000":
			kind = spec.Symlink
		case "160000":
			kind = spec.Submodule
		}
		skip := false
		for _, d := range strings.Split(path.Dir(name), "/") {
			skip = skip || d != "." && spec.SkipDir(d)
		}
		if !skip && spec.Wanted(path.Base(name), kind) {
			lines = append(lines, name+" "+kindName(kind)+" "+f[2])
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
