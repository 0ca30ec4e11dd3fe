package source

import (
	"context"
	"errors"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
	"github.com/go-git/go-git/v5/storage/memory"
)

// Head returns the commit hash the branch points at, without fetching any
// object: a local source's ref is read from disk, a remote's is listed
// (ls-remote). It is called on every poll; the cache is not touched. It
// returns within Options.Timeout.
func (s *Source) Head(ctx context.Context) (string, error) {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	var h plumbing.Hash
	var err error
	if s.kind == kindLocal {
		h, err = s.localHead()
	} else {
		h, err = s.remoteHead(ctx)
	}
	if err != nil {
		return "", s.wrap("head of", s.cut(ctx, "head of", err))
	}
	return h.String(), nil
}

// localHead reads the branch ref of a local repository.
func (s *Source) localHead() (plumbing.Hash, error) {
	if _, err := os.Stat(s.local); err != nil {
		return plumbing.ZeroHash, s.unreachable(err)
	}
	var refs storer.ReferenceStorer
	if gitDir, ok := s.gitDir(); ok {
		// The common case, read without parsing the repository's config.
		refs = filesystem.NewStorage(osfs.New(gitDir), cache.NewObjectLRU(0))
	} else {
		repo, err := git.PlainOpenWithOptions(s.local, &git.PlainOpenOptions{EnableDotGitCommonDir: true})
		if err != nil {
			if errors.Is(err, git.ErrRepositoryNotExists) {
				return plumbing.ZeroHash, s.unreachable(errors.New("not a git repository"))
			}
			return plumbing.ZeroHash, err
		}
		refs = repo.Storer
	}
	ref, err := storer.ResolveReference(refs, s.branch)
	if err != nil {
		if errors.Is(err, plumbing.ErrReferenceNotFound) {
			return plumbing.ZeroHash, s.branchNotFound()
		}
		return plumbing.ZeroHash, err
	}
	return ref.Hash(), nil
}

// gitDir returns the git directory of a local repository when it is a plain
// directory: DIR/.git of a work tree, or DIR itself when bare.
func (s *Source) gitDir() (string, bool) {
	for _, d := range []string{filepath.Join(s.local, ".git"), s.local} {
		if fi, err := os.Stat(filepath.Join(d, "HEAD")); err == nil && fi.Mode().IsRegular() {
			if _, err := os.Stat(filepath.Join(d, "commondir")); err == nil {
				return "", false // a linked work tree: let go-git follow it
			}
			return d, true
		}
	}
	return "", false
}

// remoteHead lists the remote's refs and picks the branch.
func (s *Source) remoteHead(ctx context.Context) (plumbing.Hash, error) {
	auth, err := s.auth()
	if err != nil {
		return plumbing.ZeroHash, err
	}
	rem := git.NewRemote(memory.NewStorage(), &config.RemoteConfig{Name: "origin", URLs: []string{s.url}})
	refs, err := rem.ListContext(ctx, &git.ListOptions{Auth: auth})
	if err != nil {
		return plumbing.ZeroHash, err
	}
	for _, r := range refs {
		if r.Name() == s.branch && r.Type() == plumbing.HashReference {
			return r.Hash(), nil
		}
	}
	return plumbing.ZeroHash, s.branchNotFound()
}
