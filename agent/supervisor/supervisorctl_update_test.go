package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// Update, Stop and Result are `supervisorctl update` and `supervisorctl
// stop` made of API calls. The agent restarts through Rollout; the tests use
// these to drive the Fake and the real supervisord alike and compare them.

// Result is what Update did. A group appears in Added, Changed, Removed or
// Restarted only if every step for it succeeded; a group whose step failed
// appears in Failed instead, with the error naming the step. The lists are
// sorted.
type Result struct {
	Added     []string // groups new in the configuration, now active
	Changed   []string // groups whose configuration changed, stopped and re-added
	Removed   []string // groups gone from the configuration, stopped and removed
	Restarted []string // groups of the restart argument, stopped and started
	Failed    map[string]error
}

// Update applies the configuration files to supervisord group by group, the
// way `supervisorctl update` does, and never restarts anything else:
//
//  1. ReloadConfig, which reports the added, changed and removed groups;
//  2. each removed group is stopped (waiting) and removed;
//  3. each changed group is stopped (waiting), removed and added again;
//  4. each added group is added; supervisord starts it if its autostart is
//     set (asynchronously: poll ProcessInfo for RUNNING, FATAL or BACKOFF);
//  5. each group in restart that steps 2–4 did not touch is stopped
//     (waiting) and started (not waiting).
//
// restart names groups whose section text did not change but whose inputs
// did (the exec spec file, say). Update restarts them unconditionally, so the
// caller must pass only enabled groups; a disabled one would be started.
//
// A failing group does not stop the others: Update goes through every group
// and returns the errors joined, each naming its group, and Result.Failed so
// the caller can mark daemons failed one by one. Only a failed ReloadConfig
// (which changes nothing) ends it early. Faults that mean "already done"
// (NOT_RUNNING on stop, ALREADY_ADDED on add) are not errors. A restarted
// program that dies at once may or may not fail its start with SPAWN_ERROR,
// depending on whether supervisord reaped it before answering; either way
// ProcessInfo soon reports it FATAL or BACKOFF.
func Update(ctx context.Context, api API, restart []string) (Result, error) {
	added, changed, removed, err := api.ReloadConfig(ctx)
	if err != nil {
		return Result{}, fmt.Errorf("reload supervisord configuration: %w", err)
	}
	removed, changed, added = sortedSet(removed), sortedSet(changed), sortedSet(added)
	touched := map[string]bool{}
	for _, g := range slices.Concat(removed, changed, added) {
		touched[g] = true
	}
	var again []string
	for _, g := range sortedSet(restart) {
		if !touched[g] {
			again = append(again, g)
		}
	}
	// Each step runs as one batch over every group that needs it (see
	// API.Batch); a group that fails a step skips its later ones.
	u := &updater{ctx: ctx, api: api}
	stopped := u.step(stopStep, slices.Concat(removed, changed, again))
	gone := u.step(removeStep, keep(slices.Concat(removed, changed), stopped))
	active := u.step(addStep, slices.Concat(keep(changed, gone), added))
	started := u.step(startStep, keep(again, stopped))
	u.res.Removed = keep(removed, gone)
	u.res.Changed = keep(changed, active)
	u.res.Added = keep(added, active)
	u.res.Restarted = keep(again, started)
	return u.res, errors.Join(u.errs...)
}

// Stop stops a group's processes and waits until they are stopped; used for
// disabled daemons. A group with nothing running is not an error.
func Stop(ctx context.Context, api API, group string) error {
	if err := stopStep.check(api.StopProcessGroup(ctx, group, true)); err != nil {
		return fmt.Errorf("stop supervisord group %s: %w", group, err)
	}
	return nil
}

// step is one supervisord operation Update applies to groups.
type step struct {
	name string
	op   Op
	// done is the fault meaning "already done" (0: none).
	done int
}

var (
	// stopStep stops the group's running processes and waits for them.
	stopStep = step{"stop", OpStop, FaultNotRunning}
	// removeStep removes the (stopped) group from the active configuration.
	removeStep = step{"remove", OpRemove, 0}
	// addStep activates the group from the loaded configuration.
	addStep = step{"add", OpAdd, FaultAlreadyAdded}
	// startStep starts the group's processes without waiting for RUNNING.
	startStep = step{"start", OpStart, 0}
)

// check turns "already done" faults into success.
func (s step) check(err error) error {
	if s.done != 0 && onlyFaults(err, s.done) {
		return nil
	}
	return err
}

type updater struct {
	ctx  context.Context
	api  API
	res  Result
	errs []error
}

// step runs s on groups in one batch and returns the groups it succeeded
// for; failures are recorded in Failed.
func (u *updater) step(s step, groups []string) map[string]bool {
	ok := map[string]bool{}
	if len(groups) == 0 {
		return ok
	}
	for i, err := range u.api.Batch(u.ctx, s.op, groups) {
		g := groups[i]
		if err = s.check(err); err != nil {
			err = fmt.Errorf("supervisord group %s: %s: %w", g, s.name, err)
			if u.res.Failed == nil {
				u.res.Failed = map[string]error{}
			}
			u.res.Failed[g] = err
			u.errs = append(u.errs, err)
			continue
		}
		ok[g] = true
	}
	return ok
}

// keep returns the groups in set, in order.
func keep(groups []string, set map[string]bool) []string {
	var out []string
	for _, g := range groups {
		if set[g] {
			out = append(out, g)
		}
	}
	return out
}

// onlyFaults reports whether err is non-nil and consists only of faults with
// the given code (group operations join one fault per process).
func onlyFaults(err error, code int) bool {
	if err == nil {
		return false
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		for _, e := range j.Unwrap() {
			if !onlyFaults(e, code) {
				return false
			}
		}
		return true
	}
	var f *Fault
	return errors.As(err, &f) && f.Code == code
}

func sortedSet(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}
