package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
	"github.com/drover-sh/drover/spec"
)

// applyOpts adjust an apply pass.
type applyOpts struct {
	// scope, when non-nil, limits the pass to those keys (drift repair of
	// files changed by hand); statuses are left alone.
	scope map[string]bool
	// trustStore skips reading files the store says are installed as
	// desired (see diffFiles).
	trustStore bool
}

// write is one file to (re)install, with what was there before, so a failed
// nginx test can put it back.
type write struct {
	key, path string
	file      render.File
	old       []byte
	oldMode   fs.FileMode
	existed   bool
}

// diff is the difference between the desired files and the node.
type diff struct {
	writes  map[render.Root][]write
	removes map[render.Root][]string // keys
	// adopt holds desired files already on disk byte for byte but not (or
	// differently) in the store: recorded without writing.
	adopt []render.File
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// diffFiles compares desired files with the store and the disk. A file
// differs when its disk content or mode is not the desired one (so a hand
// edit is repaired); files drover installed that are no longer desired are
// removed. Nothing else on disk is ever touched.
//
// With trust, a file the store holds with the desired content is taken to
// be on disk as installed, without reading it: the watcher repairs files
// changed by hand, and passes after a restart or asked for (retry, drover
// reconcile) compare with the disk. On a large node this saves reading
// every one of some 13,000 files on each commit.
func (a *Agent) diffFiles(desired map[string]render.File, installed map[string]store.Resource, scope map[string]bool, trust bool) diff {
	d := diff{writes: map[render.Root][]write{}, removes: map[render.Root][]string{}}
	for _, key := range slices.Sorted(maps.Keys(desired)) {
		if scope != nil && !scope[key] {
			continue
		}
		f := desired[key]
		r, stored := installed[key]
		stored = stored && r.Mode == f.Mode && bytes.Equal(r.Data, f.Data)
		p, ok := a.layout.Path(key)
		if !ok { // not a file on disk (network state): recorded only
			if !stored {
				d.adopt = append(d.adopt, f)
			}
			continue
		}
		if stored && trust {
			continue
		}
		old, mode, err := a.fs.ReadFile(p)
		if err == nil && mode == f.Mode && bytes.Equal(old, f.Data) {
			if !stored {
				d.adopt = append(d.adopt, f)
			}
			continue
		}
		d.writes[f.Root] = append(d.writes[f.Root], write{key: key, path: p, file: f, old: old, oldMode: mode, existed: err == nil})
	}
	for _, key := range slices.Sorted(maps.Keys(installed)) {
		if scope != nil && !scope[key] {
			continue
		}
		if _, ok := desired[key]; !ok {
			root, _ := splitKey(key)
			d.removes[root] = append(d.removes[root], key)
		}
	}
	return d
}

// apply installs desired (steps 3 to 6 of SPEC §6): exec specs, then
// supervisord programs (only changed groups), then nginx (tested, reloaded,
// rolled back on failure); then it removes what is gone and records what is
// installed. plan may be nil (restoring from the store without the
// revision in the Git cache): statuses are then left as they are.
func (a *Agent) apply(ctx context.Context, rev string, plan *netplan.NodePlan, desired map[string]render.File, o applyOpts) *Result {
	res := &Result{Revision: rev, Outcome: OutcomeApplied, Failed: map[string]string{}}
	defer res.took("apply", time.Now())
	installed, err := a.installed(o.scope)
	if err != nil {
		res.Outcome, res.Err = OutcomeFailed, fmt.Errorf("read store: %w", err)
		return res
	}
	if a.adoptOrphans && o.scope == nil {
		a.adoptOrphans = false
		a.adopt(installed)
	}
	d := a.diffFiles(desired, installed, o.scope, o.trustStore)
	now := a.now()
	change := store.Change{Revision: rev, At: now}
	for _, f := range d.adopt {
		change.Put = append(change.Put, resourceOf(f))
	}
	programFailed := map[string]string{} // program → reason

	// The network first: daemons bind to their tenant address.
	if o.scope == nil && !a.applyNetwork(ctx, plan, desired, res, programFailed) {
		// Not recorded: the next pass (or the retry) applies it again.
		change.Put = slices.DeleteFunc(change.Put, func(r store.Resource) bool { return r.Key == networkKey })
	}

	// Exec specs first: supervisord may start a program as soon as it is added.
	var restart []string
	for _, w := range d.writes[render.RootExec] {
		program := strings.TrimSuffix(path.Base(w.file.Path), ".json")
		if err := a.fs.WriteFile(w.path, w.file.Data, w.file.Mode); err != nil {
			programFailed[program] = fmt.Sprintf("write exec spec: %v", err)
			continue
		}
		change.Put = append(change.Put, resourceOf(w.file))
		res.changef("wrote exec spec of %s", program)
		if w.existed {
			restart = append(restart, program)
		}
	}

	// supervisord: write program files, remove drover's stale ones, then
	// let supervisord reread and touch only the groups that changed.
	supChanged := false
	for _, w := range d.writes[render.RootSupervisor] {
		if err := a.fs.WriteFile(w.path, w.file.Data, w.file.Mode); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("write %s: %w", w.path, err))
			continue
		}
		supChanged = true
		change.Put = append(change.Put, resourceOf(w.file))
		res.changef("wrote %s", w.key)
	}
	for _, key := range d.removes[render.RootSupervisor] {
		p, _ := a.layout.Path(key)
		if err := a.fs.Remove(p); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("remove %s: %w", p, err))
			continue
		}
		supChanged = true
		change.Delete = append(change.Delete, key)
		res.changef("removed %s", key)
	}
	if o.scope == nil {
		restart = append(restart, a.dueRestarts(ctx, plan)...)
	}
	restart = a.enabledOnly(plan, restart)
	var touched []string
	if supChanged || len(restart) > 0 {
		supStart := time.Now()
		upd, err := supervisor.Update(ctx, a.sup, restart)
		res.took("supervisord", supStart)
		for group, gerr := range upd.Failed {
			programFailed[group] = fmt.Sprintf("supervisord: %v", gerr)
		}
		if err != nil && len(upd.Failed) == 0 {
			res.Err = errors.Join(res.Err, fmt.Errorf("update supervisord: %w", err))
		}
		for _, g := range upd.Added {
			res.changef("added program %s", g)
		}
		for _, g := range upd.Changed {
			res.changef("updated program %s", g)
		}
		for _, g := range upd.Removed {
			res.changef("removed program %s", g)
			launch.RemoveMemoryCgroups(g)
		}
		for _, g := range upd.Restarted {
			res.changef("restarted program %s", g)
		}
		touched = append(append(append(touched, upd.Added...), upd.Changed...), upd.Restarted...)
	}
	// Exec specs of removed programs go after supervisord dropped them.
	for _, key := range d.removes[render.RootExec] {
		p, _ := a.layout.Path(key)
		if err := a.fs.Remove(p); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("remove %s: %w", p, err))
			continue
		}
		change.Delete = append(change.Delete, key)
	}

	// nginx: write, test, reload; on failure put the previous files back.
	nginxFailed := ""
	var nginxWritten []write
	var nginxRemoved []string
	for _, w := range d.writes[render.RootNginx] {
		if err := a.fs.WriteFile(w.path, w.file.Data, w.file.Mode); err != nil {
			nginxFailed = fmt.Sprintf("write %s: %v", w.path, err)
			break
		}
		nginxWritten = append(nginxWritten, w)
	}
	if nginxFailed == "" {
		for _, key := range d.removes[render.RootNginx] {
			p, _ := a.layout.Path(key)
			if err := a.fs.Remove(p); err != nil {
				nginxFailed = fmt.Sprintf("remove %s: %v", p, err)
				break
			}
			nginxRemoved = append(nginxRemoved, key)
		}
	}
	if nginxFailed == "" && (len(nginxWritten) > 0 || len(nginxRemoved) > 0) {
		nginxStart := time.Now()
		if err := a.nginx.TestAndReload(ctx); err != nil {
			nginxFailed = err.Error()
		}
		res.took("nginx", nginxStart)
	}
	if nginxFailed != "" {
		a.rollbackNginx(nginxWritten, nginxRemoved, installed)
		res.Err = errors.Join(res.Err, errors.New(nginxFailed))
		res.changef("nginx change rolled back: %s", firstLine(nginxFailed))
		for _, program := range a.programsOfNginxFiles(plan, d.writes[render.RootNginx], d.removes[render.RootNginx]) {
			programFailed[program] = nginxFailed
		}
	} else {
		for _, w := range nginxWritten {
			change.Put = append(change.Put, resourceOf(w.file))
			res.changef("wrote %s", w.key)
		}
		for _, key := range nginxRemoved {
			change.Delete = append(change.Delete, key)
			res.changef("removed %s", key)
		}
		if len(nginxWritten) > 0 || len(nginxRemoved) > 0 {
			res.changef("reloaded nginx")
		}
	}

	// Record: statuses of this node's daemons, what is installed, history.
	if o.scope == nil {
		a.recordStatuses(ctx, plan, touched, programFailed, &change, res)
	} else {
		for program, reason := range programFailed {
			res.Failed[program] = reason
		}
	}
	if res.Err != nil || len(res.Failed) > 0 {
		res.Outcome = OutcomeFailed
	}
	summary := fmt.Sprintf("%d changes", len(res.Changes))
	if res.Err != nil {
		summary += ": " + firstLine(res.Err.Error())
	}
	if len(res.Changes) > 0 || res.Err != nil || len(res.Failed) > 0 {
		change.History = &store.HistoryEntry{Revision: rev, At: now, Result: string(res.Outcome), Summary: summary}
	}
	if err := a.record(change); err != nil {
		res.Outcome = OutcomeFailed
		res.Err = errors.Join(res.Err, fmt.Errorf("record applied state: %w", err))
	}
	return res
}

// rollbackNginx puts back the files a failed nginx change replaced or
// removed, so nginx keeps serving (and a later reload loads) the old config.
func (a *Agent) rollbackNginx(written []write, removed []string, installed map[string]store.Resource) {
	for _, w := range written {
		var err error
		if w.existed {
			err = a.fs.WriteFile(w.path, w.old, w.oldMode)
		} else {
			err = a.fs.Remove(w.path)
		}
		if err != nil {
			a.log.Error("roll back nginx file", "path", w.path, "error", err)
		}
	}
	for _, key := range removed {
		p, _ := a.layout.Path(key)
		r := installed[key]
		if err := a.fs.WriteFile(p, r.Data, r.Mode); err != nil {
			a.log.Error("roll back nginx file", "path", p, "error", err)
		}
	}
}

// programsOfNginxFiles lists this node's proxied programs whose webroot's
// nginx files were part of a failed change.
func (a *Agent) programsOfNginxFiles(plan *netplan.NodePlan, writes []write, removes []string) []string {
	if plan == nil {
		return nil
	}
	files := map[string]bool{}
	for _, w := range writes {
		files[fileStem(w.file.Path)] = true
	}
	for _, key := range removes {
		_, p := splitKey(key)
		files[fileStem(p)] = true
	}
	var out []string
	for _, d := range plan.Programs {
		if d.ProxyPath != "" && files[spec.WebrootFileName(d.Tenant, d.Webroot)] {
			out = append(out, d.Program)
		}
	}
	return out
}

func fileStem(p string) string { return strings.TrimSuffix(path.Base(p), ".conf") }

// enabledOnly keeps the programs that are enabled in plan (a disabled
// program whose exec spec changed stays stopped).
func (a *Agent) enabledOnly(plan *netplan.NodePlan, programs []string) []string {
	enabled := map[string]bool{}
	if plan == nil {
		for _, p := range programs {
			enabled[p] = true
		}
	}
	if plan != nil {
		for _, d := range plan.Programs {
			enabled[d.Program] = d.Enabled
		}
	}
	var out []string
	seen := map[string]bool{}
	for _, p := range programs {
		if enabled[p] && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func resourceOf(f render.File) store.Resource {
	return store.Resource{Key: Key(f.Root, f.Path), Mode: f.Mode, Hash: hashOf(f.Data), Data: f.Data}
}

// dueRestarts are the failed programs whose retry is due (or forced) and
// that supervisord does not run: a retry starts them again.
func (a *Agent) dueRestarts(ctx context.Context, plan *netplan.NodePlan) []string {
	if plan == nil {
		return nil
	}
	statuses, err := a.daemonStatuses()
	if err != nil {
		return nil
	}
	var failed []*netplan.Daemon
	for _, d := range plan.Programs {
		if st, ok := statuses[d.Key]; ok && st.Status == StatusFailed && d.Enabled {
			failed = append(failed, d)
		}
	}
	observed := a.observe(ctx, failed, a.now())
	var out []string
	for _, d := range failed {
		if observed[d.Key].status != StatusRunning {
			out = append(out, d.Program)
		}
	}
	return out
}

// installed reads what the store says is installed: everything, or only the
// keys in scope (a repair of a few files must not read thousands).
func (a *Agent) installed(scope map[string]bool) (map[string]store.Resource, error) {
	if scope == nil {
		return a.store.Resources()
	}
	out := make(map[string]store.Resource, len(scope))
	for key := range scope {
		r, ok, err := a.store.Resource(key)
		if err != nil {
			return nil, err
		}
		if ok {
			out[key] = r
		}
	}
	return out, nil
}

// adopt adds to installed the files an earlier life of the agent wrote
// (see adoptable) that the store, rebuilt since, no longer tracks: they are
// removed like any other file drover installed and no longer wants.
func (a *Agent) adopt(installed map[string]store.Resource) {
	for root, dir := range a.layout {
		var dirs []string
		switch root {
		case render.RootNginx:
			dirs = []string{"locations", "servers"}
		default:
			dirs = []string{""}
		}
		for _, sub := range dirs {
			names, err := a.fs.List(path.Join(dir, sub))
			if err != nil {
				continue
			}
			for _, name := range names {
				rel := path.Join(sub, name)
				key := Key(root, rel)
				if _, ok := installed[key]; ok {
					continue
				}
				data, mode, err := a.fs.ReadFile(path.Join(dir, rel))
				if err != nil || !adoptable(root, name, data) {
					continue
				}
				a.log.Info("adopting a file an earlier drover wrote", "file", path.Join(dir, rel))
				installed[key] = store.Resource{Key: key, Mode: mode, Hash: hashOf(data), Data: data}
			}
		}
	}
}
