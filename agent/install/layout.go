package install

import (
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/drover-sh/drover/render"
)

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

// SplitKey is the inverse of Key.
func SplitKey(key string) (render.Root, string) {
	root, path, _ := strings.Cut(key, "/")
	return render.Root(root), path
}

// Path is where a resource lives on disk; ok is false for roots that are
// not files (network).
func (l Layout) Path(key string) (string, bool) {
	root, path := SplitKey(key)
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
