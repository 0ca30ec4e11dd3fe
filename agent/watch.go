package agent

import (
	"bytes"
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/render"
)

// debounce is how long the watcher waits for a burst of events to end.
const debounce = 100 * time.Millisecond

// LocalSource is implemented by sources that live on this machine; the
// agent watches their refs so a commit is picked up at once.
type LocalSource interface {
	Local() (string, bool)
}

// watcher repairs managed files changed by hand and triggers a reconcile on
// a local commit.
type watcher struct{ w *fsnotify.Watcher }

func (w *watcher) Close() error { return w.w.Close() }

func (a *Agent) watch(ctx context.Context) (*watcher, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	managed := map[string]bool{}
	for _, d := range a.layout.Dirs() {
		if err := fw.Add(d); err != nil {
			fw.Close()
			return nil, err
		}
		managed[filepath.Clean(d)] = true
	}
	if ls, ok := a.src.(LocalSource); ok {
		if dir, ok := ls.Local(); ok {
			for _, d := range refDirs(dir) {
				if err := fw.Add(d); err != nil {
					a.log.Warn("cannot watch the local source; commits are picked up by polling", "dir", d, "error", err)
				}
			}
		}
	}
	go a.watchLoop(ctx, fw, managed)
	return &watcher{fw}, nil
}

// refDirs are the directories of a local repository whose changes mean a
// branch may have moved (loose refs, packed-refs, and the dir itself for
// bare repositories).
func refDirs(repo string) []string {
	var out []string
	for _, git := range []string{filepath.Join(repo, ".git"), repo} {
		if st, err := os.Stat(filepath.Join(git, "refs", "heads")); err == nil && st.IsDir() {
			out = append(out, git, filepath.Join(git, "refs", "heads"))
			break
		}
	}
	return out
}

func (a *Agent) watchLoop(ctx context.Context, fw *fsnotify.Watcher, managed map[string]bool) {
	var timer <-chan time.Time
	repair := map[string]bool{}
	commit := false
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-fw.Events:
			if !ok {
				return
			}
			if managed[filepath.Dir(ev.Name)] {
				if isTemp(ev.Name) {
					continue
				}
				repair[ev.Name] = true
			} else {
				commit = true
			}
			if timer == nil {
				timer = time.After(debounce)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			a.log.Warn("file watcher", "error", err)
		case <-timer:
			timer = nil
			if len(repair) > 0 {
				a.Repair(ctx, slices.Sorted(maps.Keys(repair)))
			}
			if commit {
				a.Trigger()
			}
			repair, commit = map[string]bool{}, false
		}
	}
}

// isTemp tells drover's own temporary files (see osFS.WriteFile) apart.
func isTemp(name string) bool {
	base := filepath.Base(name)
	return len(base) > 0 && base[0] == '.'
}

// Repair restores the given managed files (paths the watcher saw change)
// where they differ from what drover installed, from the store's content,
// without a fetch; paths drover did not install are left alone. It repairs
// toward the store, not toward the newest revision: after a failed (rolled
// back) nginx change the store still holds the files nginx accepted, and
// only the retry, with its backoff, tries the new ones again.
//
// Repair takes neither a.mu nor passMu, so it works while a pass waits for
// a hung dependency; it leaves alone the files the pass in progress is
// changing (passKeys). Telling supervisord (reread) and nginx (reload)
// about repaired files is left to a pass, which it triggers.
func (a *Agent) Repair(ctx context.Context, paths []string) {
	a.fileMu.Lock()
	defer a.fileMu.Unlock()
	var repaired []string
	for _, p := range paths {
		key, ok := a.layout.KeyOf(p)
		if !ok || a.passKeys[key] {
			continue
		}
		r, ok, err := a.store.Resource(key)
		if err != nil {
			a.log.Error("repair: read store", "file", p, "error", err)
			continue
		}
		if !ok {
			continue // not drover's
		}
		if data, mode, err := a.fs.ReadFile(p); err == nil && mode == r.Mode && bytes.Equal(data, r.Data) {
			continue
		}
		if err := a.fs.WriteFile(p, r.Data, r.Mode); err != nil {
			a.log.Error("repair: write", "file", p, "error", err)
			continue
		}
		repaired = append(repaired, key)
		switch root, _ := install.SplitKey(key); root {
		case render.RootSupervisor:
			a.reread.Store(true)
		case render.RootNginx:
			a.reload.Store(true)
		}
	}
	if len(repaired) == 0 {
		return
	}
	a.metrics.driftRepairs.Add(float64(len(repaired)))
	a.log.Warn("repaired managed files changed by hand", "files", repaired)
	if a.dirty() {
		a.Trigger()
	}
}

// holdKeys marks the keys a pass is about to change, which Repair leaves
// alone until releaseKeys.
func (a *Agent) holdKeys(d diff) {
	keys := map[string]bool{}
	for _, ws := range d.writes {
		for _, w := range ws {
			keys[w.key] = true
		}
	}
	for _, rs := range d.removes {
		for _, k := range rs {
			keys[k] = true
		}
	}
	a.fileMu.Lock()
	a.passKeys = keys
	a.fileMu.Unlock()
}

func (a *Agent) releaseKeys() {
	a.fileMu.Lock()
	a.passKeys = nil
	a.fileMu.Unlock()
}
