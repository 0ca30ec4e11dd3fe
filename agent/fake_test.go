package agent

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/network"
	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/spec"
)

// fakeSource is a repository in memory: revisions of config files and a
// branch head, which a test moves.
type fakeSource struct {
	mu          sync.Mutex
	revs        map[string]map[string]string
	head        string
	unreachable bool
	fetches     int
}

func newFakeSource() *fakeSource { return &fakeSource{revs: map[string]map[string]string{}} }

// commit adds a revision with files and moves the head to it.
func (s *fakeSource) commit(files map[string]string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	rev := fmt.Sprintf("%040d", len(s.revs)+1)
	s.revs[rev] = files
	s.head = rev
	return rev
}

func (s *fakeSource) Head(ctx context.Context) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unreachable {
		return "", errors.New("dial tcp: connection refused")
	}
	return s.head, nil
}

func (s *fakeSource) Fetch(ctx context.Context, rev string) (source.FetchResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unreachable {
		return source.FetchResult{}, errors.New("dial tcp: connection refused")
	}
	s.fetches++
	return source.FetchResult{}, nil
}

// symlinkPrefix marks a committed file of the fake source as a symbolic
// link to the rest of its content.
const symlinkPrefix = "\x00symlink -> "

func (s *fakeSource) Files(ctx context.Context, rev, root string) (map[string]source.Blob, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	files, ok := s.revs[rev]
	if !ok {
		return nil, fmt.Errorf("revision %s not in cache", rev)
	}
	out := map[string]source.Blob{}
	for name, content := range files {
		data := []byte(content)
		if target, ok := strings.CutPrefix(content, symlinkPrefix); ok {
			out[name] = source.Blob{Kind: spec.Symlink, Hash: hashOf([]byte(target))}
			continue
		}
		out[name] = source.Blob{Hash: hashOf(data), Read: func() ([]byte, error) { return data, nil }}
	}
	return out, nil
}

// fakeFS is a file system in memory. Writes to the supervisor directory are
// shown to the fake supervisord, as conf.d is to the real one.
type fakeFS struct {
	mu      sync.Mutex
	files   map[string]fakeFile
	writes  int
	supDir  string
	onWrite func(files map[string][]byte)
}

type fakeFile struct {
	data []byte
	mode fs.FileMode
}

func newFakeFS() *fakeFS { return &fakeFS{files: map[string]fakeFile{}} }

func (f *fakeFS) ReadFile(path string) ([]byte, fs.FileMode, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ff, ok := f.files[path]
	if !ok {
		return nil, 0, fs.ErrNotExist
	}
	return append([]byte(nil), ff.data...), ff.mode, nil
}

func (f *fakeFS) WriteFile(path string, data []byte, mode fs.FileMode) error {
	f.mu.Lock()
	f.files[path] = fakeFile{append([]byte(nil), data...), mode}
	f.writes++
	f.mu.Unlock()
	f.changed(path)
	return nil
}

func (f *fakeFS) Remove(path string) error {
	f.mu.Lock()
	delete(f.files, path)
	f.mu.Unlock()
	f.changed(path)
	return nil
}

func (f *fakeFS) List(dir string) ([]string, error) {
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

func (f *fakeFS) IsDir(path string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for p := range f.files {
		if strings.HasPrefix(p, path+"/") {
			return true
		}
	}
	return false
}

func (f *fakeFS) changed(path string) {
	if f.onWrite == nil || filepath.Dir(path) != f.supDir {
		return
	}
	f.mu.Lock()
	files := map[string][]byte{}
	for p, ff := range f.files {
		if filepath.Dir(p) == f.supDir {
			files[filepath.Base(p)] = ff.data
		}
	}
	f.mu.Unlock()
	f.onWrite(files)
}

// snapshot lists files with their modes, sorted.
func (f *fakeFS) snapshot() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var lines []string
	for p, ff := range f.files {
		lines = append(lines, fmt.Sprintf("%s %04o %d bytes", p, ff.mode, len(ff.data)))
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// fakeRunner models nginx: the test command fails while broken is set.
type fakeRunner struct {
	mu      sync.Mutex
	broken  string
	tests   int
	reloads int
}

func (r *fakeRunner) Run(ctx context.Context, argv []string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	switch strings.Join(argv, " ") {
	case "nginx -t":
		r.tests++
		if r.broken != "" {
			return fmt.Errorf("running %q: exit status 1: %s", "nginx -t", r.broken)
		}
	case "nginx -s reload":
		r.reloads++
	default:
		return fmt.Errorf("unexpected command %q", argv)
	}
	return nil
}

// harness is an agent wired to fakes, with a real bbolt store in a temp dir.
type harness struct {
	t     *testing.T
	agent *Agent
	src   *fakeSource
	fs    *fakeFS
	sup   *supervisor.Fake
	nginx *fakeRunner
	store *store.Store
	clock time.Time
	cfg   *config.Config
	stDir string
	// accounts is the node's passwd database: every tenant the tests use.
	accounts fakeAccounts
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	cfg, _, diags := config.Parse("agent.hcl", []byte(`node = "web-1a"
state_dir = "/var/lib/drover"
source { url = "file:///repo" }
`))
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	h := &harness{t: t, src: newFakeSource(), fs: newFakeFS(), sup: supervisor.NewFake(), nginx: &fakeRunner{},
		clock: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), cfg: cfg, stDir: t.TempDir(),
		accounts: fakeAccounts{10042: "acme", 20000: "other"}}
	h.fs.supDir = cfg.Supervisor.ConfDir
	h.fs.onWrite = h.sup.SetFiles
	h.openStore()
	h.newAgent()
	return h
}

func (h *harness) openStore() {
	st, err := store.Open(filepath.Join(h.stDir, "drover.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	h.store = st
	h.t.Cleanup(func() { st.Close() })
}

func (h *harness) newAgent() {
	h.agent = New(h.cfg, Deps{Store: h.store, Source: h.src, FS: h.fs, Supervisor: h.sup, Runner: h.nginx,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return h.clock }, Accounts: h.readAccounts})
	h.t.Cleanup(h.agent.Close)
}

func (h *harness) readAccounts() (launch.Accounts, error) { return h.accounts, nil }

// reconcile runs one pass and fails the test on an unexpected outcome.
func (h *harness) reconcile(want Outcome) *Result {
	h.t.Helper()
	res := h.agent.Reconcile(context.Background(), false)
	h.agent.settleInto(context.Background(), res)
	if res.Outcome != want {
		h.t.Fatalf("outcome %s (err %v, failed %v), want %s", res.Outcome, res.Err, res.Failed, want)
	}
	return res
}

func (h *harness) statuses() map[string]store.DaemonStatus {
	h.t.Helper()
	d, err := h.store.Daemons()
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// supervisorFakeWith is supervisord booted after a reboot, with the files
// the harness has now.
func supervisorFakeWith(h *harness) *supervisor.Fake {
	f := supervisor.NewFake()
	h.fs.onWrite = f.SetFiles
	h.fs.changed(h.fs.supDir + "/x")
	if err := f.Boot(); err != nil {
		h.t.Fatal(err)
	}
	return f
}

// newAgentWith is newAgent keeping a network fake (a restarted agent).
func (h *harness) newAgentWith(net network.Applier) {
	h.agent = New(h.cfg, Deps{Store: h.store, Source: h.src, FS: h.fs, Supervisor: h.sup, Runner: h.nginx, Network: net,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return h.clock }, Accounts: h.readAccounts})
	h.t.Cleanup(h.agent.Close)
}
