package reconcile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// Reconcile runs one pass (design.md §6.3). force skips the "head
// unchanged" shortcut: everything is compared again and failed work retried.
//
// The source is asked for its head and the revision fetched before a.mu is
// taken: a hung Git server (each call has its deadline) then holds up only
// the next pass, never the status API, events, retries or repairs.
func (a *Reconciler) Reconcile(ctx context.Context, force bool) *Result {
	a.passMu.Lock()
	defer a.passMu.Unlock()
	start, alloc := a.now(), allocated()
	src := a.ask(ctx, force)
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.inPassFor()()
	defer a.publish()
	a.refreshLive()
	res := a.reconcile(ctx, force, src)
	a.finish(res, start, alloc)
	return res
}

// finish records how a pass that began at start ended, in the node's
// state, the metrics and the log (a.mu held).
func (a *Reconciler) finish(res *Result, start time.Time, alloc uint64) {
	a.state.LastReconcile = start
	a.state.LastResult = res.Outcome
	a.state.LastError = ""
	if res.Err != nil {
		a.state.LastError = res.Err.Error()
	}
	if s := a.state.Suspension; s != nil {
		res.Suspension, res.Head = s, a.state.Head
	}
	a.scheduleNodeRetry(res)
	a.metrics.observeReconcile(res, a.now().Sub(start))
	if res.Outcome != OutcomeUnchanged {
		changes := res.Changes
		if len(changes) > 20 {
			changes = append(changes[:20:20], fmt.Sprintf("... and %d more", len(res.Changes)-20))
		}
		if len(changes) > 0 {
			a.log.Info("changed", "revision", short(res.Revision), "what", strings.Join(changes, "; "))
		}
		for _, key := range slices.Sorted(maps.Keys(res.Failed)) {
			a.log.Warn("daemon not converged", "daemon", key, "reason", res.Failed[key])
		}
		a.updateGauges()
		// A pass over a large node allocates far more than the agent keeps;
		// give it back soon rather than idle at the peak.
		a.freeLaterIfLarge(alloc)
		a.log.Info("reconciled", "revision", short(res.Revision), "outcome", res.Outcome,
			"changes", len(res.Changes), "failed", len(res.Failed), "took", a.now().Sub(start).Round(time.Millisecond),
			phases(res.Took))
	}
}

// sourceAnswer is what the source said at the start of a pass.
type sourceAnswer struct {
	head    string
	headErr error
	// fetched is set when the head was fetched (fr, fetchErr, took).
	fetched  bool
	fr       source.FetchResult
	fetchErr error
	took     time.Duration
}

// ask learns the source's head and fetches it when the pass will need it
// (a new head, a forced pass or a due retry), without a.mu.
func (a *Reconciler) ask(ctx context.Context, force bool) sourceAnswer {
	var ans sourceAnswer
	ans.head, ans.headErr = a.src.Head(ctx)
	if ans.headErr != nil {
		return ans
	}
	a.mu.Lock()
	// A suspended node never fetches: it loads nothing new (suspend.go).
	need := (force || a.retryDue() || a.dirty() || ans.head != a.lastHead) && a.state.Rejected != ans.head &&
		a.state.Suspension == nil
	a.mu.Unlock()
	if need {
		start := time.Now()
		ans.fetched = true
		ans.fr, ans.fetchErr = a.src.Fetch(ctx, ans.head)
		ans.took = time.Since(start)
		a.metrics.fetchSeconds.Observe(ans.took.Seconds())
	}
	return ans
}

// dirty reports whether a repair left supervisord or nginx to be told.
func (a *Reconciler) dirty() bool { return a.reread.Load() || a.reload.Load() }

// reconcile is the pass itself, as ordered steps.
func (a *Reconciler) reconcile(ctx context.Context, force bool, src sourceAnswer) *Result {
	if a.retryDue() {
		// Consume the retry: the pass records new retry times for what
		// still fails; a pass that never gets to apply (source down) must
		// not leave a past retry time that would wake the loop at once.
		force, a.forceNext, a.retryAt = true, false, time.Time{}
	}

	// Step 1: learn the remote head cheaply; stop if nothing is new.
	head, err := src.head, src.headErr
	if err != nil {
		a.state.SourceError = err.Error()
		_ = a.store.SetMeta(store.MetaSourceError, err.Error())
		a.metrics.sourceUp.Set(0)
		unreachable := &UnreachableError{Err: err}
		res := &Result{Revision: a.planRev, Outcome: outcomeOf(unreachable), Err: unreachable}
		if force && a.planRev != "" {
			// Retries of the running revision need no source.
			applied := a.apply(ctx, a.planRev, a.plan, a.running(), applyOpts{})
			res.Changes, res.Failed = applied.Changes, applied.Failed
		}
		return res
	}
	if a.state.SourceError != "" {
		a.log.Info("source reachable again")
		a.state.SourceError = ""
		_ = a.store.SetMeta(store.MetaSourceError, "")
	}
	a.metrics.sourceUp.Set(1)
	if a.state.Suspension != nil {
		return a.holdPass(ctx, force, head)
	}
	a.state.Head = head
	if !force && head == a.lastHead && a.state.Rejected != head && !a.dirty() {
		return &Result{Revision: head, Outcome: OutcomeUnchanged}
	}
	// A rejected head stays rejected (it is never applied, even in part);
	// a due retry re-applies the last good revision meanwhile.
	rejected := a.state.Rejected == head
	if !rejected {
		if rej, ok, _ := a.store.Rejection(head); ok {
			a.state.Rejected, a.state.RejectedDiags = head, rej.Diagnostics
			rejected = true
		}
	}
	if rejected {
		a.lastHead = head
		if force && a.planRev != "" {
			a.apply(ctx, a.planRev, a.plan, a.running(), applyOpts{})
		}
		rej := &RejectedError{Revision: head, Reason: a.state.RejectedDiags}
		return &Result{Revision: head, Outcome: outcomeOf(rej), Err: rej}
	}

	// Step 2: fetch what is new, load and validate the revision.
	var took Result
	plan, desired, err := a.load(ctx, src, &took)
	if rej := (*RejectedError)(nil); errors.As(err, &rej) {
		a.reject(rej)
		return &Result{Revision: head, Outcome: outcomeOf(rej), Err: rej}
	}
	if err != nil {
		a.state.SourceError = err.Error()
		return &Result{Revision: a.planRev, Outcome: outcomeOf(err), Err: err}
	}
	a.state.Rejected, a.state.RejectedDiags = "", ""

	// Steps 3-6: compare, apply the difference, remove what is gone, record.
	res := a.apply(ctx, head, plan, desired, applyOpts{trustStore: !force})
	for phase, d := range took.Took {
		res.Took[phase] = d
	}
	a.lastHead = head
	a.plan, a.planRev = plan, head
	return res
}

// load takes the fetched head (fetching it now if ask did not) and renders
// this node's desired state. Invalid input is a *RejectedError, a failed
// fetch an *UnreachableError.
func (a *Reconciler) load(ctx context.Context, src sourceAnswer, took *Result) (*netplan.NodePlan, desired, error) {
	rev := src.head
	if !src.fetched {
		start := time.Now()
		src.fr, src.fetchErr = a.src.Fetch(ctx, rev)
		src.took = time.Since(start)
	}
	if took.Took == nil {
		took.Took = map[string]time.Duration{}
	}
	took.Took["fetch"] += src.took.Round(time.Millisecond)
	if src.fetchErr != nil {
		return nil, desired{}, &UnreachableError{Err: fmt.Errorf("fetch %s: %w", short(rev), src.fetchErr)}
	}
	if src.fr.Forced {
		a.log.Warn("BRANCH WAS FORCE-PUSHED: the new head does not descend from the previous one; following it",
			"branch", a.cfg.Source.Branch, "previous", short(src.fr.Previous), "head", short(rev))
	}
	if err := a.checkTrust(ctx, rev, took); err != nil {
		return nil, desired{}, err
	}
	// BEGIN poison guard (poison.go): a revision that kills the agent
	// while it is loaded is rejected after restarts, not loaded forever.
	done, err := a.guardLoad(rev)
	if err != nil {
		return nil, desired{}, err
	}
	plan, desired, err := a.render(ctx, rev, took)
	done() // not deferred: a crash must leave the guard armed
	return plan, desired, err
	// END poison guard
}

// render loads rev from the local cache (no network) and renders the node.
func (a *Reconciler) render(ctx context.Context, rev string, took *Result) (*netplan.NodePlan, desired, error) {
	defer a.collectLeanlyIfFirst()()
	start := time.Now()
	blobs, err := a.src.Files(ctx, rev, a.cfg.Source.Path)
	took.took("files", start)
	start = time.Now()
	if err != nil {
		return nil, desired{}, rejectedf(rev, "cannot read its config files: %v", err)
	}
	// The same config files as the last revision loaded: the same plan
	// (reuse.go).
	key, keyed := filesKey(blobs)
	if keyed && a.loaded != nil && a.loaded.key == key {
		took.took("parse", start)
		start = time.Now()
		plan := a.loaded.plan
		if a.loaded.live != a.liveKey { // placed with other decisions of the pool
			var err error
			if plan, err = a.nodePlan(a.placed); err != nil {
				return nil, desired{}, rejectedf(rev, "%v", err)
			}
			a.loaded = &loadedRev{key: key, live: a.liveKey, plan: plan}
		}
		desired := a.desiredOf(plan)
		took.took("plan+render", start)
		return plan, desired, nil
	}
	cfg, files, diags, err := a.specs.Load(blobs)
	if err != nil {
		return nil, desired{}, fmt.Errorf("read config files of %s: %w", short(rev), err)
	}
	if diags.HasErrors() {
		var b bytes.Buffer
		_ = spec.WriteDiagnostics(&b, files, diags, 0, false)
		return nil, desired{}, rejectedf(rev, "it is invalid:\n%s", b.String())
	}
	took.took("parse", start)
	start = time.Now()
	// Tenants the Loader reused keep their placement (ComputeFrom).
	cluster, err := netplan.ComputeFrom(a.placed, cfg)
	if err != nil {
		return nil, desired{}, rejectedf(rev, "%v", err)
	}
	prev := a.placed
	a.setPlaced(cluster)
	plan, err := a.nodePlan(cluster)
	if err != nil {
		a.setPlaced(prev) // not this node's revision: the running one stays
		return nil, desired{}, rejectedf(rev, "%v", err)
	}
	a.loaded = nil
	if keyed {
		a.loaded = &loadedRev{key: key, live: a.liveKey, plan: plan}
	}
	desired := a.desiredOf(plan)
	took.took("plan+render", start)
	return plan, desired, nil
}

// reject records an invalid revision: never applied, reported until the
// branch moves on.
func (a *Reconciler) reject(rej *RejectedError) {
	rev, msg := rej.Revision, rej.Reason
	a.log.Error("revision rejected: the node keeps running the last good revision", "revision", short(rev), "reason", msg)
	a.lastHead = rev
	a.state.Rejected, a.state.RejectedDiags = rev, msg
	now := a.now()
	if err := a.store.Reject(store.Rejection{Revision: rev, At: now, Diagnostics: msg}); err != nil {
		a.log.Error("record rejection", "error", err)
	}
	if err := a.record(store.Change{At: now, History: &store.HistoryEntry{Revision: rev, At: now, Result: string(OutcomeRejected), Summary: firstLine(msg)}}); err != nil {
		a.log.Error("record history", "error", err)
	}
	a.metrics.rejected.Inc()
}

// Restore re-applies the last applied state from the store, before any
// fetch: addresses and nft rules do not survive a reboot, and a Git outage
// must not leave the node bare. It also loads the applied revision's plan
// from the local Git cache when it is there, for status reporting.
func (a *Reconciler) Restore(ctx context.Context) *Result {
	a.passMu.Lock()
	defer a.passMu.Unlock()
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.inPassFor()()
	// Loading the revision decodes the whole repository: give that
	// memory back, as after a large pass (the pass that follows a start
	// reuses what Restore loaded and allocates little).
	defer a.freeLaterIfLarge(allocated())
	defer a.publish()
	a.refreshLive()
	rev, _, err := a.store.Applied()
	if err != nil || rev == "" {
		return &Result{Outcome: OutcomeUnchanged}
	}
	installed, err := a.store.Resources()
	if err != nil {
		return &Result{Revision: rev, Outcome: OutcomeFailed, Err: err}
	}
	a.noteRead(installed)
	desired, err := a.storedDesired(installed)
	if err != nil {
		a.log.Error("re-applying the stored files without the stored network state", "error", err)
	}
	var plan *netplan.NodePlan
	// Guarded like any load (poison.go): a binary that crashes on
	// the applied revision re-applies the stored files without its plan.
	if done, err := a.guardLoad(rev); err == nil {
		p, d, err := a.render(ctx, rev, &Result{})
		done()
		if err == nil && d.same(desired) {
			plan = p
		}
	} else {
		a.log.Error("re-applying the stored files without loading the applied revision", "revision", short(rev), "error", err)
	}
	a.log.Info("re-applying the last applied state from the store", "revision", short(rev), "files", len(desired.files))
	res := a.apply(ctx, rev, plan, desired, applyOpts{})
	a.plan, a.planRev = plan, rev
	return res
}

func short(rev string) string {
	if len(rev) > 12 {
		return rev[:12]
	}
	return rev
}

func firstLine(s string) string {
	if i := bytes.IndexByte([]byte(s), '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// running is the desired state of the running revision, rendered again from
// its plan (not kept in memory: it is tens of megabytes on a large node),
// or the stored state when the plan is not known.
func (a *Reconciler) running() desired {
	if a.plan == nil {
		installed, err := a.store.Resources()
		if err != nil {
			return desired{}
		}
		d, _ := a.storedDesired(installed)
		return d
	}
	return a.desiredOf(a.plan)
}

// phases is the time a pass spent in each phase, as one log group
// (took_in.fetch=12ms …), phases sorted by name.
func phases(took map[string]time.Duration) slog.Attr {
	attrs := make([]any, 0, len(took))
	for _, phase := range slices.Sorted(maps.Keys(took)) {
		attrs = append(attrs, slog.Duration(phase, took[phase]))
	}
	return slog.Group("took_in", attrs...)
}
