package spec

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"sync"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/internal/regular"
)

// LoadDir reads every config file below root (hidden directories such as
// .git are skipped) and builds the validated Config. The returned Sources
// feed WriteDiagnostics. The Config is nil when diags has errors.
func LoadDir(root string) (*Config, Sources, hcl.Diagnostics) { return NewLoader().LoadDir(root) }

// LoadDir is the package's LoadDir with l.
func (l *Loader) LoadDir(root string) (*Config, Sources, hcl.Diagnostics) {
	srcs, err := ReadDir(root)
	var (
		cfg   *Config
		files Sources
		diags hcl.Diagnostics
	)
	if err == nil {
		cfg, files, diags, err = l.Load(srcs)
	}
	if err != nil {
		return nil, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Cannot read config directory",
			Detail:   err.Error(),
		}}
	}
	return cfg, files, diags
}

// Load parses the given files (name → content) and builds the Config.
func Load(srcs map[string][]byte) (*Config, Sources, hcl.Diagnostics) {
	m := make(map[string]Entry, len(srcs))
	for name, data := range srcs {
		m[name] = Bytes(data)
	}
	cfg, files, diags, _ := NewLoader().Load(m) // reading memory cannot fail
	return cfg, files, diags
}

// ReadDir lists the config files below root, keyed by slash-separated
// path relative to root, as WalkDir does with nothing ignored.
func ReadDir(root string) (map[string]Entry, error) { return WalkDir(root, nil) }

// WalkDir lists the entries below directory root that a Loader wants
// (SkipDir, Wanted), keyed by slash-separated path relative to root,
// without following symbolic links. A directory holding a .git entry is a
// Submodule. ignore, when not nil, drops entries by relative path (a
// directory with its content). Regular files are read when the Loader asks,
// never through a link, and never more than MaxFileBytes+1 bytes.
func WalkDir(root string, ignore func(rel string, dir bool) bool) (map[string]Entry, error) {
	st, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s is not a directory", root)
	}
	srcs := map[string]Entry{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path == root {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if SkipDir(d.Name()) || ignore != nil && ignore(rel, true) {
				return filepath.SkipDir
			}
			if _, err := os.Lstat(filepath.Join(path, ".git")); err == nil {
				srcs[rel] = Entry{Kind: Submodule}
				return filepath.SkipDir
			}
			return nil
		}
		kind := Irregular
		switch {
		case d.Type().IsRegular():
			kind = Regular
		case d.Type()&fs.ModeSymlink != 0:
			kind = Symlink
		}
		if !Wanted(d.Name(), kind) || ignore != nil && ignore(rel, false) {
			return nil
		}
		s := Entry{Kind: kind}
		if kind == Regular {
			s.Read = func() ([]byte, error) { return readRegular(path) }
			s.Parallel = true
		}
		srcs[rel] = s
		return nil
	})
	return srcs, err
}

// readRegular reads a regular file without following a link in its last
// element and without blocking on a FIFO put in its place since the walk.
func readRegular(path string) ([]byte, error) {
	f, st, err := OpenRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Sized as the file is (plus one byte to see it end), not grown as
	// io.ReadAll grows its buffer: the content is kept for diagnostics,
	// and a grown buffer is up to twice the file.
	buf := make([]byte, min(st.Size(), MaxFileBytes)+1)
	n, err := io.ReadFull(f, buf)
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		return buf[:n], nil
	case err != nil:
		return nil, err
	}
	// The file grew since it was opened: read on, to the bound.
	rest, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1-int64(n)))
	return append(buf, rest...), err
}

// OpenRegular opens a regular file for reading without following a link
// in its last element and without blocking on a FIFO or device put in its
// place: anything but a regular file is an error. The caller closes it.
func OpenRegular(path string) (*os.File, os.FileInfo, error) { return regular.Open(path) }

// ParseAll parses files in parallel. The result is sorted by name.
func ParseAll(srcs map[string][]byte) ([]*File, hcl.Diagnostics) {
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	sort.Strings(names)
	data := make([][]byte, len(names))
	for i, n := range names {
		data[i] = srcs[n]
	}
	files := make([]*File, len(names))
	perFile := make([]hcl.Diagnostics, len(names))
	parseEach(names, data, func(i int, f *File, d hcl.Diagnostics) { files[i], perFile[i] = f, d })
	var diags hcl.Diagnostics
	for _, d := range perFile {
		diags = append(diags, d...)
	}
	return files, diags
}

// parseEach parses file i (names[i], content data[i]) for every i, in
// parallel, and hands each result to done in the goroutine that parsed
// it, as soon as it is parsed.
func parseEach(names []string, data [][]byte, done func(i int, f *File, diags hcl.Diagnostics)) {
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				f, diags := ParseFile(names[i], data[i])
				done(i, f, diags)
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
}
