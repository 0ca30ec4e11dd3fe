// Package install puts the files render produced where the node's daemons
// find them: a seam over the file system (FS, with OS the real one whose
// writes are atomic), the layout that maps render's roots to the node's
// directories, and Txn, a set of writes and removals that can be put back
// as a whole (a change nginx refuses is rolled back). It decides nothing:
// what to write comes from the agent's diff of render's files with the
// store.
package install

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"

	"github.com/drover-sh/drover/spec"
)

// FS is the seam for the files drover installs: supervisord program files,
// exec specs and nginx files. WriteFile must be atomic: readers see the old
// content or the new, never a mix.
type FS interface {
	// ReadFile returns a file's content and permission bits.
	ReadFile(path string) ([]byte, fs.FileMode, error)
	WriteFile(path string, data []byte, mode fs.FileMode) error
	Remove(path string) error
	// List returns the regular files directly in dir (names only), sorted;
	// a missing dir is empty.
	List(dir string) ([]string, error)
	// IsDir reports whether path is an existing directory.
	IsDir(path string) bool
}

// OS is the real FS.
type OS struct{}

// ReadFile reads a file and its permission bits with one open. A link, a
// FIFO or a device in a managed directory is an error (so the file differs
// and is written over), never followed or waited on.
func (OS) ReadFile(path string) ([]byte, fs.FileMode, error) {
	f, st, err := spec.OpenRegular(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, err
	}
	return b, st.Mode().Perm(), nil
}

// WriteFile writes a temporary file in the same directory, fsyncs it, sets
// its mode and renames it over path, then fsyncs the directory.
func (o OS) WriteFile(path string, data []byte, mode fs.FileMode) error {
	if err := o.replace(path, data, mode); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// replace is WriteFile without the directory's fsync.
func (OS) replace(path string, data []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".drover-tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// Remove removes a file; a missing one is not an error.
func (OS) Remove(path string) error {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// IsDir reports whether path is an existing directory.
func (OS) IsDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

// List returns the regular files directly in dir, sorted.
func (OS) List(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	return names, nil
}

var _ FS = OS{}
