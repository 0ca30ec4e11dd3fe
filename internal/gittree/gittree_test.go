package gittree

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
	"github.com/go-git/go-git/v5/storage/memory"
)

// lyingTree is a tree object whose content is longer than the size it
// claims (a corrupt or hostile pack): size bytes said, n given.
type lyingTree struct {
	plumbing.MemoryObject
	size, n int64
	read    int64 // bytes Read took from the content
}

func (o *lyingTree) Size() int64 { return o.size }

func (o *lyingTree) Reader() (io.ReadCloser, error) {
	return io.NopCloser(io.LimitReader(zeros{&o.read}, o.n)), nil
}

type zeros struct{ read *int64 }

func (z zeros) Read(p []byte) (int, error) {
	clear(p)
	*z.read += int64(len(p))
	return len(p), nil
}

type oneObject struct {
	storer.EncodedObjectStorer
	obj plumbing.EncodedObject
}

func (s oneObject) EncodedObject(plumbing.ObjectType, plumbing.Hash) (plumbing.EncodedObject, error) {
	return s.obj, nil
}

// TestReadIsBounded: a tree that says it is over MaxBytes is refused
// before it is read, one that says less but gives more is cut off after
// MaxBytes+1 bytes and refused, and one within the bound is read whole.
func TestReadIsBounded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		obj     *lyingTree
		refused bool
	}{
		{"says it is too large", &lyingTree{size: MaxBytes + 1, n: 0}, true},
		{"says little, gives too much", &lyingTree{size: 10, n: 2 * MaxBytes}, true},
		{"within the bound", &lyingTree{size: 1000, n: 1000}, false},
	} {
		data, err := Read(oneObject{obj: tc.obj}, plumbing.Hash{})
		if tc.obj.read > MaxBytes+1 {
			t.Errorf("%s: %d bytes taken from the object, more than MaxBytes+1", tc.name, tc.obj.read)
		}
		if tc.refused {
			if err == nil || !strings.Contains(err.Error(), "more than the 64 MiB") {
				t.Errorf("%s: %d bytes, %v; want it refused", tc.name, len(data), err)
			}
			continue
		}
		if err != nil || len(data) != 1000 {
			t.Errorf("%s: %d bytes, %v", tc.name, len(data), err)
		}
	}
}

// TestReadMissingTree: a tree not in the store is ErrObjectNotFound, which
// the trust check tells from other failures.
func TestReadMissingTree(t *testing.T) {
	_, err := Read(memory.NewStorage(), plumbing.NewHash("0123456789012345678901234567890123456789"))
	if !errors.Is(err, plumbing.ErrObjectNotFound) {
		t.Errorf("missing tree: %v, want ErrObjectNotFound", err)
	}
}
