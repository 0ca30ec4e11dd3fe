// Package gitrev reads the config files of a drover repository at a Git
// revision, or from the working tree, straight from the local repository
// (go-git: no git binary, no network). `drover plan` compares two such
// snapshots.
package gitrev

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"

	"github.com/drover-sh/drover/spec"
)

// Blob is one entry of a snapshot, as every reader lists it.
type Blob = spec.Entry

// Repo is the Git repository holding a config root.
type Repo struct {
	repo *git.Repository
	top  string // the work tree's top directory, absolute
	sub  string // the config root relative to top, slash-separated, "" for top
	// stores are object stores of the repository, each opened on its own:
	// go-git's store is not safe for concurrent use, and blobs are read
	// several at a time (a Loader reads Parallel entries so), each read
	// taking a store from here and putting it back. The first is opened
	// with the Repo, the others at the first blob read (openStores); each
	// keeps its pack files open until Close.
	stores     chan storer.EncodedObjectStorer
	openStores sync.Once
}

// blobReaders is how many blobs a Repo reads at once.
const blobReaders = 4

// Open opens the repository containing dir (dir or any parent holds .git);
// dir is the config root.
func Open(dir string) (*Repo, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if st, err := os.Stat(abs); err != nil {
		return nil, err
	} else if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", dir)
	}
	repo, err := git.PlainOpenWithOptions(abs, &git.PlainOpenOptions{DetectDotGit: true, EnableDotGitCommonDir: true})
	if err != nil {
		return nil, fmt.Errorf("open the Git repository containing %s: %w", dir, err)
	}
	wt, err := repo.Worktree()
	if err != nil {
		return nil, fmt.Errorf("open the Git repository containing %s: %w", dir, err)
	}
	top := wt.Filesystem.Root()
	// Compare real paths: dir may reach the repository through a symlink.
	realTop, err := filepath.EvalSymlinks(top)
	if err != nil {
		return nil, err
	}
	realDir, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(realTop, realDir)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return nil, fmt.Errorf("%s is not inside the work tree %s", dir, top)
	}
	sub := filepath.ToSlash(rel)
	if sub == "." {
		sub = ""
	}
	r := &Repo{repo: repo, top: realTop, sub: sub, stores: make(chan storer.EncodedObjectStorer, blobReaders)}
	if st, ok := r.blobStore(); ok {
		r.stores <- st
	} else {
		r.stores <- repo.Storer
		r.openStores.Do(func() {}) // one store only
	}
	return r, nil
}

// blobStore opens an object store for reading blobs on the repository's
// own file system (its .git, with a linked work tree's common directory),
// which keeps its pack files open between reads: go-git's default opens
// the pack again for every object read. Close closes them. False for a
// repository not stored in files (never on disk).
func (r *Repo) blobStore() (storer.EncodedObjectStorer, bool) {
	fsStore, ok := r.repo.Storer.(*filesystem.Storage)
	if !ok {
		return nil, false
	}
	return filesystem.NewStorageWithOptions(fsStore.Filesystem(), cache.NewObjectLRUDefault(), filesystem.Options{KeepDescriptors: true}), true
}

// moreStores opens the other object stores of r.stores.
func (r *Repo) moreStores() {
	for range blobReaders - 1 {
		if st, ok := r.blobStore(); ok {
			r.stores <- st
		}
	}
}

// Close closes the pack files the blob readers keep open; r reads no
// blob after.
func (r *Repo) Close() error {
	var first error
	for {
		select {
		case st := <-r.stores:
			if c, ok := st.(io.Closer); ok && st != r.repo.Storer {
				if err := c.Close(); err != nil && first == nil {
					first = err
				}
			}
		default:
			return first
		}
	}
}

// Root is the config root relative to the top of the work tree ("" for the
// top itself).
func (r *Repo) Root() string { return r.sub }

// Rev is a resolved revision.
type Rev struct {
	Name string // as given, or how drover found it
	Hash plumbing.Hash
}

// Short is the abbreviated commit hash.
func (v Rev) Short() string { return v.Hash.String()[:7] }

// Resolve resolves a revision: a branch, tag, remote branch, hash or
// expression such as HEAD~1.
func (r *Repo) Resolve(rev string) (Rev, error) {
	h, err := r.repo.ResolveRevision(plumbing.Revision(rev))
	if err != nil {
		return Rev{}, fmt.Errorf("resolve revision %q: %w", rev, err)
	}
	return Rev{Name: rev, Hash: *h}, nil
}

// DefaultBranch is the branch a pull request merges into: the target of
// refs/remotes/origin/HEAD, else the local branch main, else origin/main.
func (r *Repo) DefaultBranch() (string, error) {
	if ref, err := r.repo.Storer.Reference("refs/remotes/origin/HEAD"); err == nil && ref.Type() == plumbing.SymbolicReference {
		return strings.TrimPrefix(ref.Target().String(), "refs/remotes/"), nil
	}
	for _, name := range []string{"refs/heads/main", "refs/remotes/origin/main"} {
		if _, err := r.repo.Storer.Reference(plumbing.ReferenceName(name)); err == nil {
			return strings.TrimPrefix(strings.TrimPrefix(name, "refs/heads/"), "refs/remotes/"), nil
		}
	}
	return "", errors.New("no default branch found (no origin/HEAD, main or origin/main): pass --base")
}

// MergeBase returns the best common ancestor of a and b. With several, the
// one with the smallest hash is taken, so the answer is stable.
func (r *Repo) MergeBase(a, b Rev) (plumbing.Hash, error) {
	ca, err := r.repo.CommitObject(a.Hash)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read commit %s: %w", a.Short(), err)
	}
	cb, err := r.repo.CommitObject(b.Hash)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("read commit %s: %w", b.Short(), err)
	}
	bases, err := ca.MergeBase(cb)
	if err != nil {
		return plumbing.ZeroHash, fmt.Errorf("merge base of %s and %s: %w", a.Name, b.Name, err)
	}
	if len(bases) == 0 {
		return plumbing.ZeroHash, fmt.Errorf("%s and %s have no common ancestor: pass --base", a.Name, b.Name)
	}
	sort.Slice(bases, func(i, j int) bool { return bases[i].Hash.String() < bases[j].Hash.String() })
	return bases[0].Hash, nil
}

// Files returns the entries below the config root at commit rev, keyed by
// slash path relative to the root, exactly as an agent reading that commit
// lists them (TreeEntries). A config root that does not exist at rev gives
// no files.
func (r *Repo) Files(rev Rev) (map[string]Blob, error) {
	commit, err := r.repo.CommitObject(rev.Hash)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", rev.Short(), err)
	}
	tree, err := commit.Tree()
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", rev.Short(), err)
	}
	if r.sub != "" {
		for _, name := range strings.Split(r.sub, "/") {
			e, err := tree.FindEntry(name)
			if err != nil || e.Mode != filemode.Dir {
				return map[string]Blob{}, nil
			}
			if tree, err = r.repo.TreeObject(e.Hash); err != nil {
				return nil, fmt.Errorf("read %s at %s: %w", r.sub, rev.Short(), err)
			}
		}
	}
	out, err := TreeEntries(context.Background(), r.repo.Storer, tree, r.reader)
	if err != nil {
		return nil, fmt.Errorf("read commit %s: %w", rev.Short(), err)
	}
	for name, b := range out {
		b.Parallel = b.Read != nil // r.reader takes a store of its own
		out[name] = b
	}
	return out, nil
}

func (r *Repo) reader(h plumbing.Hash, name string) func() ([]byte, error) {
	return func() ([]byte, error) {
		r.openStores.Do(r.moreStores)
		st := <-r.stores
		defer func() { r.stores <- st }()
		b, err := ReadBlob(st, h)
		if err != nil {
			return nil, fmt.Errorf("read %s (blob %s): %w", name, h.String()[:7], err)
		}
		return b, nil
	}
}

// Objects is the repository's object store, for reading commits and trees
// the way the agent reads its cache (trust verification).
func (r *Repo) Objects() storer.EncodedObjectStorer { return r.repo.Storer }
