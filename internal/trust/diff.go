package trust

import (
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
)

// changed lists the paths below the config root, relative to it, whose
// entry differs between trees from and to (ZeroHash: the empty tree):
// added, removed, changed in content or mode, in tree order. Directories
// with the same hash on both sides are not read.
func (c *checker) changed(from, to plumbing.Hash) ([]string, error) {
	a, err := c.rootTree(from)
	if err != nil {
		return nil, err
	}
	b, err := c.rootTree(to)
	if err != nil {
		return nil, err
	}
	var out []string
	return out, c.diff(a, b, "", &out)
}

// rootTree is the config root's tree in tree h, ZeroHash when either is
// missing (a root that does not exist holds nothing).
func (c *checker) rootTree(h plumbing.Hash) (plumbing.Hash, error) {
	if h.IsZero() || c.root == "" {
		return h, nil
	}
	for _, name := range strings.Split(c.root, "/") {
		t, err := c.tree(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		e, err := t.FindEntry(name)
		if err != nil || e.Mode != filemode.Dir {
			return plumbing.ZeroHash, nil
		}
		h = e.Hash
	}
	return h, nil
}

// diff appends the paths that differ between trees a and b below dir.
func (c *checker) diff(a, b plumbing.Hash, dir string, out *[]string) error {
	if a == b {
		return nil
	}
	ta, err := c.tree(a)
	if err != nil {
		return err
	}
	tb, err := c.tree(b)
	if err != nil {
		return err
	}
	// Both entry lists are in Git's tree order (a directory sorts as if its
	// name ended in '/'), so one merge pass pairs them.
	ea, eb := ta.Entries, tb.Entries
	for len(ea) > 0 || len(eb) > 0 {
		switch {
		case len(eb) == 0 || len(ea) > 0 && sortKey(ea[0]) < sortKey(eb[0]):
			if err := c.side(ea[0], dir, out); err != nil {
				return err
			}
			ea = ea[1:]
		case len(ea) == 0 || sortKey(eb[0]) < sortKey(ea[0]):
			if err := c.side(eb[0], dir, out); err != nil {
				return err
			}
			eb = eb[1:]
		default:
			x, y := ea[0], eb[0]
			ea, eb = ea[1:], eb[1:]
			switch {
			case x.Mode == filemode.Dir:
				if err := c.diff(x.Hash, y.Hash, path.Join(dir, x.Name), out); err != nil {
					return err
				}
			case x.Hash != y.Hash || x.Mode != y.Mode:
				*out = append(*out, path.Join(dir, x.Name))
			}
		}
	}
	return nil
}

// side appends an entry only one tree has: a file, or every file below a
// directory.
func (c *checker) side(e object.TreeEntry, dir string, out *[]string) error {
	if e.Mode != filemode.Dir {
		*out = append(*out, path.Join(dir, e.Name))
		return nil
	}
	return c.diff(plumbing.ZeroHash, e.Hash, path.Join(dir, e.Name), out)
}

func sortKey(e object.TreeEntry) string {
	if e.Mode == filemode.Dir {
		return e.Name + "/"
	}
	return e.Name
}

// maxTrees bounds the decoded trees a Check keeps: a commit's trees are
// read again as its child's parent trees, right after; a directory of
// 5,000 files decodes to about a megabyte.
const maxTrees = 64

// tree decodes tree h, once while it is among the last maxTrees; ZeroHash
// is the empty tree.
func (c *checker) tree(h plumbing.Hash) (*object.Tree, error) {
	if h.IsZero() {
		return &object.Tree{}, nil
	}
	if t, ok := c.trees[h]; ok {
		return t, nil
	}
	t, err := object.GetTree(c.st, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("read tree %s: %w", h, ErrIncomplete)
	}
	if err != nil {
		return nil, fmt.Errorf("read tree %s: %w", h, err)
	}
	if len(c.trees) >= maxTrees {
		clear(c.trees)
	}
	c.trees[h] = t
	return t, nil
}
