// Package fake holds the state-modelling fakes of the reconciler's seams
// that live outside their own packages — the config repository, the file
// system and nginx's commands — and small config repositories to commit to
// them. Only tests import it: agent/reconcile's, which drive passes, and
// agent's, which drive the loop and the listeners over a reconciled node.
package fake

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/nginx"
	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/spec"
)

// Source is a repository in memory: revisions of config files and a
// branch head, which a test moves.
type Source struct {
	mu   sync.Mutex
	revs map[string]map[string]string
	head string
	// Unreachable makes Head and Fetch fail as a server that is down does.
	Unreachable bool
	// Hang, when not nil, makes Head wait until it is closed (or the
	// context ends), as a server behind a partition does.
	Hang chan struct{}
	// Fetches counts the fetches answered.
	Fetches int
}

// NewSource is an empty repository.
func NewSource() *Source { return &Source{revs: map[string]map[string]string{}} }

// Commit adds a revision with files and moves the head to it.
func (s *Source) Commit(files map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev := fmt.Sprintf("%040d", len(s.revs)+1)
	s.revs[rev] = files
	s.head = rev
	return rev
}

// Forget drops a revision, as a Git cache rebuilt without the old
// commits does.
func (s *Source) Forget(rev string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.revs, rev)
}

// Rewrite replaces a revision's files, as a newer drover that reads an
// old commit otherwise would see it.
func (s *Source) Rewrite(rev string, files map[string]string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revs[rev] = files
}

func (s *Source) Head(ctx context.Context) (string, error) {
	s.mu.Lock()
	hang := s.Hang
	s.mu.Unlock()
	if hang != nil {
		select {
		case <-hang:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Unreachable {
		return "", errors.New("dial tcp: connection refused")
	}
	return s.head, nil
}

func (s *Source) Fetch(ctx context.Context, rev string) (source.FetchResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.Unreachable {
		return source.FetchResult{}, errors.New("dial tcp: connection refused")
	}
	s.Fetches++
	return source.FetchResult{}, nil
}

// SymlinkPrefix marks a committed file of the fake source as a symbolic
// link to the rest of its content.
const SymlinkPrefix = "\x00symlink -> "

func (s *Source) Files(ctx context.Context, rev, root string) (map[string]source.Blob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files, ok := s.revs[rev]
	if !ok {
		return nil, fmt.Errorf("revision %s not in cache", rev)
	}
	out := map[string]source.Blob{}
	for name, content := range files {
		data := []byte(content)
		if target, ok := strings.CutPrefix(content, SymlinkPrefix); ok {
			out[name] = source.Blob{Kind: spec.Symlink, Hash: hashOf([]byte(target))}
			continue
		}
		if !spec.Wanted(name, spec.Regular) {
			continue // as the real source: only config files are listed
		}
		out[name] = source.Blob{Hash: hashOf(data), Read: func() ([]byte, error) { return data, nil }}
	}
	return out, nil
}

// FS is a file system in memory. Writes to the supervisor directory are
// shown to the fake supervisord, as conf.d is to the real one.
type FS struct {
	mu    sync.Mutex
	files map[string]file
	// Writes counts the files written.
	Writes int
	// SupDir is the supervisor directory; OnWrite is given its files
	// whenever one of them changes (supervisor.Fake.SetFiles).
	SupDir  string
	OnWrite func(files map[string][]byte)
}

type file struct {
	data []byte
	mode fs.FileMode
}

// NewFS is an empty file system.
func NewFS() *FS { return &FS{files: map[string]file{}} }

func (f *FS) ReadFile(path string) ([]byte, fs.FileMode, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ff, ok := f.files[path]
	if !ok {
		return nil, 0, fs.ErrNotExist
	}
	return append([]byte(nil), ff.data...), ff.mode, nil
}

func (f *FS) WriteFile(path string, data []byte, mode fs.FileMode) error {
	f.mu.Lock()
	f.files[path] = file{append([]byte(nil), data...), mode}
	f.Writes++
	f.mu.Unlock()
	f.Changed(path)
	return nil
}

func (f *FS) Remove(path string) error {
	f.mu.Lock()
	delete(f.files, path)
	f.mu.Unlock()
	f.Changed(path)
	return nil
}

func (f *FS) List(dir string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var names []string
	for p := range f.files {
		if filepath.Dir(p) == dir {
			names = append(names, filepath.Base(p))
		}
	}
	sort.Strings(names)
	return names, nil
}

func (f *FS) IsDir(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	prefix := path + "/"
	for p := range f.files {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// Changed tells OnWrite about a change of path, when it is in SupDir.
func (f *FS) Changed(path string) {
	if f.OnWrite == nil || filepath.Dir(path) != f.SupDir {
		return
	}
	f.mu.Lock()
	files := map[string][]byte{}
	for p, ff := range f.files {
		if filepath.Dir(p) == f.SupDir {
			files[filepath.Base(p)] = ff.data
		}
	}
	f.mu.Unlock()
	f.OnWrite(files)
}

// Snapshot lists files with their modes, sorted.
func (f *FS) Snapshot() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lines []string
	for p, ff := range f.files {
		lines = append(lines, fmt.Sprintf("%s %04o %d bytes", p, ff.mode, len(ff.data)))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// Contents lists every file with its mode and content, sorted by path: two
// file systems carrying the same files have the same Contents.
func (f *FS) Contents() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder
	for _, p := range slices.Sorted(maps.Keys(f.files)) {
		fmt.Fprintf(&b, "=== %s %04o\n%s\n", p, f.files[p].mode, f.files[p].data)
	}
	return b.String()
}

// Nginx models nginx's commands (an nginx.Runner): the test command fails
// with Broken's message while it is set.
type Nginx struct {
	mu     sync.Mutex
	Broken string
	// Tests and Reloads count the commands run.
	Tests, Reloads int
}

func (r *Nginx) Run(ctx context.Context, argv []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch strings.Join(argv, " ") {
	case "nginx -t":
		r.Tests++
		if r.Broken != "" {
			return fmt.Errorf("running %q: exit status 1: %s", "nginx -t", r.Broken)
		}
	case "nginx -s reload":
		r.Reloads++
	default:
		return fmt.Errorf("unexpected command %q", argv)
	}
	return nil
}

// hashOf is a file's content hash, as the Git source gives a blob's.
func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

var (
	_ install.FS   = (*FS)(nil)
	_ nginx.Runner = (*Nginx)(nil)
)
