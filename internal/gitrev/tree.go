package gitrev

import (
	"context"
	"fmt"
	"path"

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
// drover plan and the agent both read commits through it.
func TreeEntries(ctx context.Context, st storer.EncodedObjectStorer, t *object.Tree, read Reader) (map[string]spec.Entry, error) {
	out := map[string]spec.Entry{}
	return out, walkTree(ctx, st, t, "", read, out)
}

func walkTree(ctx context.Context, st storer.EncodedObjectStorer, t *object.Tree, dir string, read Reader, out map[string]spec.Entry) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, e := range t.Entries {
		name := path.Join(dir, e.Name)
		kind := spec.Irregular
		switch e.Mode {
		case filemode.Dir:
			if spec.SkipDir(e.Name) {
				continue
			}
			sub, err := object.GetTree(st, e.Hash)
			if err != nil {
				return fmt.Errorf("read directory %s: %w", name, err)
			}
			if err := walkTree(ctx, st, sub, name, read, out); err != nil {
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
		if !spec.Wanted(e.Name, kind) {
			continue
		}
		s := spec.Entry{Kind: kind, Hash: e.Hash.String()}
		if kind == spec.Regular {
			s.Read = read(e.Hash, name)
		}
		out[name] = s
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
