package spec

import (
	"fmt"
	"io"
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
// .git are skipped) and builds the validated Config. The returned file map,
// keyed by the names used in diagnostics, feeds WriteDiagnostics. The Config
// is nil when diags has errors.
func LoadDir(root string) (*Config, map[string]*hcl.File, hcl.Diagnostics) {
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
func Load(srcs map[string][]byte) (*Config, map[string]*hcl.File, hcl.Diagnostics) {
	files, diags := ParseAll(srcs)
	cfg, more := Build(files)
	diags = append(diags, more...)
	return cfg, HCLFiles(files, diags), diags
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

// HCLFiles maps the name of every file a diagnostic points into to its
// parsed form, as the diagnostic writer wants (for source snippets and the
// "in tenant ..." context). Files keep only their source, so these few are
// parsed again.
func HCLFiles(files []*File, diags hcl.Diagnostics) map[string]*hcl.File {
	named := map[string]bool{}
	for _, d := range diags {
		if d.Subject != nil {
			named[d.Subject.Filename] = true
		}
	}
	m := make(map[string]*hcl.File, len(named))
	for _, f := range files {
		if named[f.Name] {
			if hf, _ := parse(f.Name, f.src); hf != nil {
				m[f.Name] = hf
			}
		}
	}
	return m
}

// WriteDiagnostics prints diagnostics with source snippets, errors first in
// file order, then warnings.
func WriteDiagnostics(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics, width uint, color bool) error {
	sorted := SortDiagnostics(diags)
	return hcl.NewDiagnosticTextWriter(w, files, width, color).WriteDiagnostics(sorted)
}

// SortDiagnostics orders diagnostics errors first, then by file, line and
// column, so output is stable whatever order files were parsed in.
func SortDiagnostics(diags hcl.Diagnostics) hcl.Diagnostics {
	out := append(hcl.Diagnostics(nil), diags...)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Severity != b.Severity {
			return a.Severity == hcl.DiagError
		}
		ra, rb := rangeOf(a), rangeOf(b)
		if ra.Filename != rb.Filename {
			return ra.Filename < rb.Filename
		}
		return ra.Start.Byte < rb.Start.Byte
	})
	return out
}

func rangeOf(d *hcl.Diagnostic) hcl.Range {
	if d.Subject != nil {
		return *d.Subject
	}
	return hcl.Range{}
}
