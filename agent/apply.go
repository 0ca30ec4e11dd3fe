package agent

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
)

// applyOpts adjust an apply pass.
type applyOpts struct {
	// trustStore skips reading files the store says are installed as
	// desired (see diffFiles).
	trustStore bool
}

// write is one file to (re)install; existed says whether a file was there
// (an exec spec replaced means a restart is owed).
type write struct {
	key, path string
	file      render.File
	existed   bool
}

// diff is the difference between the desired files and the node.
type diff struct {
	writes  map[render.Root][]write
	removes map[render.Root][]string // keys
	// adopt holds desired files already on disk byte for byte but not (or
	// differently) in the store: recorded without writing.
	adopt []render.File
	// forget holds stored keys of roots the layout has no directory for
	// (the network files an earlier agent recorded): dropped from the
	// store, nothing to remove on disk.
	forget []string
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
func (a *Agent) diffFiles(desired map[string]render.File, installed map[string]store.Resource, trust bool) diff {
	d := diff{writes: map[render.Root][]write{}, removes: map[render.Root][]string{}}
	for _, key := range slices.Sorted(maps.Keys(desired)) {
		f := desired[key]
		r, stored := installed[key]
		stored = stored && r.Mode == f.Mode && r.Owner == f.Owner && bytes.Equal(r.Data, f.Data)
		p, ok := a.layout.Path(key)
		if !ok {
			continue // desiredOf keeps only files with a directory
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
		d.writes[f.Root] = append(d.writes[f.Root], write{key: key, path: p, file: f, existed: err == nil})
	}
	for _, key := range slices.Sorted(maps.Keys(installed)) {
		if _, ok := desired[key]; !ok {
			if _, onDisk := a.layout.Path(key); !onDisk {
				d.forget = append(d.forget, key)
				continue
			}
			root, _ := install.SplitKey(key)
			d.removes[root] = append(d.removes[root], key)
		}
	}
	return d
}

// pass is one apply in progress: what it compares, what it has changed so
// far and what it will record.
type pass struct {
	rev       string
	plan      *netplan.NodePlan
	desired   desired
	installed map[string]store.Resource
	diff      diff
	opts      applyOpts
	res       *Result
	change    store.Change
	// failed maps program names to why they could not be applied.
	failed map[string]string
	// touched lists programs supervisord added.
	touched []string
	// owed lists programs whose exec spec this pass rewrote.
	owed []string
	// tenants is the tenant identity check's (agent/tenants.go).
	tenants admission
}

// apply installs desired (design.md §6.4) as ordered steps, each
// changing one part of the node. plan may be nil (restoring from the store
// without the revision in the Git cache): statuses are then left as they
// are.
func (a *Agent) apply(ctx context.Context, rev string, plan *netplan.NodePlan, desired desired, o applyOpts) *Result {
	res := &Result{Revision: rev, Outcome: OutcomeApplied, Failed: map[string]string{}}
	defer res.took("apply", time.Now())
	installed, err := a.store.Resources()
	if err != nil {
		res.Outcome, res.Err = OutcomeFailed, fmt.Errorf("read store: %w", err)
		return res
	}
	if a.adoptOrphans {
		a.adoptOrphans = false
		a.adopt(installed)
	}
	p := &pass{rev: rev, plan: plan, desired: desired, installed: installed, opts: o, res: res,
		change: store.Change{Revision: rev, At: a.now()}, failed: map[string]string{}}
	p.diff = a.diffFiles(desired.files, installed, o.trustStore)
	a.holdKeys(p.diff)
	defer a.releaseKeys()
	for _, f := range p.diff.adopt {
		p.change.Put = append(p.change.Put, resourceOf(f))
	}
	p.change.Delete = append(p.change.Delete, p.diff.forget...)
	for _, step := range []func(context.Context, *pass){
		a.stepAdmitTenants, // tenant identity check (agent/tenants.go)
		a.stepNetwork,
		a.stepExecSpecs,
		a.stepSupervisor,
		a.stepRemoveExecSpecs,
		a.stepNginx,
		a.stepRefusedTenants, // tenant identity check (agent/tenants.go)
		a.stepRecord,
	} {
		step(ctx, p)
	}
	return res
}

// stepNetwork converges addresses, routes and nftables first: daemons bind
// to their tenant address. A state that failed is not recorded, so the next
// pass (or the retry) applies it again.
func (a *Agent) stepNetwork(ctx context.Context, p *pass) {
	if s := p.desired.network; s != nil && a.applyNetwork(ctx, p.plan, *s, p.res, p.failed) {
		p.change.Network = a.networkToRecord(*s)
	}
}

// stepExecSpecs writes changed exec specs before supervisord sees their
// programs (it may start one as soon as it is added). A program whose spec
// changed must be restarted to read it, even if its section did not
// change: it is recorded as owed before the spec is written (see owe).
func (a *Agent) stepExecSpecs(_ context.Context, p *pass) {
	var owed []string
	for _, w := range p.diff.writes[render.RootExec] {
		if w.existed {
			owed = append(owed, w.file.Owner.Program)
		}
	}
	a.owe(owed)
	p.owed = owed
	for _, w := range p.diff.writes[render.RootExec] {
		program := w.file.Owner.Program
		if err := a.fs.WriteFile(w.path, w.file.Data, w.file.Mode); err != nil {
			p.failed[program] = fmt.Sprintf("write exec spec: %v", err)
			continue
		}
		p.change.Put = append(p.change.Put, resourceOf(w.file))
		p.res.changef("wrote exec spec of %s", program)
	}
}

// stepSupervisor writes program files and removes drover's stale ones,
// lets supervisord reread them once, and adds new programs at once
// (nothing of theirs is down). Every other difference — changed and
// removed programs, owed restarts, retries that are due — goes to the
// rollout, which restarts each program on its own in the background.
func (a *Agent) stepSupervisor(ctx context.Context, p *pass) {
	res := p.res
	changed := false
	for _, w := range p.diff.writes[render.RootSupervisor] {
		if err := a.fs.WriteFile(w.path, w.file.Data, w.file.Mode); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("write %s: %w", w.path, err))
			continue
		}
		changed = true
		p.change.Put = append(p.change.Put, resourceOf(w.file))
		res.changef("wrote %s", w.key)
	}
	for _, key := range p.diff.removes[render.RootSupervisor] {
		path, _ := a.layout.Path(key)
		if err := a.fs.Remove(path); err != nil {
			res.Err = errors.Join(res.Err, fmt.Errorf("remove %s: %w", path, err))
			continue
		}
		changed = true
		p.change.Delete = append(p.change.Delete, key)
		res.changef("removed %s", key)
	}
	// The programs owed a restart: those whose spec this pass wrote, and
	// at start every one the store says is owed (a restart in flight when
	// the agent stopped).
	restart := p.owed
	reread := a.reread.Load()
	if !a.owedSubmitted {
		restart = slices.Sorted(maps.Keys(a.pendingRestarts()))
	}
	retry := a.dueRestarts(ctx, p.plan)
	if !changed && len(restart) == 0 && len(retry) == 0 && !reread {
		return
	}
	start := time.Now()
	defer res.took("supervisord", start)
	added, changedGroups, removed, err := a.sup.ReloadConfig(ctx)
	if err != nil {
		res.Err = errors.Join(res.Err, fmt.Errorf("update supervisord: reload supervisord configuration: %w", err))
		// Nothing reached supervisord: the next pass rereads, and hands
		// the owed restarts over again.
		a.reread.Store(true)
		a.owedSubmitted = false
		return
	}
	a.reread.Store(false)
	a.owedSubmitted = true
	slices.Sort(added)
	for i, err := range a.sup.Batch(ctx, supervisor.OpAdd, added) {
		if err != nil && !supervisor.IsFault(err, supervisor.FaultAlreadyAdded) {
			p.failed[added[i]] = fmt.Sprintf("supervisord: supervisord group %s: add: %v", added[i], err)
			continue
		}
		res.changef("added program %s", added[i])
		p.touched = append(p.touched, added[i])
	}
	if n := a.submitRollout(a.plan, p.plan, changedGroups, removed, restart, retry); n > 0 {
		res.changef("queued %d program restarts and removals", n)
	}
}

// stepRemoveExecSpecs removes the exec specs of removed programs, after
// supervisord dropped them.
func (a *Agent) stepRemoveExecSpecs(_ context.Context, p *pass) {
	for _, key := range p.diff.removes[render.RootExec] {
		path, _ := a.layout.Path(key)
		if err := a.fs.Remove(path); err != nil {
			p.res.Err = errors.Join(p.res.Err, fmt.Errorf("remove %s: %w", path, err))
			continue
		}
		p.change.Delete = append(p.change.Delete, key)
	}
}

// stepNginx writes and removes nginx files, then tests and reloads nginx.
// On any failure it puts drover's previous files back, so nginx keeps
// serving the old configuration, and fails the daemons of the webroots
// concerned with nginx's message; the store keeps the old files.
func (a *Agent) stepNginx(ctx context.Context, p *pass) {
	res := p.res
	failed := ""
	txn := install.NewTxn(a.fs)
	var written []write
	var removed []string
	for _, w := range p.diff.writes[render.RootNginx] {
		if err := txn.Write(w.path, w.file.Data, w.file.Mode); err != nil {
			failed = fmt.Sprintf("write %s: %v", w.path, err)
			break
		}
		written = append(written, w)
	}
	if failed == "" {
		for _, key := range p.diff.removes[render.RootNginx] {
			path, _ := a.layout.Path(key)
			if err := txn.Remove(path); err != nil {
				failed = fmt.Sprintf("remove %s: %v", path, err)
				break
			}
			removed = append(removed, key)
		}
	}
	// A repair of nginx files asked for a reload (see Repair).
	reload := a.reload.Swap(false)
	if !txn.Changed() && failed == "" && !reload {
		return
	}
	if failed == "" {
		start := time.Now()
		if err := a.nginx.TestAndReload(ctx); err != nil {
			failed = err.Error()
		}
		res.took("nginx", start)
	}
	if failed != "" {
		// drover's previous files back: nginx keeps serving (and a later
		// reload loads) the old configuration.
		if err := txn.Rollback(); err != nil {
			a.log.Error("roll back nginx files", "error", err)
		}
		res.Err = errors.Join(res.Err, errors.New(failed))
		res.changef("nginx change rolled back: %s", firstLine(failed))
		for _, program := range programsOfNginxFiles(p.plan, p.diff.writes[render.RootNginx], p.diff.removes[render.RootNginx], p.installed) {
			p.failed[program] = failed
		}
		return
	}
	for _, w := range written {
		p.change.Put = append(p.change.Put, resourceOf(w.file))
		res.changef("wrote %s", w.key)
	}
	for _, key := range removed {
		p.change.Delete = append(p.change.Delete, key)
		res.changef("removed %s", key)
	}
	res.changef("reloaded nginx")
}

// stepRecord records, in one transaction, the statuses of this node's
// daemons, what is installed now, and a history entry for a pass that did
// something.
func (a *Agent) stepRecord(ctx context.Context, p *pass) {
	res := p.res
	a.recordStatuses(ctx, p.plan, p.touched, p.failed, &p.change, res)
	if res.Err != nil || len(res.Failed) > 0 {
		res.Outcome = OutcomeFailed
	}
	summary := fmt.Sprintf("%d changes", len(res.Changes))
	if res.Err != nil {
		summary += ": " + firstLine(res.Err.Error())
	}
	if len(res.Changes) > 0 || res.Err != nil || len(res.Failed) > 0 {
		p.change.History = &store.HistoryEntry{Revision: p.rev, At: p.change.At, Result: string(res.Outcome), Summary: summary}
	}
	if err := a.record(p.change); err != nil {
		res.Outcome = OutcomeFailed
		res.Err = errors.Join(res.Err, fmt.Errorf("record applied state: %w", err))
	}
}

// keyIn is the daemon key of a program when the plan knows it, else the
// program name.
func keyIn(plan *netplan.NodePlan, program string) string {
	if plan != nil {
		for _, d := range plan.Programs {
			if d.Program == program {
				return d.Key
			}
		}
	}
	return program
}

// programsOfNginxFiles lists this node's proxied programs whose webroot's
// nginx files were part of a failed change, by the files' owners.
func programsOfNginxFiles(plan *netplan.NodePlan, writes []write, removes []string, installed map[string]store.Resource) []string {
	if plan == nil {
		return nil
	}
	var owners []render.Owner
	for _, w := range writes {
		owners = append(owners, w.file.Owner)
	}
	for _, key := range removes {
		owners = append(owners, installed[key].Owner)
	}
	var out []string
	for _, d := range plan.Programs {
		if d.ProxyPath != "" && slices.ContainsFunc(owners, func(o render.Owner) bool { return o.InWebroot(d.Tenant, d.Webroot) }) {
			out = append(out, d.Program)
		}
	}
	return out
}

func resourceOf(f render.File) store.Resource {
	return store.Resource{Key: install.Key(f.Root, f.Path), Owner: f.Owner, Mode: f.Mode, Hash: hashOf(f.Data), Data: f.Data}
}
