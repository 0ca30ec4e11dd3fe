package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/go-git/go-git/v5"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// Blob is one config file at a commit.
type Blob struct {
	// Hash is the git blob hash: equal hashes mean equal content, so a
	// caller may cache decoded files by it.
	Hash string
	// Read returns the content from the cache. It is only valid until the
	// next Fetch and on the goroutine that owns the Source.
	Read func() ([]byte, error)
}

// Files returns every *.hcl and *.hcl.json regular file below directory root
// (a slash path inside the repository, "" for its top) at commit rev, keyed
// by slash path relative to root. Hidden directories (.github, ...) are
// skipped. rev must have been fetched. It is an error when root does not
// exist at rev.
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
	out := map[string]Blob{}
	if err := s.walk(ctx, repo, tree, "", out); err != nil {
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

// walk adds the config files below t to out, prefixing their names with dir.
func (s *Source) walk(ctx context.Context, repo *git.Repository, t *object.Tree, dir string, out map[string]Blob) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range t.Entries {
		name := path.Join(dir, e.Name)
		switch e.Mode {
		case filemode.Dir:
			if strings.HasPrefix(e.Name, ".") {
				continue
			}
			sub, err := object.GetTree(repo.Storer, e.Hash)
			if err != nil {
				s.broken = true
				return fmt.Errorf("reading directory %s: %w", name, err)
			}
			if err := s.walk(ctx, repo, sub, name, out); err != nil {
				return err
			}
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			if isConfigFile(e.Name) {
				out[name] = Blob{Hash: e.Hash.String(), Read: s.reader(repo, e.Hash, name)}
			}
		}
		// Symlinks and submodules are not config files.
	}
	return nil
}

// reader returns a Blob.Read for blob h.
func (s *Source) reader(repo *git.Repository, h plumbing.Hash, name string) func() ([]byte, error) {
	return func() ([]byte, error) {
		b, err := readBlob(repo, h)
		if err != nil {
			s.broken = true
			return nil, fmt.Errorf("reading %s (blob %s) from the cache of %s: %w", name, h, s.shown, err)
		}
		return b, nil
	}
}

func readBlob(repo *git.Repository, h plumbing.Hash) ([]byte, error) {
	blob, err := repo.BlobObject(h)
	if err != nil {
		return nil, err
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return io.ReadAll(r)
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

// isConfigFile reports whether a file name is one drover reads.
func isConfigFile(name string) bool {
	return strings.HasSuffix(name, ".hcl") || strings.HasSuffix(name, ".hcl.json")
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
