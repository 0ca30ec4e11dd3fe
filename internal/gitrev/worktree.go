package gitrev

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"github.com/drover-sh/drover/spec"
)

// WorkTree returns the config files below the config root as they are on
// disk: committed, modified and untracked files alike, but not untracked
// files that .gitignore (or .git/info/exclude) ignores — what the next
// commit would hold after `git add -A`. As at a commit, hidden directories
// are skipped and symlinks ignored.
func (r *Repo) WorkTree() (map[string]Blob, error) {
	tracked := map[string]bool{}
	if idx, err := r.repo.Storer.Index(); err == nil {
		for _, e := range idx.Entries {
			tracked[e.Name] = true
		}
	}
	patterns, err := gitignore.ReadPatterns(osfs.New(r.top), nil)
	if err != nil {
		return nil, fmt.Errorf("read .gitignore files: %w", err)
	}
	ignore := gitignore.NewMatcher(patterns)
	root := filepath.Join(r.top, filepath.FromSlash(r.sub))
	out := map[string]Blob{}
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		repoPath := rel
		if r.sub != "" {
			repoPath = r.sub + "/" + rel
		}
		if d.IsDir() {
			if p == root {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || ignore.Match(strings.Split(repoPath, "/"), true) && !hasTracked(tracked, repoPath) {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !spec.IsConfigFile(d.Name()) {
			return nil
		}
		if !tracked[repoPath] && ignore.Match(strings.Split(repoPath, "/"), false) {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[rel] = Blob{
			Hash: plumbing.ComputeHash(plumbing.BlobObject, data).String(),
			Read: func() ([]byte, error) { return data, nil },
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read the working tree: %w", err)
	}
	return out, nil
}

// hasTracked reports whether a tracked file lies below directory dir: an
// ignored directory may still hold tracked files.
func hasTracked(tracked map[string]bool, dir string) bool {
	prefix := dir + "/"
	for name := range tracked {
		if strings.HasPrefix(name, prefix) {
			return true
		}
	}
	return false
}

// Head is the commit checked out in the work tree.
func (r *Repo) Head() (Rev, error) {
	ref, err := r.repo.Head()
	if err != nil {
		return Rev{}, fmt.Errorf("read HEAD: %w", err)
	}
	name := "HEAD"
	if ref.Name().IsBranch() {
		name = ref.Name().Short()
	}
	return Rev{Name: name, Hash: ref.Hash()}, nil
}
