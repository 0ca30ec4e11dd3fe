package agent

import (
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/spec"
)

// specCache keeps decoded config files by path and Git blob hash, so a new
// revision re-reads and re-parses only the files it changed: HCL parsing is
// the floor of loading a large repository.
type specCache struct {
	mu    sync.Mutex
	files map[string]*spec.File // by path + "\x00" + blob hash
}

func newSpecCache() *specCache { return &specCache{files: map[string]*spec.File{}} }

// Load builds the Config of a revision from its config files.
func (c *specCache) Load(blobs map[string]source.Blob) (*spec.Config, spec.Sources, hcl.Diagnostics, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := make(map[string]*spec.File, len(blobs))
	missing := map[string][]byte{}
	keys := map[string]string{}
	for name, b := range blobs {
		k := name + "\x00" + b.Hash
		keys[name] = k
		if f, ok := c.files[k]; ok {
			next[k] = f
			continue
		}
		data, err := b.Read()
		if err != nil {
			return nil, nil, nil, err
		}
		missing[name] = data
	}
	parsed, diags := spec.ParseAll(missing)
	for _, f := range parsed {
		next[keys[f.Name]] = f
	}
	c.files = next // drop files the revision no longer has
	files := make([]*spec.File, 0, len(next))
	for _, f := range next {
		files = append(files, f)
	}
	// Build lets the first declaration win: keep the order of LoadDir.
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	// Only files that decoded cleanly stay cached, so a cached file has no
	// diagnostics of its own to report again.
	cfg, more := spec.Build(files)
	diags = append(diags, more...)
	for _, f := range parsed {
		if f.Failed() {
			delete(c.files, keys[f.Name])
		}
	}
	return cfg, spec.NewSources(files), diags, nil
}
