package trust

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strings"

	"github.com/drover-sh/drover/internal/gittree"
	"github.com/go-git/go-git/v5/plumbing"
)

// changed lists the paths below the config root, relative to it, whose
// entry differs between trees from and to (ZeroHash: the empty tree):
// added, removed, changed in content or mode, in tree order. Directories
// with the same hash on both sides are not read.
//
// Trees are read raw and compared entry by entry without decoding them
// into objects: a directory of 5,000 tenant files is read for every
// commit in every-commit mode, and go-git's decoding of it cost ten times
// the comparison.
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
		raw, err := c.tree(h)
		if err != nil {
			return plumbing.ZeroHash, err
		}
		found := false
		for t := raw; len(t) > 0; {
			var e entry
			if e, t, err = nextEntry(t); err != nil {
				return plumbing.ZeroHash, fmt.Errorf("read tree %s: %w", h, err)
			}
			if string(e.name) == name && e.dir() {
				h, found = plumbing.Hash(e.hash), true
				break
			}
		}
		if !found {
			return plumbing.ZeroHash, nil
		}
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
	var x, y entry
	next := func(t *[]byte, e *entry) error {
		if len(*t) == 0 {
			*e = entry{}
			return nil
		}
		var err error
		*e, *t, err = nextEntry(*t)
		return err
	}
	if err := errors.Join(next(&ta, &x), next(&tb, &y)); err != nil {
		return fmt.Errorf("read trees %s and %s: %w", a, b, err)
	}
	for x.name != nil || y.name != nil {
		var err error
		switch cmp := compare(x, y); {
		case cmp < 0:
			err = errors.Join(c.side(x, dir, out), next(&ta, &x))
		case cmp > 0:
			err = errors.Join(c.side(y, dir, out), next(&tb, &y))
		default:
			switch {
			case x.dir():
				err = c.diff(plumbing.Hash(x.hash), plumbing.Hash(y.hash), path.Join(dir, string(x.name)), out)
			case !bytes.Equal(x.hash, y.hash) || !bytes.Equal(x.mode, y.mode):
				*out = append(*out, path.Join(dir, string(x.name)))
			}
			err = errors.Join(err, next(&ta, &x), next(&tb, &y))
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// side appends an entry only one tree has: a file, or every file below a
// directory.
func (c *checker) side(e entry, dir string, out *[]string) error {
	if !e.dir() {
		*out = append(*out, path.Join(dir, string(e.name)))
		return nil
	}
	return c.diff(plumbing.ZeroHash, plumbing.Hash(e.hash), path.Join(dir, string(e.name)), out)
}

// entry is one entry of a raw tree: "MODE NAME\0" and 20 hash bytes. A
// zero entry (nil name) is past the end.
type entry struct {
	mode, name, hash []byte
}

func (e entry) dir() bool { return string(e.mode) == "40000" }

func nextEntry(t []byte) (entry, []byte, error) {
	sp := bytes.IndexByte(t, ' ')
	nul := bytes.IndexByte(t, 0)
	if sp < 0 || nul < sp || len(t) < nul+1+20 {
		return entry{}, nil, errors.New("malformed tree entry")
	}
	return entry{mode: t[:sp], name: t[sp+1 : nul], hash: t[nul+1 : nul+21]}, t[nul+21:], nil
}

// compare orders entries as Git sorts a tree, an entry past the end last.
func compare(x, y entry) int {
	switch {
	case x.name == nil && y.name == nil:
		return 0
	case x.name == nil:
		return 1
	case y.name == nil:
		return -1
	}
	n := min(len(x.name), len(y.name))
	if c := bytes.Compare(x.name[:n], y.name[:n]); c != 0 {
		return c
	}
	cx, cy := x.after(n), y.after(n)
	switch {
	case cx < cy:
		return -1
	case cx > cy:
		return 1
	}
	return 0
}

// after is the byte at i of the entry's sort key: its name, then '/' for
// a directory.
func (e entry) after(i int) int {
	switch {
	case i < len(e.name):
		return int(e.name[i])
	case i == len(e.name) && e.dir():
		return '/'
	case i == len(e.name):
		return 0
	}
	return -1
}

// maxTrees bounds the raw trees a Check keeps: a commit's trees are read
// again as its child's parent trees, right after.
const maxTrees = 64

// tree reads raw tree h (bounded: gittree.Read), once while it is among
// the last maxTrees; ZeroHash is the empty tree.
func (c *checker) tree(h plumbing.Hash) ([]byte, error) {
	if h.IsZero() {
		return nil, nil
	}
	if t, ok := c.trees[h]; ok {
		return t, nil
	}
	t, err := gittree.Read(c.st, h)
	if errors.Is(err, plumbing.ErrObjectNotFound) {
		return nil, fmt.Errorf("read tree %s: %w", h, ErrIncomplete)
	}
	if err != nil {
		return nil, fmt.Errorf("read %w", err)
	}
	if len(c.trees) >= maxTrees {
		clear(c.trees)
	}
	c.trees[h] = t
	return t, nil
}
