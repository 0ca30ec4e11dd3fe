package agent

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/fsnotify/fsnotify"
)

// debounce is how long the watcher waits for a burst of events to end.
const debounce = 100 * time.Millisecond

// LocalSource is implemented by sources that live on this machine; the
// agent watches their refs so a commit is picked up at once.
type LocalSource interface {
	Local() (string, bool)
}

// watcher has the reconciler repair managed files changed by hand
// (reconcile's Repair) and triggers a reconcile on a local commit.
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
	refs := map[string]bool{}
	if ls, ok := a.src.(LocalSource); ok {
		if dir, ok := ls.Local(); ok {
			dirs := refDirs(dir)
			for _, d := range dirs {
				if err := fw.Add(d); err != nil {
					a.log.Warn("cannot watch the local source; commits are picked up by polling", "dir", d, "error", err)
				}
			}
			if len(dirs) > 0 {
				refs[filepath.Join(dirs[0], "refs", "heads", a.cfg.Source.Branch)] = true
				refs[filepath.Join(dirs[0], "packed-refs")] = true
			}
		}
	}
	go a.watchLoop(ctx, fw, managed, refs, debounce)
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

// watchLoop repairs managed files and triggers passes on the events of
// fw. A commit's other events (the index, objects, a lock file) are
// gathered for wait (debounce); the branch's ref (or packed-refs) put in place
// triggers the pass at once: it is the commit's last step, and a commit to
// a large repository takes longer than the debounce, so waiting for its
// events to end would add the debounce to every commit's way to the node.
func (a *Agent) watchLoop(ctx context.Context, fw *fsnotify.Watcher, managed, refs map[string]bool, wait time.Duration) {
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
			switch {
			case managed[filepath.Dir(ev.Name)]:
				if isTemp(ev.Name) {
					continue
				}
				repair[ev.Name] = true
			case refs[ev.Name] && ev.Has(fsnotify.Create|fsnotify.Write):
				a.Trigger()
				continue
			default:
				commit = true
			}
			if timer == nil {
				timer = time.After(wait)
			}
		case err, ok := <-fw.Errors:
			if !ok {
				return
			}
			a.log.Warn("file watcher", "error", err)
		case <-timer:
			timer = nil
			if len(repair) > 0 {
				a.rec.Repair(ctx, slices.Sorted(maps.Keys(repair)))
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
