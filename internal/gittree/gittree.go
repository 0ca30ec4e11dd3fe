// Package gittree reads the raw content of a Git tree object, bounded: the
// objects come from the remote, which may be hostile. The agent's tree
// listing (internal/gitrev) and the trust check (internal/trust) parse the
// entries each in their own way; both read the bytes here.
package gittree

import (
	"fmt"
	"io"

	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// MaxBytes bounds one tree object: about a million entries of 40-byte names,
// while a config root holds at most spec.MaxConfigFiles config files.
const MaxBytes = 64 << 20

// Read returns the content of tree object h: refused from its size before
// it is read when over MaxBytes, and read at most MaxBytes+1 bytes in any
// case. A missing object is plumbing.ErrObjectNotFound (wrapped).
func Read(st storer.EncodedObjectStorer, h plumbing.Hash) ([]byte, error) {
	obj, err := st.EncodedObject(plumbing.TreeObject, h)
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	if obj.Size() > MaxBytes {
		return nil, fmt.Errorf("tree %s is %d bytes, more than the %d MiB drover reads of one directory", h, obj.Size(), MaxBytes>>20)
	}
	r, err := obj.Reader()
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	defer r.Close()
	data, err := io.ReadAll(io.LimitReader(r, MaxBytes+1))
	if err == nil && len(data) > MaxBytes {
		err = fmt.Errorf("more than the %d MiB drover reads of one directory", MaxBytes>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("tree %s: %w", h, err)
	}
	return data, nil
}
