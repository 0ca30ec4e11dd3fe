package spec

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/hashicorp/hcl/v2"
)

// Loader builds Configs from Entries: the one decode path of every command
// and of the agent. It checks the entries and sizes against the bounds
// (limits.go) before reading, reads only what is within them, parses what
// it has not decoded before, and validates. Decoded files are remembered by
// name and Git blob hash: a node re-parses only the files a new revision
// changed, and drover plan decodes the files its base and head share once.
// Safe for concurrent use.
type Loader struct {
	// MaxBytes bounds the config files of a revision together; 0 is
	// DefaultMaxRepoBytes. Set it before the first Load.
	MaxBytes int

	mu    sync.Mutex
	files map[string]*File // by name + "\x00" + hash
	last  *lastBuild       // of the last Load, when it can serve the next
	// incremental says the last Load built from the one before.
	incremental bool
}

// maxBytes is MaxBytes or its default.
func (l *Loader) maxBytes() int {
	if l.MaxBytes <= 0 {
		return DefaultMaxRepoBytes
	}
	return l.MaxBytes
}

// NewLoader returns a Loader that has decoded nothing yet.
func NewLoader() *Loader { return &Loader{files: map[string]*File{}} }

// Load builds and validates the Config of one revision, keyed by slash
// path relative to the config root. The Sources and diagnostics are for
// WriteDiagnostics; the Config is nil when diags has errors. The error is
// for a file that could not be read. Only files that decoded without a
// word are remembered, and only until the next Load, so a file's own
// diagnostics are reported every time and memory holds one revision (plus
// what the next one shares).
func (l *Loader) Load(srcs map[string]Entry) (*Config, Sources, hcl.Diagnostics, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(srcs) > MaxConfigFiles {
		return nil, nil, hcl.Diagnostics{{
			Severity: hcl.DiagError,
			Summary:  "Too many config files",
			Detail:   fmt.Sprintf("The config root holds %d config files; drover reads at most %d. Merge small files, or point the config root (source.path) at a smaller directory.", len(srcs), MaxConfigFiles),
		}}, nil
	}
	names := make([]string, 0, len(srcs))
	for n := range srcs {
		names = append(names, n)
	}
	// Build lets the first declaration win: files go in name order.
	sort.Strings(names)
	limit := l.maxBytes()
	var (
		diags   hcl.Diagnostics
		files   = make([]*File, 0, len(names))
		missing []string // names to parse, with their content in data
		data    [][]byte
		next    = make(map[string]*File, len(names))
		total   int
	)
	var reads []*fileRead
	for _, name := range names {
		s := srcs[name]
		if s.Kind != Regular {
			diags = append(diags, kindError(name, s.Kind))
			files = append(files, &File{Name: name, unparsable: true})
			continue
		}
		key := name + "\x00" + s.Hash
		if f, ok := l.files[key]; ok && s.Hash != "" {
			files = append(files, f)
			next[key] = f
			total += f.size
			continue
		}
		reads = append(reads, &fileRead{name: name, entry: s})
	}
	total += readEntries(reads, limit-total)
	for _, r := range reads {
		switch {
		case r.err != nil:
			return nil, nil, nil, fmt.Errorf("read %s: %w", r.name, r.err)
		case r.skipped:
			// past the bound, reported below
		case len(r.content) > MaxFileBytes:
			diags = append(diags, &hcl.Diagnostic{
				Severity: hcl.DiagError,
				Summary:  "Config file too large",
				Detail:   fmt.Sprintf("%s is larger than %d bytes (%d MiB), the most drover reads from one file. Split it into several files.", r.name, MaxFileBytes, MaxFileBytes>>20),
				Subject:  fileRange(r.name),
			})
			files = append(files, &File{Name: r.name, unparsable: true})
		default:
			missing = append(missing, r.name)
			data = append(data, r.content)
		}
	}
	if total > limit {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Configuration too large",
			Detail:   fmt.Sprintf("The config files add up to more than %d bytes (%d MiB), the most drover reads. Nothing was parsed. Remove what is not configuration, point the config root (source.path) at a smaller directory, or raise the bound for a repository this large — the same everywhere: max_config_mb in the agent configuration's source block on every node, DROVER_MAX_CONFIG_MB for drover commands and CI.", limit, limit>>20),
		})
		l.files = next
		return nil, nil, diags, nil
	}
	// Each file's content is let go as soon as it is parsed, and a file
	// without a word to say keeps none: it is read again if a diagnostic
	// of a later Build points into it (File.text). Memory then holds the
	// decoded model, not the repository's text beside it.
	parsed := make([]*File, len(missing))
	perFile := make([]hcl.Diagnostics, len(missing))
	parseEach(missing, data, func(i int, f *File, d hcl.Diagnostics) {
		parsed[i], perFile[i], data[i] = f, d, nil
		f.size = len(f.src)
		if !f.Failed() && !hasSubject(d) && !f.unparsable {
			f.src, f.reread = nil, srcs[f.Name].Read
		}
	})
	for i, f := range parsed {
		diags = append(diags, perFile[i]...)
		files = append(files, f)
		if h := srcs[f.Name].Hash; h != "" && f.src == nil {
			next[f.Name+"\x00"+h] = f
		}
	}
	l.files = next
	slices.SortFunc(files, func(a, b *File) int { return strings.Compare(a.Name, b.Name) })
	cfg, more := l.build(files)
	diags = append(diags, more...)
	if diags.HasErrors() {
		cfg = nil
	}
	// A file that exceeded a bound must never reach a parser, not even to
	// print a snippet.
	parsable := files[:0:0]
	for _, f := range files {
		if !f.unparsable {
			parsable = append(parsable, f)
		}
	}
	return cfg, NewSources(parsable), diags, nil
}

// hasSubject reports whether a diagnostic points into a file.
func hasSubject(diags hcl.Diagnostics) bool {
	for _, d := range diags {
		if d.Subject != nil {
			return true
		}
	}
	return false
}

// fileRead is one file a Load reads.
type fileRead struct {
	name    string
	entry   Entry
	content []byte
	err     error
	skipped bool // not read: the files before it already passed the bound
}

// readEntries reads the files in order until more than budget bytes are
// read (the rest are skipped) and returns how many bytes it read. Entries
// whose Read may run concurrently are read several at a time: a large
// repository is tens of thousands of small files.
func readEntries(reads []*fileRead, budget int) int {
	var read atomic.Int64
	one := func(r *fileRead) {
		if read.Load() > int64(budget) {
			r.skipped = true
			return
		}
		r.content, r.err = r.entry.Read()
		read.Add(int64(len(r.content)))
	}
	parallel := true
	for _, r := range reads {
		parallel = parallel && r.entry.Parallel
	}
	if !parallel {
		for _, r := range reads {
			one(r)
		}
		return int(read.Load())
	}
	var wg sync.WaitGroup
	next := make(chan *fileRead)
	for range parallelReads {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range next {
				one(r)
			}
		}()
	}
	for _, r := range reads {
		next <- r
	}
	close(next)
	wg.Wait()
	return int(read.Load())
}

// parallelReads is how many files readEntries reads at once.
const parallelReads = 8

// build builds the Config of files, from the last Load's when only a few
// tenant files changed (build_incremental.go).
func (l *Loader) build(files []*File) (*Config, hcl.Diagnostics) {
	l.incremental = false
	if last := l.last; last != nil {
		l.last = nil
		if cfg, diags, ok := last.update(files); ok {
			l.last, l.incremental = last, true
			return cfg, diags
		}
	}
	cfg, diags, b := build(files)
	l.last = newLastBuild(files, b, cfg, diags)
	return cfg, diags
}
