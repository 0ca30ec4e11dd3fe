package review

import (
	"fmt"
	"sort"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/spec"
)

// Source is one config file of a revision.
type Source struct {
	// Hash identifies the content (a Git blob hash): files with equal name
	// and hash are decoded once for both revisions.
	Hash string
	Read func() ([]byte, error)
}

// Loader builds the Config of revisions, decoding each distinct file (by
// name and hash) once: the base and head of a pull request share almost
// every file, and parsing is most of the cost of a plan.
type Loader struct {
	files map[string]*spec.File // by name + "\x00" + hash
}

// NewLoader returns an empty Loader.
func NewLoader() *Loader { return &Loader{files: map[string]*spec.File{}} }

// Load builds and validates the Config of one revision. The file map and
// diagnostics are as spec.Load returns them; the Config is nil when the
// revision is invalid. The error is for files that could not be read.
func (l *Loader) Load(srcs map[string]Source) (*spec.Config, spec.Sources, hcl.Diagnostics, error) {
	files := make([]*spec.File, 0, len(srcs))
	missing := map[string][]byte{}
	for name, s := range srcs {
		if f, ok := l.files[name+"\x00"+s.Hash]; ok {
			files = append(files, f)
			continue
		}
		data, err := s.Read()
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read %s: %w", name, err)
		}
		missing[name] = data
	}
	parsed, diags := spec.ParseAll(missing)
	noisy := map[string]bool{}
	for _, d := range diags {
		if d.Subject != nil {
			noisy[d.Subject.Filename] = true
		}
	}
	for _, f := range parsed {
		files = append(files, f)
		// Only files that decoded without a word are shared: one with
		// diagnostics is parsed again for the other revision, so its
		// diagnostics are reported for both. That is rare and cheap.
		if !f.Failed() && !noisy[f.Name] {
			l.files[f.Name+"\x00"+srcs[f.Name].Hash] = f
		}
	}
	// Build lets the first declaration win: keep the order of spec.LoadDir.
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	cfg, more := spec.Build(files)
	diags = append(diags, more...)
	return cfg, spec.NewSources(files), diags, nil
}
