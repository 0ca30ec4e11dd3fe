package agent

import (
	"context"
	"log/slog"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"

	"github.com/drover-sh/drover/agent/reconcile"
)

// Restart on deploy (reconcile/deploy.go decides): the agent watches the
// directory of every file a daemon's restart_on_change names, and its
// webroot (a release directory swapped in, a directory created late), and
// asks the reconciler to look at the files an event may have changed once
// the burst of events is over. A directory that cannot be watched (not
// there yet) is tried again after every pass and every burst; it does not
// stop the daemon nor the other watches.

// deployQuiet is how long the files of a deploy must be left alone before
// they are looked at: a deploy tool that writes REVISION twice restarts
// its daemons once. deployMaxWait bounds the wait under a steady stream of
// events (a tenant's own writes in its webroot).
const (
	deployQuiet   = time.Second
	deployMaxWait = 5 * time.Second
)

// deployChecker is the reconciler's side of restart on deploy.
type deployChecker interface {
	DeployFiles() []reconcile.DeployFile
	CheckDeploys(paths []string) []string
}

// deployWatch watches the restart_on_change files; Resync has it follow
// the files of a new plan.
type deployWatch struct {
	fw     *fsnotify.Watcher
	rec    deployChecker
	log    *slog.Logger
	resync chan struct{}
	// dirs are the directories watched; files the files they are for.
	// byName maps a path an event may name to the files it concerns: the
	// file itself, and the first component of its path in the webroot.
	dirs   map[string]bool
	files  map[string]bool
	byName map[string][]string
}

func newDeployWatch(rec deployChecker, log *slog.Logger) (*deployWatch, error) {
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return nil, err
	}
	return &deployWatch{fw: fw, rec: rec, log: log, resync: make(chan struct{}, 1),
		dirs: map[string]bool{}, files: map[string]bool{}, byName: map[string][]string{}}, nil
}

func (w *deployWatch) Close() error { return w.fw.Close() }

// Resync asks the loop to follow the files of the plan now (after a pass).
func (w *deployWatch) Resync() {
	select {
	case w.resync <- struct{}{}:
	default:
	}
}

// run is the loop of the watch, until ctx ends.
func (w *deployWatch) run(ctx context.Context) {
	pending := map[string]bool{}
	var timer *time.Timer
	var fire <-chan time.Time
	var first time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.resync:
			if fresh := w.sync(); len(fresh) > 0 {
				w.rec.CheckDeploys(fresh)
			}
		case ev, ok := <-w.fw.Events:
			if !ok {
				return
			}
			files := w.byName[ev.Name]
			if len(files) == 0 {
				continue
			}
			for _, f := range files {
				pending[f] = true
				if f != ev.Name { // a directory on its path changed
					delete(w.dirs, filepath.Dir(f))
				}
			}
			now := time.Now()
			if fire == nil {
				first = now
				timer = time.NewTimer(deployQuiet)
				fire = timer.C
			} else {
				timer.Reset(min(deployQuiet, deployMaxWait-now.Sub(first)))
			}
		case err, ok := <-w.fw.Errors:
			if !ok {
				return
			}
			w.log.Warn("restart_on_change watcher", "error", err)
		case <-fire:
			fire = nil
			for _, f := range w.sync() {
				pending[f] = true
			}
			w.rec.CheckDeploys(slices.Sorted(maps.Keys(pending)))
			pending = map[string]bool{}
		}
	}
}

// sync watches the directories of the plan's files, again for those that
// failed or changed, stops watching the others, and returns the files
// watched now that were not before: their content is to be looked at.
func (w *deployWatch) sync() []string {
	want := w.rec.DeployFiles()
	dirs := map[string]bool{}
	byName := map[string][]string{}
	files := map[string]bool{}
	var fresh []string
	for _, f := range want {
		dir := filepath.Dir(f.Path)
		rel := strings.TrimPrefix(f.Path, f.Webroot+"/")
		top := filepath.Join(f.Webroot, strings.SplitN(rel, "/", 2)[0])
		byName[f.Path] = append(byName[f.Path], f.Path)
		if top != f.Path {
			byName[top] = append(byName[top], f.Path)
		}
		ok := true
		for _, d := range []string{f.Webroot, dir} {
			if dirs[d] {
				continue
			}
			if !w.dirs[d] {
				if err := w.fw.Add(d); err != nil {
					ok = false
					continue
				}
			}
			dirs[d] = true
		}
		if ok {
			files[f.Path] = true
			if !w.files[f.Path] {
				fresh = append(fresh, f.Path)
			}
		}
	}
	for d := range w.dirs {
		if !dirs[d] {
			_ = w.fw.Remove(d) // it may be gone already
		}
	}
	w.dirs, w.files, w.byName = dirs, files, byName
	return fresh
}
