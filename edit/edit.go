// Package edit changes daemon blocks in a config repository the way a
// careful person would by hand: in the file where the webroot is declared,
// touching only the daemon block concerned (formatted like `hclwrite`/`terraform
// fmt` would), keeping every comment and the formatting of everything else,
// and only when the whole repository is still valid afterwards. It never
// commits: Git stays the user's tool.
package edit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/spec"
)

// Key names a daemon: TENANT/WEBROOT/DAEMON.
type Key struct{ Tenant, Webroot, Daemon string }

func (k Key) String() string { return k.Tenant + "/" + k.Webroot + "/" + k.Daemon }

// ParseKey parses TENANT/WEBROOT/DAEMON. The names themselves are checked
// by validation after the edit.
func ParseKey(s string) (Key, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Key{}, fmt.Errorf("%q is not TENANT/WEBROOT/DAEMON", s)
	}
	return Key{parts[0], parts[1], parts[2]}, nil
}

// Repo is a config repository read for editing.
type Repo struct {
	Dir string
	// MaxBytes bounds the config files together when an edit is
	// validated (spec.Loader.MaxBytes; 0 is the default).
	MaxBytes int
	srcs     map[string][]byte // by slash path relative to Dir
}

// Open reads every config file below dir.
func Open(dir string) (*Repo, error) {
	entries, err := spec.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	srcs := make(map[string][]byte, len(entries))
	for name, s := range entries {
		if s.Kind != spec.Regular {
			return nil, spec.KindError(name, s.Kind)
		}
		if srcs[name], err = s.Read(); err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
	}
	return &Repo{Dir: dir, srcs: srcs}, nil
}

// NewRepo edits files held in memory (name → content); Dir is only used by
// Write.
func NewRepo(dir string, srcs map[string][]byte) *Repo { return &Repo{Dir: dir, srcs: srcs} }

// Edit is one change of one file, validated.
type Edit struct {
	// File is the edited file, relative to the config root.
	File          string
	Before, After []byte
	// Summary says what was done: "added daemon acme/main/reverb".
	Summary string
	// Diags are the diagnostics of the whole repository after the edit
	// (warnings only, unless the edit is refused), Files their sources.
	Diags hcl.Diagnostics
	Files spec.Sources
}

// Changed reports whether the edit changes the file.
func (e *Edit) Changed() bool { return string(e.Before) != string(e.After) }

// InvalidError refuses an edit whose result would not be a valid
// configuration. Edit holds the diagnostics of the result.
type InvalidError struct{ Edit *Edit }

func (e *InvalidError) Error() string {
	n := 0
	for _, d := range e.Edit.Diags {
		if d.Severity == hcl.DiagError {
			n++
		}
	}
	return fmt.Sprintf("%s would leave the configuration invalid (%s): nothing was changed", e.Edit.Summary, english.Count(n, "error"))
}

// finish validates the repository with the edited file and returns the
// Edit, or an InvalidError.
func (r *Repo) finish(file string, before, after []byte, summary string) (*Edit, error) {
	e := &Edit{File: file, Before: before, After: after, Summary: summary}
	srcs := make(map[string][]byte, len(r.srcs))
	for k, v := range r.srcs {
		srcs[k] = v
	}
	srcs[file] = after
	entries := make(map[string]spec.Entry, len(srcs))
	for name, data := range srcs {
		entries[name] = spec.Bytes(data)
	}
	l := spec.NewLoader()
	l.MaxBytes = r.MaxBytes
	_, files, diags, _ := l.Load(entries) // reading memory cannot fail
	e.Diags, e.Files = diags, files
	if diags.HasErrors() {
		return e, &InvalidError{Edit: e}
	}
	return e, nil
}

// Write stores an edit atomically (a temporary file renamed over the
// original, with its mode), and updates the repository in memory.
func (r *Repo) Write(e *Edit) error {
	if !e.Changed() {
		return nil
	}
	path := filepath.Join(r.Dir, filepath.FromSlash(e.File))
	if err := WriteFileAtomic(path, e.After); err != nil {
		return err
	}
	r.srcs[e.File] = e.After
	return nil
}

// WriteFileAtomic replaces path with data: written to a temporary file in
// the same directory, synced, then renamed, so a reader sees the old or the
// new content, never a mix. The file keeps its mode.
func WriteFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done = true
	return nil
}
