package gitrev

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/format/gitignore"

	"github.com/drover-sh/drover/spec"
)

// WorkTree returns the entries below the config root as they are on disk:
// committed, modified and untracked files alike, but not untracked files
// that .gitignore (or .git/info/exclude) ignores — what the next commit
// would hold after `git add -A` — listed by the rules of every reader
// (spec.WalkDir: symbolic links and submodules are entries, and errors).
// Files are read up to maxBytes together, the bound of the Loader that
// decodes them (spec.Loader.MaxBytes; 0 is the default).
func (r *Repo) WorkTree(maxBytes int) (map[string]Blob, error) {
	if maxBytes <= 0 {
		maxBytes = spec.DefaultMaxRepoBytes
	}
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
	matcher := gitignore.NewMatcher(patterns)
	ignored := func(rel string, dir bool) bool {
		repoPath := rel
		if r.sub != "" {
			repoPath = r.sub + "/" + rel
		}
		if !matcher.Match(strings.Split(repoPath, "/"), dir) {
			return false
		}
		if dir {
			return !hasTracked(tracked, repoPath)
		}
		return !tracked[repoPath]
	}
	srcs, err := spec.WalkDir(filepath.Join(r.top, filepath.FromSlash(r.sub)), ignored)
	if err != nil {
		return nil, fmt.Errorf("read the working tree: %w", err)
	}
	// The content is read now, for its blob hash: plan shares decoded files
	// between base and head by hash. Past the Loader's total bound the rest
	// is left for the Loader, which reports the bound without reading it.
	total := 0
	for name, s := range srcs {
		if s.Kind != spec.Regular || total > maxBytes {
			continue
		}
		data, err := s.Read()
		if err != nil {
			return nil, fmt.Errorf("read the working tree: %w", err)
		}
		total += len(data)
		s.Hash = plumbing.ComputeHash(plumbing.BlobObject, data).String()
		s.Read = func() ([]byte, error) { return data, nil }
		s.Parallel = true
		srcs[name] = s
	}
	return srcs, nil
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
