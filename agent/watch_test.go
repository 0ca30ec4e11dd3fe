package agent

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/fsnotify/fsnotify"
)

// TestCommitTriggersAtOnce: the branch's ref put in place by a commit
// triggers a pass without waiting for the commit's other events to end (a
// commit to a large repository outlasts the debounce, which then delayed
// every commit's pass); the other events still wait for the debounce.
func TestCommitTriggersAtOnce(t *testing.T) {
	git := filepath.Join(t.TempDir(), ".git")
	heads := filepath.Join(git, "refs", "heads")
	if err := os.MkdirAll(heads, 0o755); err != nil {
		t.Fatal(err)
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		t.Fatal(err)
	}
	defer fw.Close()
	for _, d := range []string{git, heads} {
		if err := fw.Add(d); err != nil {
			t.Fatal(err)
		}
	}
	a := &Agent{wake: make(chan struct{}, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	refs := map[string]bool{filepath.Join(heads, "main"): true, filepath.Join(git, "packed-refs"): true}
	go a.watchLoop(ctx, fw, nil, refs, time.Hour) // the debounce never ends here

	// A commit's first events, then its ref, as git writes it (a lock
	// file renamed over the ref).
	write := func(path string) {
		t.Helper()
		if err := os.WriteFile(path, []byte("0123456789012345678901234567890123456789\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(git, "index.lock"))
	select {
	case <-a.wake:
		t.Fatal("the index changing triggered a pass without the debounce")
	case <-time.After(200 * time.Millisecond):
	}
	write(filepath.Join(heads, "main.lock"))
	if err := os.Rename(filepath.Join(heads, "main.lock"), filepath.Join(heads, "main")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-a.wake:
	case <-time.After(10 * time.Second):
		t.Fatal("the branch's ref was put in place and no pass was triggered (waiting for the debounce)")
	}
}
