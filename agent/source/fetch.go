package source

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"

	"github.com/go-git/go-billy/v5/osfs"
	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/config"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/cache"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/filesystem"
)

// Cache layout: CacheDir/repo.git is a bare repository with one remote,
// "origin", fetching only the branch into refs/remotes/origin/BRANCH.
// refs/drover/fetched is the commit the last successful Fetch returned.
// A new cache is built in CacheDir/.new-* and renamed into place, so a crash
// never leaves a half-built cache behind.
const (
	cacheName  = "repo.git"
	tmpPrefix  = ".new-"
	fetchedRef = plumbing.ReferenceName("refs/drover/fetched")
	remoteName = "origin"
)

// maxPacks is how many pack files (about one per fetch) the cache may
// gather before Fetch replaces it with a fresh single-pack clone. A variable
// for tests.
var maxPacks = 64

// incrementalDepth is the depth of fetches into an existing cache: none.
// go-git then tells the server what the cache has and receives only the
// missing objects — 23 ms for one commit on a 5,000-file repository, where
// a depth-1 fetch re-sent the whole tree (1.1 s). After a force push the
// rewritten history down to what the cache has is fetched.
const incrementalDepth = 0

// probeDepth is the history depth fetched when the commits already in the
// cache cannot tell whether the branch was rewritten; the full history is
// fetched only when that is not enough either. A variable for tests.
var probeDepth = 64

// FetchResult describes what Fetch changed.
type FetchResult struct {
	// Forced is true when the previously fetched head is not an ancestor of
	// the fetched commit: the branch was force-pushed or its history
	// rewritten. The cache follows the new commit anyway.
	Forced bool
	// Previous is the commit fetched before, "" when the cache was created
	// (or re-created) by this call.
	Previous string
}

// Fetch makes commit rev, normally what Head returned, available in the
// cache. The first time it makes a shallow (depth 1), single-branch clone
// without tags; later it fetches only what is new. A missing, corrupt or
// stale cache is re-created. When the branch has moved past rev and rev
// cannot be had, Fetch fails and the caller polls again. Fetch returns
// within Options.Timeout; a fetch cut short leaves the cache as it was.
func (s *Source) Fetch(ctx context.Context, rev string) (FetchResult, error) {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	res, err := s.fetch(ctx, rev)
	if err != nil {
		return FetchResult{}, s.wrap("fetch", s.cut(ctx, "fetch from", err))
	}
	return res, nil
}

func (s *Source) fetch(ctx context.Context, rev string) (FetchResult, error) {
	want, err := parseHash(rev)
	if err != nil {
		return FetchResult{}, err
	}
	repo, prev, cerr := s.openCache()
	if cerr == nil && !s.broken {
		forced, err := s.fetchIncremental(ctx, repo, prev, want)
		if err == nil {
			s.compact(ctx, want)
			return FetchResult{Forced: forced, Previous: prev.String()}, nil
		}
		if err = s.classify(s.cut(ctx, "fetch from", err)); isRemote(err) {
			return FetchResult{}, err
		}
		// Anything else may be the cache's fault. rebuild builds the new
		// cache beside the old one, which stays if that fails too.
	}
	if err := s.rebuild(ctx, want); err != nil {
		return FetchResult{}, err
	}
	return FetchResult{}, nil
}

// fetchIncremental brings the cache from prev to want and reports whether
// that was a forced update.
func (s *Source) fetchIncremental(ctx context.Context, repo *git.Repository, prev, want plumbing.Hash) (bool, error) {
	if want == prev {
		return false, nil
	}
	if !hasCommit(repo, want) {
		if err := s.fetchDepth(ctx, repo, incrementalDepth); err != nil {
			return false, err
		}
		if err := s.checkWant(repo, want); err != nil {
			return false, err
		}
	}
	forced, err := s.forced(ctx, repo, prev, want)
	if err != nil {
		return false, err
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(fetchedRef, want)); err != nil {
		return false, fmt.Errorf("recording fetched head: %w", err)
	}
	return forced, nil
}

// fetchDepth fetches the branch with the given history depth. With a
// non-zero depth go-git tells the server which commits are shallow, so the
// server sends exactly the objects the cache lacks.
func (s *Source) fetchDepth(ctx context.Context, repo *git.Repository, depth int) error {
	auth, err := s.auth()
	if err != nil {
		return err
	}
	err = repo.FetchContext(ctx, &git.FetchOptions{
		RemoteName: remoteName,
		RefSpecs:   []config.RefSpec{s.refSpec()},
		Depth:      depth,
		Auth:       auth,
		Tags:       git.NoTags,
		Force:      true,
	})
	switch {
	case err == nil, errors.Is(err, git.NoErrAlreadyUpToDate):
		return nil
	case errors.Is(err, git.NoMatchingRefSpecError{}):
		return s.branchNotFound()
	}
	return s.classify(err)
}

// checkWant fails when the fetched branch does not contain want.
func (s *Source) checkWant(repo *git.Repository, want plumbing.Hash) error {
	if hasCommit(repo, want) {
		return nil
	}
	now := "unknown"
	if ref, err := repo.Reference(s.remoteRef(), false); err == nil {
		now = ref.Hash().String()
	}
	return &sourceError{kind: ErrMoved, msg: fmt.Sprintf("commit %s is no longer the head of branch %s at %s (it is now %s); poll again", want, s.branch.Short(), s.shown, now)}
}

// forced reports whether prev is not an ancestor of rev. When the commits in
// the cache cannot tell, it deepens the cache's history of the branch, first
// to probeDepth commits, then to all of them.
func (s *Source) forced(ctx context.Context, repo *git.Repository, prev, rev plumbing.Hash) (bool, error) {
	for _, depth := range []int{0, probeDepth, math.MaxInt32} {
		if depth > 0 {
			if err := s.fetchDepth(ctx, repo, depth); err != nil {
				return false, err
			}
		}
		switch ancestry(repo.Storer, prev, rev) {
		case isAncestor:
			return false, nil
		case notAncestor:
			return true, nil
		}
	}
	// Only when the branch moved on while we were deepening: prefer no
	// false alarm.
	return false, nil
}

type verdict int

const (
	unknown verdict = iota
	isAncestor
	notAncestor
)

// belowLimit caps the walk below prev that collects commits known not to
// lead to prev; it only saves deepening.
const belowLimit = 10000

// ancestry walks the history of rev that the cache holds. A commit that is
// an ancestor of prev cannot lead to prev, so the walk stops there; any
// other commit the cache lacks (the shallow boundary) leaves the answer
// unknown.
func ancestry(st storer.EncodedObjectStorer, prev, rev plumbing.Hash) verdict {
	below := map[plumbing.Hash]bool{}
	queue := []plumbing.Hash{prev}
	for len(queue) > 0 && len(below) < belowLimit {
		c, err := object.GetCommit(st, queue[0])
		queue = queue[1:]
		if err != nil {
			continue
		}
		for _, p := range c.ParentHashes {
			if !below[p] {
				below[p] = true
				queue = append(queue, p)
			}
		}
	}

	missing := false
	seen := map[plumbing.Hash]bool{rev: true}
	queue = []plumbing.Hash{rev}
	for len(queue) > 0 {
		h := queue[0]
		queue = queue[1:]
		if h == prev {
			return isAncestor
		}
		if below[h] {
			continue
		}
		c, err := object.GetCommit(st, h)
		if err != nil {
			missing = true
			continue
		}
		for _, p := range c.ParentHashes {
			if !seen[p] {
				seen[p] = true
				queue = append(queue, p)
			}
		}
	}
	if missing {
		return unknown
	}
	return notAncestor
}

// rebuild replaces the cache with a fresh depth-1 clone that holds want.
func (s *Source) rebuild(ctx context.Context, want plumbing.Hash) error {
	s.cache, s.broken = nil, false
	if err := os.MkdirAll(s.opts.CacheDir, 0o700); err != nil {
		return fmt.Errorf("creating cache: %w", err)
	}
	if old, _ := filepath.Glob(filepath.Join(s.opts.CacheDir, tmpPrefix+"*")); len(old) > 0 {
		for _, d := range old {
			os.RemoveAll(d) // left by a crash
		}
	}
	tmp, err := os.MkdirTemp(s.opts.CacheDir, tmpPrefix)
	if err != nil {
		return fmt.Errorf("creating cache: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op once renamed
	repo, err := git.PlainInit(tmp, true)
	if err != nil {
		return fmt.Errorf("creating cache: %w", err)
	}
	_, err = repo.CreateRemote(&config.RemoteConfig{
		Name:  remoteName,
		URLs:  []string{s.url},
		Fetch: []config.RefSpec{s.refSpec()},
	})
	if err != nil {
		return fmt.Errorf("creating cache: %w", err)
	}
	if err := s.fetchDepth(ctx, repo, 1); err != nil {
		return err
	}
	if err := s.checkWant(repo, want); err != nil {
		return err
	}
	if err := repo.Storer.SetReference(plumbing.NewHashReference(fetchedRef, want)); err != nil {
		return fmt.Errorf("recording fetched head: %w", err)
	}
	dst := s.cachePath()
	if err := os.RemoveAll(dst); err != nil {
		return fmt.Errorf("removing old cache: %w", err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fmt.Errorf("installing cache: %w", err)
	}
	return nil
}

// compact replaces a cache that has gathered more than maxPacks pack files
// by a fresh clone. It is best effort: on failure the old cache stays.
func (s *Source) compact(ctx context.Context, want plumbing.Hash) {
	packs, _ := filepath.Glob(filepath.Join(s.cachePath(), "objects", "pack", "*.pack"))
	if len(packs) <= maxPacks {
		return
	}
	_ = s.rebuild(ctx, want)
}

// openCache opens the cache and checks that it is for this URL and branch
// and that it can read the commit and tree of the previously fetched head,
// which it returns.
func (s *Source) openCache() (*git.Repository, plumbing.Hash, error) {
	if s.cache == nil {
		repo, err := openCacheRepo(s.cachePath())
		if err != nil {
			return nil, plumbing.ZeroHash, err
		}
		cfg, err := repo.Config()
		if err != nil {
			return nil, plumbing.ZeroHash, err
		}
		rc := cfg.Remotes[remoteName]
		if rc == nil || len(rc.URLs) != 1 || rc.URLs[0] != s.url ||
			len(rc.Fetch) != 1 || rc.Fetch[0] != s.refSpec() {
			return nil, plumbing.ZeroHash, errors.New("cache is for another url or branch")
		}
		s.cache = repo
	}
	ref, err := s.cache.Reference(fetchedRef, false)
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	c, err := s.cache.CommitObject(ref.Hash())
	if err != nil {
		return nil, plumbing.ZeroHash, err
	}
	if _, err := c.Tree(); err != nil {
		return nil, plumbing.ZeroHash, err
	}
	return s.cache, ref.Hash(), nil
}

// cacheObjects bounds the memory of the cache's decoded-object cache,
// which a pass does not need beyond the bases of the delta it is reading:
// the agent reads each changed blob once and keeps what it decoded, and
// the tree listing reads tree objects itself (gitrev.Lister). What the
// cache holds stays live between passes and scatters the heap: at 100,000
// daemons 16 MiB cost 18 MB of live heap and ~30 MB of span space the
// runtime could not give back (BenchmarkAgentPass heap-MB, frag-MB), and
// the first pass took no longer with 1 MiB.
const cacheObjects = 1 * cache.MiByte

func openCacheRepo(dir string) (*git.Repository, error) {
	return git.Open(filesystem.NewStorage(osfs.New(dir), cache.NewObjectLRU(cacheObjects)), nil)
}

func (s *Source) cachePath() string { return filepath.Join(s.opts.CacheDir, cacheName) }

func (s *Source) remoteRef() plumbing.ReferenceName {
	return plumbing.NewRemoteReferenceName(remoteName, s.branch.Short())
}

func (s *Source) refSpec() config.RefSpec {
	return config.RefSpec("+" + s.branch.String() + ":" + s.remoteRef().String())
}

func hasCommit(repo *git.Repository, h plumbing.Hash) bool {
	_, err := repo.CommitObject(h)
	return err == nil
}

// parseHash accepts a full hexadecimal SHA-1 commit hash.
func parseHash(rev string) (plumbing.Hash, error) {
	if len(rev) != 40 || !plumbing.IsHash(rev) {
		return plumbing.ZeroHash, fmt.Errorf("invalid commit hash %q", rev)
	}
	return plumbing.NewHash(rev), nil
}
