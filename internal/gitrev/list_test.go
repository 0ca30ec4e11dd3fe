package gitrev

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
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/drover-sh/drover/spec"
)

// FuzzParseTree: parseTree reads a tree object exactly as go-git's
// Tree.Decode does: the same entries, and an error for the same inputs.
func FuzzParseTree(f *testing.F) {
	hash := strings.Repeat("\x01", 20)
	for _, s := range []string{
		"100644 a.hcl\x00" + hash + "40000 dir\x00" + hash + "120000 link\x00" + hash + "160000 sub\x00" + hash,
		"100755 x\x00" + hash, "100664 old\x00" + hash, "644 odd\x00" + hash, "", "100644 \x00" + hash,
		"100644 a" + hash, "100644 a\x00short", "1x0644 a\x00" + hash, "100644", "40000 d\x00" + hash + "100644 d.hcl\x00" + hash,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		type entry struct {
			mode filemode.FileMode
			name string
			hash plumbing.Hash
		}
		var got []entry
		err := parseTree(data, func(mode filemode.FileMode, name []byte, hash plumbing.Hash) {
			got = append(got, entry{mode, string(name), hash})
		})
		obj := &plumbing.MemoryObject{}
		obj.SetType(plumbing.TreeObject)
		if _, werr := obj.Write(data); werr != nil {
			t.Fatal(werr)
		}
		var tree object.Tree
		derr := tree.Decode(obj)
		if (err == nil) != (derr == nil) {
			t.Fatalf("parseTree: %v; go-git: %v", err, derr)
		}
		if err != nil {
			return
		}
		var want []entry
		for _, e := range tree.Entries {
			want = append(want, entry{e.Mode, e.Name, e.Hash})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("parseTree read %v, go-git %v", got, want)
		}
	})
}

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
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@drover.invalid", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@drover.invalid")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	write := func(name, content string) {
		t.Helper()
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run("init", "-q", "-b", "main")
	write("cluster.hcl", "# c\n")
	write("README.md", "not config\n")
	write(".hidden/x.hcl", "# hidden\n")
	write("nodes/web.hcl", "# nodes\n")
	for _, n := range []string{"a", "b", "c", "d", "e", "foo"} {
		write("tenants/"+n+".hcl", "# "+n+"\n")
	}
	write("tenants/foo.d/x.hcl", "# a directory sorting next to foo.hcl\n")
	if err := os.Symlink("a.hcl", filepath.Join(dir, "tenants/link.hcl")); err != nil {
		t.Fatal(err)
	}
	steps := []func(){
		func() {},
		func() { write("tenants/c.hcl", "# c changed\n") },
		func() {
			write("tenants/bb.hcl", "# added\n")
			os.Remove(filepath.Join(dir, "tenants/d.hcl"))
		},
		func() { os.Chmod(filepath.Join(dir, "tenants/e.hcl"), 0o755) },
		func() {
			os.Remove(filepath.Join(dir, "tenants/link.hcl"))
			write("tenants/link.hcl", "# a file now\n")
		},
		func() { write("nodes/web.hcl", "# nodes changed\n") },
		func() {}, // nothing changed but the commit
	}
	repo := func() *gogit.Repository {
		r, err := gogit.PlainOpen(dir)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var l Lister
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
		fresh, err := TreeEntries(context.Background(), r.Storer, tree, read)
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
