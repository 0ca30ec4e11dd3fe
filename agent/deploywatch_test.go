package agent

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/reconcile"
)

// checks is a deployChecker that records what it is asked to look at.
type checks struct {
	files []reconcile.DeployFile
	mu    sync.Mutex
	calls [][]string
}

func (c *checks) DeployFiles() []reconcile.DeployFile { return c.files }

func (c *checks) CheckDeploys(paths []string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls = append(c.calls, paths)
	return nil
}

func (c *checks) took() [][]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.calls
	c.calls = nil
	return out
}

// TestDeployWatchDebouncesAndRetries: a burst of writes is looked at once,
// after it ends; a file whose directory is missing is watched once the
// directory appears, without failing the others; a symlinked release
// directory swapped in is noticed.
func TestDeployWatchDebouncesAndRetries(t *testing.T) {
	webroot := t.TempDir()
	top := filepath.Join(webroot, "REVISION")
	late := filepath.Join(webroot, "current", "REVISION")
	c := &checks{files: []reconcile.DeployFile{{Path: late, Webroot: webroot}, {Path: top, Webroot: webroot}}}
	w, err := newDeployWatch(c, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.run(ctx)
	w.Resync()
	waitCalls(t, c, [][]string{{top}}) // current/ is missing: only REVISION is watched

	for i := range 3 { // a deploy tool's writes, 200 ms apart
		write(t, top, "v2")
		if i < 2 {
			time.Sleep(200 * time.Millisecond)
		}
	}
	waitCalls(t, c, [][]string{{top}})

	// The release directory appears (a symlink, as deploy tools make it)
	// with its REVISION: looked at, and watched from then on.
	rel := filepath.Join(webroot, "releases", "1")
	if err := os.MkdirAll(rel, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(rel, "REVISION"), "r1")
	if err := os.Symlink("releases/1", filepath.Join(webroot, "current")); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, c, [][]string{{late}})
	write(t, late, "r1b")
	waitCalls(t, c, [][]string{{late}})

	// The next release swaps current atomically: looked at, and its
	// directory watched instead of the old one.
	rel2 := filepath.Join(webroot, "releases", "2")
	if err := os.MkdirAll(rel2, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(rel2, "REVISION"), "r2")
	if err := os.Symlink("releases/2", filepath.Join(webroot, ".current.new")); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(webroot, ".current.new"), filepath.Join(webroot, "current")); err != nil {
		t.Fatal(err)
	}
	waitCalls(t, c, [][]string{{late}})
	write(t, late, "r2b")
	waitCalls(t, c, [][]string{{late}})
}

// waitCalls waits for the checks after a burst and compares them.
func waitCalls(t *testing.T, c *checks, want [][]string) {
	t.Helper()
	time.Sleep(deployQuiet + 500*time.Millisecond)
	got := c.took()
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("checked %q, want %q", got, want)
	}
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}
