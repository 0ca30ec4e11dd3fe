package gitrev

import (
	"context"
	"fmt"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"

	"github.com/drover-sh/drover/spec"
)

// Reader makes the spec.Entry Read function of blob h at path name.
type Reader func(h plumbing.Hash, name string) func() ([]byte, error)

// TreeEntries lists the entries of a Git tree that a spec.Loader wants,
// keyed by slash path relative to the tree, by the rules every reader
// follows (spec.SkipDir, spec.Wanted): config files, and every symbolic
// link and submodule (errors for the Loader), hidden directories skipped.
// drover plan and the agent both read commits through it (the agent
// through its Lister).
func TreeEntries(ctx context.Context, st storer.EncodedObjectStorer, t *object.Tree, read Reader) (map[string]spec.Entry, error) {
	return (*Lister)(nil).TreeEntries(ctx, st, t, read)
}

// TreeEntries is the package's TreeEntries, reusing what l listed last.
func (l *Lister) TreeEntries(ctx context.Context, st storer.EncodedObjectStorer, t *object.Tree, read Reader) (map[string]spec.Entry, error) {
	out := make(map[string]spec.Entry, l.start())
	err := l.walk(ctx, st, "", t.Hash, read, out)
	l.done(len(out))
	return out, err
}

func (l *Lister) walk(ctx context.Context, st storer.EncodedObjectStorer, dir string, h plumbing.Hash, read Reader, out map[string]spec.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := l.list(st, dir, h)
	if err != nil {
		if dir == "" {
			return fmt.Errorf("read the top directory: %w", err)
		}
		return fmt.Errorf("read directory %s: %w", dir, err)
	}
	for _, e := range entries {
		kind := spec.Irregular
		switch e.mode {
		case filemode.Dir:
			if spec.SkipDir(e.name) {
				continue
			}
			if err := l.walk(ctx, st, e.path, e.hash, read, out); err != nil {
				return err
			}
			continue
		case filemode.Regular, filemode.Executable, filemode.Deprecated:
			kind = spec.Regular
		case filemode.Symlink:
			kind = spec.Symlink
		case filemode.Submodule:
			kind = spec.Submodule
		}
		if !spec.Wanted(e.name, kind) {
			continue
		}
		s := spec.Entry{Kind: kind, Hash: e.hashStr}
		if kind == spec.Regular {
			s.Read = read(e.hash, e.path)
		}
		out[e.path] = s
	}
	return nil
}

// ReadBlob reads blob h, at most spec.MaxFileBytes+1 bytes of it.
func ReadBlob(st storer.EncodedObjectStorer, h plumbing.Hash) ([]byte, error) {
	blob, err := object.GetBlob(st, h)
	if err != nil {
		return nil, err
	}
	r, err := blob.Reader()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return spec.ReadLimited(r)
}
