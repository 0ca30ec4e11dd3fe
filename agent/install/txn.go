package install

import (
	"errors"
	"fmt"
	"io/fs"
)

// Txn writes and removes files through an FS, remembering what each one
// held before, so Rollback can put every one of them back.
type Txn struct {
	fs   FS
	undo []undo
}

type undo struct {
	path    string
	old     []byte
	mode    fs.FileMode
	existed bool
}

// NewTxn starts a transaction over fsys.
func NewTxn(fsys FS) *Txn { return &Txn{fs: fsys} }

// Write replaces path's content (atomically, as FS promises).
func (t *Txn) Write(path string, data []byte, mode fs.FileMode) error {
	t.remember(path)
	return t.fs.WriteFile(path, data, mode)
}

// WriteFiles replaces the content of every file, all at once
// (install.WriteFiles); errs[i] is the error for files[i].
func (t *Txn) WriteFiles(files []Write) []error {
	for _, f := range files {
		t.remember(f.Path)
	}
	return WriteFiles(t.fs, files)
}

// Remove removes path.
func (t *Txn) Remove(path string) error {
	t.remember(path)
	return t.fs.Remove(path)
}

func (t *Txn) remember(path string) {
	old, mode, err := t.fs.ReadFile(path)
	t.undo = append(t.undo, undo{path: path, old: old, mode: mode, existed: err == nil})
}

// Changed reports whether the transaction wrote or removed anything.
func (t *Txn) Changed() bool { return len(t.undo) > 0 }

// Rollback puts back, newest first, what each file held before the
// transaction: its content and mode, or its absence.
func (t *Txn) Rollback() error {
	var errs []error
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := t.undo[i]
		var err error
		if u.existed {
			err = t.fs.WriteFile(u.path, u.old, u.mode)
		} else {
			err = t.fs.Remove(u.path)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("roll back %s: %w", u.path, err))
		}
	}
	t.undo = nil
	return errors.Join(errs...)
}
