package supervisor

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

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
	u := &updater{ctx: ctx, api: api}
	touched := map[string]bool{}
	for _, g := range sortedSet(removed) {
		touched[g] = true
		u.run(&u.res.Removed, g, stopStep, removeStep)
	}
	for _, g := range sortedSet(changed) {
		touched[g] = true
		u.run(&u.res.Changed, g, stopStep, removeStep, addStep)
	}
	for _, g := range sortedSet(added) {
		touched[g] = true
		u.run(&u.res.Added, g, addStep)
	}
	for _, g := range sortedSet(restart) {
		if !touched[g] {
			u.run(&u.res.Restarted, g, stopStep, startStep)
		}
	}
	return u.res, errors.Join(u.errs...)
}

// Stop stops a group's processes and waits until they are stopped; used for
// disabled daemons. A group with nothing running is not an error.
func Stop(ctx context.Context, api API, group string) error {
	if err := stopStep.do(ctx, api, group); err != nil {
		return fmt.Errorf("stop supervisord group %s: %w", group, err)
	}
	return nil
}

// step is one supervisord call Update makes for a group.
type step struct {
	name string
	do   func(ctx context.Context, api API, group string) error
}

var (
	// stopStep stops the group's running processes and waits for them.
	stopStep = step{"stop", func(ctx context.Context, api API, g string) error {
		err := api.StopProcessGroup(ctx, g, true)
		if onlyFaults(err, FaultNotRunning) {
			return nil
		}
		return err
	}}
	// removeStep removes the (stopped) group from the active configuration.
	removeStep = step{"remove", func(ctx context.Context, api API, g string) error {
		return api.RemoveProcessGroup(ctx, g)
	}}
	// addStep activates the group from the loaded configuration.
	addStep = step{"add", func(ctx context.Context, api API, g string) error {
		err := api.AddProcessGroup(ctx, g)
		if onlyFaults(err, FaultAlreadyAdded) {
			return nil
		}
		return err
	}}
	// startStep starts the group's processes without waiting for RUNNING.
	startStep = step{"start", func(ctx context.Context, api API, g string) error {
		return api.StartProcessGroup(ctx, g, false)
	}}
)

type updater struct {
	ctx  context.Context
	api  API
	res  Result
	errs []error
}

// run runs a group's steps in order, stopping at the first failure, and
// records the group in done or in Failed.
func (u *updater) run(done *[]string, group string, steps ...step) {
	for _, s := range steps {
		if err := s.do(u.ctx, u.api, group); err != nil {
			err = fmt.Errorf("supervisord group %s: %s: %w", group, s.name, err)
			if u.res.Failed == nil {
				u.res.Failed = map[string]error{}
			}
			u.res.Failed[group] = err
			u.errs = append(u.errs, err)
			return
		}
	}
	*done = append(*done, group)
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
