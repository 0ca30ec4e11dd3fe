package reconcile

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/store"
)

// deployHarness is a harness whose storage root is a temp dir, with
// queue and worker watching REVISION and web watching nothing; it has
// applied that configuration. It returns the webroot's directory.
func deployHarness(t *testing.T) (*harness, string) {
	t.Helper()
	h := newHarness(t)
	h.cfg.StorageRoot = t.TempDir()
	h.newReconciler()
	dir := filepath.Join(h.cfg.StorageRoot, "acme", "webroots", "main")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	h.src.Commit(fake.Repo(
		fake.Daemon("queue", `      restart_on_change = "REVISION"`),
		fake.Daemon("worker", "      restart_on_change = \"REVISION\"\n      stop_signal = \"QUIT\""),
		fake.Daemon("web", "")))
	h.reconcile(OutcomeApplied)
	return h, dir
}

// deploy writes REVISION, has the reconciler look at it and waits for the
// restarts; it returns the daemons restarted and the change lines.
func (h *harness) deploy(dir, content string) ([]string, []string) {
	h.t.Helper()
	path := filepath.Join(dir, "REVISION")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		h.t.Fatal(err)
	}
	keys := h.rec.CheckDeploys([]string{path})
	res := &Result{}
	h.rec.Settle(context.Background(), res)
	return keys, res.Changes
}

// pids is the PID of every process, by process name.
func (h *harness) pids() map[string]string {
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(h.sup.Snapshot()), "\n") {
		f := strings.Fields(line)
		out[f[0]] = f[len(f)-1]
	}
	return out
}

func TestDeployRestartsTheDaemonsThatWatchTheFile(t *testing.T) {
	h, dir := deployHarness(t)
	// The first content seen is the one the daemons started with.
	if keys, _ := h.deploy(dir, "abc123\n"); len(keys) != 0 {
		t.Fatalf("first sight of REVISION restarted %v, want nothing", keys)
	}
	before := h.pids()
	keys, changes := h.deploy(dir, "def456\n")
	if want := []string{"acme/main/queue", "acme/main/worker"}; !slices.Equal(keys, want) {
		t.Errorf("restarted %v, want %v", keys, want)
	}
	after := h.pids()
	for proc, pid := range before {
		moved := after[proc] != pid
		if want := !strings.Contains(proc, "-web"); moved != want {
			t.Errorf("%s: pid %s → %s; want a new pid: %v", proc, pid, after[proc], want)
		}
	}
	if want := "deployed program daemon-acme-queue"; !slices.Contains(changes, want) {
		t.Errorf("changes %q lack %q", changes, want)
	}
	if got := testCounter(t, h, `drover_program_restarts_total{kind="deployed"}`); got != "2" {
		t.Errorf("deployed restarts counted %s, want 2", got)
	}
	// The same content written again (a deploy tool's second write, or
	// a redeploy of the same revision) restarts nothing.
	if keys, _ := h.deploy(dir, "def456\n"); len(keys) != 0 {
		t.Errorf("the same content restarted %v", keys)
	}
	if fmt.Sprint(h.pids()) != fmt.Sprint(after) {
		t.Errorf("pids changed on the same content: %v → %v", after, h.pids())
	}
}

// TestDeployWhileTheAgentWasDown: the hash is in the store, so a new
// agent restarts once for a deploy it did not see, and not again.
func TestDeployWhileTheAgentWasDown(t *testing.T) {
	h, dir := deployHarness(t)
	h.deploy(dir, "v1\n")
	h.rec.Close()
	if err := os.WriteFile(filepath.Join(dir, "REVISION"), []byte("v2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	h.newReconciler()
	h.reconcile(OutcomeApplied)
	if keys := h.rec.CheckDeploys(nil); len(keys) != 2 {
		t.Errorf("after the agent's restart, restarted %v, want queue and worker", keys)
	}
	if keys := h.rec.CheckDeploys(nil); len(keys) != 0 {
		t.Errorf("a second look restarted %v", keys)
	}
}

// TestDeployFileIsReadSafely: the tenant owns the webroot; the file is
// never read through a link out of it, nor a FIFO, nor a huge file.
func TestDeployFileIsReadSafely(t *testing.T) {
	var outside string // root's, beside acme
	for _, tc := range []struct {
		name string
		make func(path string) error
		want string
	}{
		{"symlink out of the webroot", func(p string) error { return os.Symlink(outside, p) }, "leads out of the webroot"},
		{"relative symlink out", func(p string) error { return os.Symlink("../../../secret", p) }, "leads out of the webroot"},
		{"fifo", func(p string) error { return mkfifo(p) }, "not a regular file"},
		{"hard link to another user's file", func(p string) error { return os.Link(outside, p) }, "has 2 links and belongs to uid"},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }, "not a regular file"},
		{"huge", func(p string) error { return os.WriteFile(p, make([]byte, MaxDeployFile+1), 0o644) }, "larger than 64 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			dir := filepath.Join(root, "acme", "webroots", "main")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			outside = filepath.Join(root, "secret")
			if err := os.WriteFile(outside, []byte("s1"), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := tc.make(filepath.Join(dir, "REVISION")); err != nil {
				t.Fatal(err)
			}
			_, err := hashDeployFile(root, "acme/webroots/main", "REVISION", 10042)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying %q", err, tc.want)
			}
		})
	}
	// A link that stays inside the webroot (current → releases/2) is
	// followed.
	root := t.TempDir()
	dir := filepath.Join(root, "acme", "webroots", "main")
	if err := os.MkdirAll(filepath.Join(dir, "releases", "2"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "releases", "2", "REVISION"), []byte("r2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("releases/2", filepath.Join(dir, "current")); err != nil {
		t.Fatal(err)
	}
	if _, err := hashDeployFile(root, "acme/webroots/main", "current/REVISION", 10042); err != nil {
		t.Errorf("current/REVISION through a link inside the webroot: %v", err)
	}
	// A webroot that is itself a link is not entered.
	if err := os.Rename(dir, dir+".real"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "secret"), []byte("s1"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(root, dir); err != nil {
		t.Fatal(err)
	}
	if _, err := hashDeployFile(root, "acme/webroots/main", "secret", 10042); err == nil {
		t.Error("read a file through a webroot that is a symbolic link")
	}
}

// testCounter is the value of the metric line that starts with name.
func testCounter(t *testing.T, h *harness, name string) string {
	t.Helper()
	rec := httptest.NewRecorder()
	h.rec.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, line := range strings.Split(rec.Body.String(), "\n") {
		if v, ok := strings.CutPrefix(line, name+" "); ok {
			return v
		}
	}
	return "(absent)"
}

func mkfifo(path string) error { return unix.Mkfifo(path, 0o644) }

// TestDeployHashesForgetGoneDaemons: the store keeps hashes only for the
// daemons that still watch a file.
func TestDeployHashesForgetGoneDaemons(t *testing.T) {
	h, dir := deployHarness(t)
	h.deploy(dir, "v1\n")
	h.src.Commit(fake.Repo(fake.Daemon("queue", `      restart_on_change = "REVISION"`), fake.Daemon("web", "")))
	h.reconcile(OutcomeApplied)
	h.deploy(dir, "v1\n")
	got, err := h.store.Meta(store.MetaDeployHashes)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, `"daemon-acme-queue REVISION"`) || strings.Contains(got, "worker") {
		t.Errorf("stored hashes %s, want queue's only", got)
	}
}
