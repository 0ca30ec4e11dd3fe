package agent

import (
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/drover-sh/drover/render"
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

// osFS is the real FS.
type osFS struct{}

func (osFS) ReadFile(path string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	b, err := io.ReadAll(f)
	if err != nil {
		return nil, 0, err
	}
	return b, st.Mode().Perm(), nil
}

// WriteFile writes a temporary file in the same directory, fsyncs it, sets
// its mode and renames it over path, then fsyncs the directory.
func (osFS) WriteFile(path string, data []byte, mode fs.FileMode) error {
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
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (osFS) Remove(path string) error {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (osFS) IsDir(path string) bool {
	st, err := os.Stat(path)
	return err == nil && st.IsDir()
}

func (osFS) List(dir string) ([]string, error) {
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

// Layout maps rendered roots to the node's directories.
type Layout map[render.Root]string

// LayoutOf is the layout the render options imply.
func LayoutOf(o render.Options) Layout {
	return Layout{
		render.RootSupervisor: o.SupervisorConfDir,
		render.RootExec:       o.ExecDir(),
		render.RootNginx:      o.NginxConfDir,
	}
}

// Key is a resource's identity in the store: "{root}/{path}".
func Key(root render.Root, path string) string { return string(root) + "/" + path }

// splitKey is the inverse of Key.
func splitKey(key string) (render.Root, string) {
	root, path, _ := strings.Cut(key, "/")
	return render.Root(root), path
}

// Path is where a resource lives on disk; ok is false for roots that are
// not files (network).
func (l Layout) Path(key string) (string, bool) {
	root, path := splitKey(key)
	dir, ok := l[root]
	if !ok {
		return "", false
	}
	return filepath.Join(dir, filepath.FromSlash(path)), true
}

// KeyOf is the store key of a file on disk, if it is in one of the
// layout's directories.
func (l Layout) KeyOf(path string) (string, bool) {
	path = filepath.Clean(path)
	key, best := "", -1
	for root, dir := range l {
		dir = filepath.Clean(dir)
		rel, err := filepath.Rel(dir, path)
		if err == nil && rel != "." && !strings.HasPrefix(rel, "..") && len(dir) > best {
			key, best = Key(root, filepath.ToSlash(rel)), len(dir) // the innermost directory wins
		}
	}
	return key, best >= 0
}

// Dirs are the directories holding installed files, for watching: the
// directories render says each root's files live in.
func (l Layout) Dirs() []string {
	var dirs []string
	for _, root := range slices.Sorted(maps.Keys(l)) {
		for _, sub := range root.Dirs() {
			dirs = append(dirs, filepath.Join(l[root], filepath.FromSlash(sub)))
		}
	}
	return dirs
}
