package reconcile

import (
	"context"
	"strings"

	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/render"
)

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
func (a *Reconciler) Repair(ctx context.Context, paths []string) {
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
		root, rel := install.SplitKey(key)
		f := render.File{Root: root, Path: rel, Mode: r.Mode, Data: r.Data}
		old, mode, err := a.fs.ReadFile(p)
		same := err == nil && mode == r.Mode && a.installedAs(f, old)
		if root == render.RootExec {
			clear(old) // it may hold opened secrets
		}
		if same {
			continue
		}
		data, err := a.secrets.reveal(f)
		if err != nil {
			a.log.Error("repair: open encrypted values", "file", p, "error", err)
			continue
		}
		err = a.fs.WriteFile(p, data, r.Mode)
		forget(f, data)
		if err != nil {
			a.log.Error("repair: write", "file", p, "error", err)
			continue
		}
		repaired = append(repaired, key)
		switch root {
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
	a.log.Warn("repaired managed files changed by hand", "files", strings.Join(repaired, ", "))
	if a.dirty() {
		a.wake()
	}
}

// holdKeys marks the keys a pass is about to change, which Repair leaves
// alone until releaseKeys.
func (a *Reconciler) holdKeys(d diff) {
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

func (a *Reconciler) releaseKeys() {
	a.fileMu.Lock()
	a.passKeys = nil
	a.fileMu.Unlock()
}
