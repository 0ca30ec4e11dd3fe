package spec

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/hashicorp/hcl/v2"
)

// LoadDir reads every config file below root (hidden directories such as
// .git are skipped) and builds the validated Config. The returned Sources
// feed WriteDiagnostics. The Config is nil when diags has errors.
func LoadDir(root string) (*Config, Sources, hcl.Diagnostics) {
	srcs, err := ReadDir(root)
	if err != nil {
		return nil, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read config directory",
			Detail:   err.Error(),
		}}
	}
	return Load(srcs)
}

// Load parses the given files (name → content) and builds the Config.
func Load(srcs map[string][]byte) (*Config, Sources, hcl.Diagnostics) {
	files, diags := ParseAll(srcs)
	cfg, more := Build(files)
	diags = append(diags, more...)
	return cfg, NewSources(files), diags
}

// ReadDir returns the content of every config file below root, keyed by its
// slash-separated path relative to root.
func ReadDir(root string) (map[string][]byte, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	srcs := map[string][]byte{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !IsConfigFile(d.Name()) || !d.Type().IsRegular() && d.Type()&fs.ModeSymlink == 0 {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		srcs[filepath.ToSlash(rel)] = b
		return nil
	})
	return srcs, err
}

// ParseAll parses files in parallel. The result is sorted by name.
func ParseAll(srcs map[string][]byte) ([]*File, hcl.Diagnostics) {
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	files := make([]*File, len(names))
	perFile := make([]hcl.Diagnostics, len(names))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				files[i], perFile[i] = ParseFile(names[i], srcs[names[i]])
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	var diags hcl.Diagnostics
	for _, d := range perFile {
		diags = append(diags, d...)
	}
	return files, diags
}
