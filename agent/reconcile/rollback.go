package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// errNothingApplied refuses a hold on a node that never applied anything.
var errNothingApplied = errors.New("nothing has been applied on this node yet: there is no revision to stay at")

// minRevPrefix is the shortest prefix of a hash drover rollback takes, as
// git does.
const minRevPrefix = 4

// Rollback applies rev, a revision this node applied before ("" for the
// one before the current, see rollbackTarget), from the Git cache with no
// fetch, and holds the node there (suspend.go) so that the next poll does
// not undo it. An error wrapping localapi.ErrRefused changed nothing: rev
// was never applied here, is not in the cache, or is invalid under this
// binary.
func (a *Reconciler) Rollback(ctx context.Context, rev, reason string) (*Result, error) {
	a.passMu.Lock()
	defer a.passMu.Unlock()
	start, alloc := a.now(), allocated()
	a.mu.Lock()
	defer a.mu.Unlock()
	defer a.publish()
	a.refreshLive()
	target, err := a.rollbackTarget(rev)
	if err != nil {
		return nil, err
	}
	plan, desired, err := a.loadCached(ctx, target)
	if err != nil {
		return nil, refusal{fmt.Errorf("cannot roll back to %s: %w", short(target), err)}
	}
	// Held before anything is applied: an agent stopped from here on
	// comes back held at target, and goes there (holdPass).
	s := &store.Suspension{Revision: target, Since: a.now(), Reason: reason, From: a.planRev}
	if err := a.hold(s); err != nil {
		return nil, err
	}
	a.log.Warn("rolling back; the node is suspended there until drover resume", "revision", short(target),
		"from", short(s.From), "reason", reason)
	res := a.apply(ctx, target, plan, desired, applyOpts{})
	a.plan, a.planRev = plan, target
	a.finish(res, start, alloc)
	return res, nil
}

// rollbackTarget is the revision drover rollback goes to (a.mu held): rev
// if it names, in full or by a prefix of at least minRevPrefix digits, a
// revision this node applied (its store's history says which: the
// revisions of passes that applied or failed); for "", the revision the
// node applied before it first applied the current one, so that a second
// rollback goes further back, not forward to what the first one left.
func (a *Reconciler) rollbackTarget(rev string) (string, error) {
	hist, err := a.store.History(0)
	if err != nil {
		return "", err
	}
	var applied []string // newest first
	for _, h := range hist {
		if h.Result == store.ResultApplied || h.Result == store.ResultFailed {
			applied = append(applied, h.Revision)
		}
	}
	cur := a.planRev
	if cur == "" {
		return "", refusal{errNothingApplied}
	}
	if rev == "" {
		first := -1
		for i, r := range applied {
			if r == cur {
				first = i
			}
		}
		for _, r := range applied[first+1:] {
			if r != cur {
				return r, nil
			}
		}
		return "", refusal{fmt.Errorf("the history this node keeps holds no revision applied before %s; name one: drover rollback REV", short(cur))}
	}
	var found []string
	for _, r := range applied {
		if (r == rev || len(rev) >= minRevPrefix && strings.HasPrefix(r, rev)) && !slices.Contains(found, r) {
			found = append(found, r)
		}
	}
	switch {
	case len(found) > 1:
		return "", refusal{fmt.Errorf("%q names more than one revision this node applied (%s); give more of the hash", rev, strings.Join(found, ", "))}
	case len(found) == 0:
		if rej, ok, _ := a.store.Rejection(rev); ok {
			return "", refusal{fmt.Errorf("revision %s was rejected on this node, never applied: %s", short(rev), firstLine(rej.Diagnostics))}
		}
		return "", refusal{fmt.Errorf("revision %q is not one this node applied (the history in drover status --json lists the recent ones; a prefix needs %d digits at least)", rev, minRevPrefix)}
	case found[0] == cur:
		return "", refusal{fmt.Errorf("the node runs %s already; drover suspend keeps it there", short(cur))}
	}
	return found[0], nil
}

// loadCached loads rev, a revision this node applied before, from the
// Git cache with no fetch, guarded like any load (poison.go); rev is not
// recorded as rejected when it fails.
func (a *Reconciler) loadCached(ctx context.Context, rev string) (*netplan.NodePlan, desired, error) {
	if _, err := a.src.Files(ctx, rev, a.cfg.Source.Path); err != nil {
		return nil, desired{}, fmt.Errorf("revision %s is not in this node's Git cache: %w", short(rev), err)
	}
	done, err := a.guardLoad(rev)
	if err != nil {
		return nil, desired{}, err
	}
	plan, d, err := a.render(ctx, rev, &Result{})
	done()
	if rej := (*RejectedError)(nil); errors.As(err, &rej) {
		return nil, desired{}, fmt.Errorf("this drover cannot load revision %s: %s", short(rev), rej.Reason)
	}
	return plan, d, err
}
