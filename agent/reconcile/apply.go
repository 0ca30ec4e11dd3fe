package reconcile

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/netstate"
	"github.com/drover-sh/drover/render"
)

// applyOpts adjust an apply pass.
type applyOpts struct {
	// trustStore skips reading files the store says are installed as
	// desired (see diffFiles).
	trustStore bool
}

// apply installs desired (design.md §6.4) as ordered steps, each
// changing one part of the node and returning what it did (pass.go). plan
// may be nil (restoring from the store without the revision in the Git
// cache): statuses are then left as they are.
func (a *Reconciler) apply(ctx context.Context, rev string, plan *netplan.NodePlan, desired desired, o applyOpts) *Result {
	res := &Result{Revision: rev, Outcome: OutcomeApplied, Failed: map[string]string{}}
	defer res.took("apply", time.Now())
	installed, err := a.installedResources()
	if err != nil {
		res.Outcome, res.Err = OutcomeFailed, &FailedError{Step: "store", Err: fmt.Errorf("read: %w", err)}
		return res
	}
	if a.adoptOrphans {
		a.adoptOrphans = false
		installed = maps.Clone(installed)
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

	// The refused tenants leave the plan first, so no step touches their
	// programs: supervisord has none of them, and a retry must not
	// restart (and fail) what was never installed (tenants.go).
	adm := a.admitTenants(plan)
	p.plan = adm.plan
	network := a.stepNetwork(ctx, p)
	p.merge(network.stepResult)
	p.change.Network = network.record
	execs := a.stepExecSpecs(p)
	p.merge(execs.stepResult)
	nginxFiles := a.writeNginxFiles(p)
	sup := a.stepSupervisor(ctx, p, execs.owed)
	p.merge(sup.stepResult)
	p.merge(a.stepRemoveExecSpecs(p))
	p.merge(a.stepNginx(ctx, p, nginxFiles))
	// Statuses are recorded for the whole plan, the refused tenants'
	// daemons failed with the reason.
	p.plan = plan
	p.merge(adm.stepResult)
	a.stepRecord(ctx, p, sup.added)
	if plan != nil {
		a.gateSingletons(ctx, adm.plan)
	}
	return res
}

// networkResult is what stepNetwork did, and the state to record (nil:
// none, or the store has it already).
type networkResult struct {
	stepResult
	record *netstate.State
}

// stepNetwork converges addresses, routes and nftables first: daemons bind
// to their tenant address. A state that failed is not recorded, so the next
// pass (or the retry) applies it again.
func (a *Reconciler) stepNetwork(ctx context.Context, p *pass) networkResult {
	var r networkResult
	if s := p.desired.network; s != nil {
		r.stepResult = a.applyNetwork(ctx, p.plan, *s)
		if r.err == nil {
			r.record = a.networkToRecord(*s)
		}
	}
	return r
}

// execResult is what stepExecSpecs did, and the programs owed a restart
// because their spec was rewritten.
type execResult struct {
	stepResult
	owed []string
}

// stepExecSpecs writes changed exec specs before supervisord sees their
// programs (it may start one as soon as it is added). A program whose spec
// changed must be restarted to read it, even if its section did not
// change: it is recorded as owed before the spec is written (see owe).
func (a *Reconciler) stepExecSpecs(p *pass) execResult {
	var r execResult
	for _, w := range p.diff.writes[render.RootExec] {
		if w.existed {
			r.owed = append(r.owed, w.file.Owner.Program)
		}
	}
	a.owe(r.owed)
	writes := p.diff.writes[render.RootExec]
	files := make([]install.Write, 0, len(writes))
	revealed := make([]error, len(writes))
	for i, w := range writes {
		// The file on disk holds the encrypted values opened; the
		// store keeps them encrypted (secrets.go).
		data, err := a.secrets.reveal(w.file)
		revealed[i] = err
		if err == nil {
			files = append(files, install.Write{Path: w.path, Data: data, Mode: w.file.Mode})
		}
	}
	written := install.WriteFiles(a.fs, files) // all at once: a first converge writes thousands
	errs := make([]error, len(writes))
	for i, j := 0, 0; i < len(writes); i++ {
		if errs[i] = revealed[i]; errs[i] == nil {
			forget(writes[i].file, files[j].Data)
			errs[i] = written[j]
			j++
		}
	}
	for i, w := range writes {
		program := w.file.Owner.Program
		if err := errs[i]; err != nil {
			r.failProgram(program, fmt.Sprintf("write exec spec: %v", err))
			continue
		}
		r.put = append(r.put, resourceOf(w.file))
		r.changef("wrote exec spec of %s", program)
	}
	return r
}

// supervisorResult is what stepSupervisor did, and the programs
// supervisord added (their statuses are observed when the pass records).
type supervisorResult struct {
	stepResult
	added []string
}

// stepSupervisor writes program files and removes drover's stale ones,
// lets supervisord reread them once, and adds new programs at once
// (nothing of theirs is down). Every other difference — changed and
// removed programs, owed restarts, retries that are due — goes to the
// rollout, which restarts each program on its own in the background.
func (a *Reconciler) stepSupervisor(ctx context.Context, p *pass, owed []string) (r supervisorResult) {
	changed := false
	writes := p.diff.writes[render.RootSupervisor]
	files := make([]install.Write, len(writes))
	for i, w := range writes {
		files[i] = install.Write{Path: w.path, Data: w.file.Data, Mode: w.file.Mode}
	}
	// All at once, as the exec specs: the directory is synced once, not
	// once for each of the 16 bucket files a first converge writes.
	for i, err := range install.WriteFiles(a.fs, files) {
		w := writes[i]
		if err != nil {
			r.fail("supervisord", fmt.Errorf("write %s: %w", w.path, err))
			continue
		}
		changed = true
		r.put = append(r.put, resourceOf(w.file))
		r.changef("wrote %s", w.key)
	}
	for _, key := range p.diff.removes[render.RootSupervisor] {
		path, _ := a.layout.Path(key)
		if err := a.fs.Remove(path); err != nil {
			r.fail("supervisord", fmt.Errorf("remove %s: %w", path, err))
			continue
		}
		changed = true
		r.del = append(r.del, key)
		r.changef("removed %s", key)
	}
	// The programs owed a restart: those whose spec this pass wrote, and
	// at start every one the store says is owed (a restart in flight when
	// the agent stopped).
	restart := owed
	reread := a.reread.Load()
	if !a.owedSubmitted {
		restart = slices.Sorted(maps.Keys(a.pendingRestarts()))
	}
	retry := a.dueRestarts(ctx, p.plan)
	if !changed && len(restart) == 0 && len(retry) == 0 && !reread {
		return r
	}
	defer r.timed("supervisord", time.Now())
	added, changedGroups, removed, err := a.sup.ReloadConfig(ctx)
	if err != nil {
		r.fail("supervisord", fmt.Errorf("reload configuration: %w", err))
		// Nothing reached supervisord: the next pass rereads, and hands
		// the owed restarts over again.
		a.reread.Store(true)
		a.owedSubmitted = false
		return r
	}
	a.reread.Store(false)
	a.owedSubmitted = true
	slices.Sort(added)
	for i, err := range a.sup.Batch(ctx, supervisor.OpAdd, added) {
		var fault *supervisor.Fault
		switch {
		case err == nil || supervisor.IsFault(err, supervisor.FaultAlreadyAdded):
		case !errors.As(err, &fault):
			// No answer: supervisord answers an add once the group's
			// processes are spawned, which with thousands of them on a
			// busy machine can outlast the call's deadline. The add may
			// well have happened: the observation says what supervisord
			// has, rather than a failure that may not be one.
			a.log.Warn("no answer to adding a program; its status is observed", "program", added[i], "error", err)
		default:
			r.failProgram(added[i], fmt.Sprintf("supervisord: add program %s: %v", added[i], err))
			continue
		}
		r.changef("added program %s", added[i])
		r.added = append(r.added, added[i])
	}
	if n := a.submitRollout(a.plan, p.plan, changedGroups, removed, restart, retry); n > 0 {
		r.changef("queued %s to restart or remove", english.Count(n, "program"))
	}
	return r
}

// stepRemoveExecSpecs removes the exec specs of removed programs, after
// supervisord dropped them.
func (a *Reconciler) stepRemoveExecSpecs(p *pass) stepResult {
	var r stepResult
	for _, key := range p.diff.removes[render.RootExec] {
		path, _ := a.layout.Path(key)
		if err := a.fs.Remove(path); err != nil {
			r.fail("exec specs", fmt.Errorf("remove %s: %w", path, err))
			continue
		}
		r.del = append(r.del, key)
	}
	return r
}

// stepRecord records, in one transaction, the statuses of this node's
// daemons (observing those supervisord added or that were not running),
// what is installed now, and a history entry for a pass that did
// something. It is the last step: it reads the merged results.
func (a *Reconciler) stepRecord(ctx context.Context, p *pass, added []string) {
	res := p.res
	// Processes whose start is due are started first, so the statuses
	// below observe them; those found ended now are started (or timed)
	// once recorded.
	a.startDue(ctx, p.plan, false)
	a.recordStatuses(ctx, p.plan, added, p.failed, &p.change, res)
	if res.Err != nil || len(res.Failed) > 0 {
		res.Outcome = OutcomeFailed
	}
	summary := english.Count(len(res.Changes), "change")
	if res.Err != nil {
		summary += ": " + firstLine(res.Err.Error())
	}
	if len(res.Changes) > 0 || res.Err != nil || len(res.Failed) > 0 {
		p.change.History = &store.HistoryEntry{Revision: p.rev, At: p.change.At, Result: string(res.Outcome), Summary: summary}
	}
	if err := a.record(p.change); err != nil {
		res.Outcome = OutcomeFailed
		res.Err = errors.Join(res.Err, &FailedError{Step: "store", Err: fmt.Errorf("record applied state: %w", err)})
	}
	if started := a.startDue(ctx, p.plan, a.settle > 0); a.settle > 0 && len(started) > 0 {
		a.settleStarts(ctx, started, res)
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

func resourceOf(f render.File) store.Resource {
	return store.Resource{Key: install.Key(f.Root, f.Path), Owner: f.Owner, Mode: f.Mode, Hash: hashOf(f.Data), Data: f.Data}
}
