package source

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/drover-sh/drover/internal/gitrev"
	"github.com/drover-sh/drover/spec"
)

// Blob is one entry at a commit, as every reader lists it. Read is only
// valid until the next Fetch and on the goroutine that owns the Source.
type Blob = spec.Entry

// Files returns the entries below directory root (a slash path inside the
// repository, "" for its top) at commit rev that a spec.Loader wants, keyed
// by slash path relative to root, by the rules drover plan follows too
// (gitrev.TreeEntries): config files, and symbolic links and submodules,
// which the Loader rejects. rev must have been fetched. It is an error when
// root does not exist at rev.
func (s *Source) Files(ctx context.Context, rev, root string) (map[string]Blob, error) {
	files, err := s.files(ctx, rev, root)
	if err != nil {
		return nil, s.wrap("files of", err)
	}
	return files, nil
}

func (s *Source) files(ctx context.Context, rev, root string) (map[string]Blob, error) {
	want, err := parseHash(rev)
	if err != nil {
		return nil, err
	}
	root, err = cleanRoot(root)
	if err != nil {
		return nil, err
	}
	repo, err := s.openRepo()
	if err != nil {
		return nil, fmt.Errorf("commit %s has not been fetched: %w", rev, err)
	}
	commit, err := repo.CommitObject(want)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("commit %s has not been fetched", rev)
	}
	if err != nil {
		s.broken = true
		return nil, fmt.Errorf("reading commit %s: %w", rev, err)
	}
	tree, err := commit.Tree()
	if err != nil {
		s.broken = true
		return nil, fmt.Errorf("reading commit %s: %w", rev, err)
	}
	if root != "" {
		tree, err = s.subtree(repo, tree, root, rev)
		if err != nil {
			return nil, err
		}
	}
	out, err := s.lister.TreeEntries(ctx, repo.Storer, tree, s.reader(repo))
	if err != nil {
		if ctx.Err() == nil {
			s.broken = true
		}
		return nil, fmt.Errorf("reading commit %s: %w", rev, err)
	}
	return out, nil
}

// subtree descends from t to the directory root.
func (s *Source) subtree(repo *git.Repository, t *object.Tree, root, rev string) (*object.Tree, error) {
	for _, name := range strings.Split(root, "/") {
		e, err := t.FindEntry(name)
		if err != nil || e.Mode != filemode.Dir {
			return nil, fmt.Errorf("directory %q does not exist at commit %s", root, rev)
		}
		if t, err = object.GetTree(repo.Storer, e.Hash); err != nil {
			s.broken = true
			return nil, fmt.Errorf("reading directory %q: %w", root, err)
		}
	}
	return t, nil
}

// reader makes the Read functions of blobs.
func (s *Source) reader(repo *git.Repository) gitrev.Reader {
	return func(h plumbing.Hash, name string) func() ([]byte, error) {
		return func() ([]byte, error) {
			b, err := gitrev.ReadBlob(repo.Storer, h)
			if err != nil {
				s.broken = true
				return nil, fmt.Errorf("reading %s (blob %s) from the cache of %s: %w", name, h, s.shown, err)
			}
			return b, nil
		}
	}
}

// openRepo opens the cache for reading.
func (s *Source) openRepo() (*git.Repository, error) {
	if s.cache == nil {
		repo, err := openCacheRepo(s.cachePath())
		if err != nil {
			return nil, err
		}
		s.cache = repo
	}
	return s.cache, nil
}

// cleanRoot normalizes the config root: "", "." and "/" are the top; the
// path may not leave the repository.
func cleanRoot(root string) (string, error) {
	for _, seg := range strings.Split(root, "/") {
		if seg == ".." {
			return "", fmt.Errorf("path %q leaves the repository", root)
		}
	}
	return strings.Trim(path.Clean("/"+root), "/"), nil
}

// Objects returns the object store of the cache, for reading the commits
// and trees of fetched revisions (trust verification). Like Blob.Read it
// is valid until the next Fetch, on the goroutine that owns the Source.
func (s *Source) Objects() (storer.EncodedObjectStorer, error) {
	repo, err := s.openRepo()
	if err != nil {
		return nil, s.wrap("objects of", fmt.Errorf("the cache has not been fetched: %w", err))
	}
	return repo.Storer, nil
}

// Deepen fetches the whole history of the branch into the cache, for a
// check that needs the commits between the applied revision and the head
// that a shallow cache lacks. It returns within Options.Timeout.
func (s *Source) Deepen(ctx context.Context) error {
	ctx, cancel := s.withDeadline(ctx)
	defer cancel()
	repo, err := s.openRepo()
	if err == nil {
		err = s.fetchDepth(ctx, repo, math.MaxInt32)
	}
	if err != nil {
		return s.wrap("deepen", s.cut(ctx, "fetch from", err))
	}
	return nil
}
