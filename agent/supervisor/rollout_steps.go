package supervisor

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// The steps of a Rollout (see its documentation): Run's loop, and each
// step issued for every group ready for it at once.

// Run does the submitted work until ctx ends.
func (r *Rollout) Run(ctx context.Context) {
	timer := time.NewTimer(r.opts.Check)
	defer timer.Stop()
	for {
		r.launch(ctx)
		r.mu.Lock()
		r.settle()
		n := len(r.inflight)
		r.mu.Unlock()
		var tick <-chan time.Time
		if n > 0 {
			timer.Reset(r.opts.Check)
			tick = timer.C
		}
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-tick:
		}
		r.advance(ctx)
	}
}

// launch stops as many queued groups as the limit allows, all their
// processes in one request.
func (r *Rollout) launch(ctx context.Context) {
	r.mu.Lock()
	var batch []*job
	for len(r.queue) > 0 {
		j := r.queue[0]
		w := j.weight(r.opts.Limit)
		if r.weight+w > r.opts.Limit {
			break
		}
		r.queue = r.queue[1:]
		j.phase, j.stopAt, j.signalled = stopping, time.Now(), nil
		r.inflight[j.Group] = j
		r.weight += w
		batch = append(batch, j)
	}
	r.peak = max(r.peak, r.weight)
	r.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	var names []string
	for _, j := range batch {
		names = append(names, j.Stop...)
	}
	cctx, cancel := context.WithTimeout(ctx, r.opts.CallTimeout)
	errs := r.api.StopProcesses(cctx, names)
	cancel()
	var fallback []*job
	var done []Done
	r.mu.Lock()
	i := 0
	for _, j := range batch {
		var failed error
		group := false
		for _, name := range j.Stop {
			err := errs[i]
			i++
			switch {
			case err == nil:
				j.signalled = append(j.signalled, name)
			case IsFault(err, FaultNotRunning):
			case IsFault(err, FaultBadName):
				group = true
			default:
				failed = errors.Join(failed, err)
			}
		}
		switch {
		case failed != nil:
			done = append(done, r.finish(j, fmt.Errorf("stop: %w", failed)))
		case group:
			fallback = append(fallback, j)
		}
	}
	r.mu.Unlock()
	r.stopGroups(ctx, fallback)
	r.report(done)
}

// stopGroups stops whole groups (their processes are not the ones the job
// named) in the background: supervisord answers group operations only
// from its main loop, seconds later, and no other group waits for that.
// The jobs are not checked until the answer names what was signalled.
func (r *Rollout) stopGroups(ctx context.Context, jobs []*job) {
	if len(jobs) == 0 {
		return
	}
	groups := make([]string, len(jobs))
	r.mu.Lock()
	for i, j := range jobs {
		groups[i] = j.Group
		j.awaiting = true
	}
	r.mu.Unlock()
	go func() {
		cctx, cancel := context.WithTimeout(ctx, r.opts.CallTimeout)
		procs, errs := r.api.StopNoWait(cctx, groups)
		cancel()
		var done []Done
		r.mu.Lock()
		for i, j := range jobs {
			j.awaiting = false
			switch {
			case errs[i] == nil:
				j.signalled = append(j.signalled, procs[i]...)
			case IsFault(errs[i], FaultBadName): // not active: nothing to stop
			default:
				done = append(done, r.finish(j, fmt.Errorf("stop: %w", errs[i])))
			}
		}
		r.mu.Unlock()
		r.report(done)
		r.Poke()
	}()
}

// advance checks every group in flight in one request and moves each one
// on: stopped groups are replaced or removed (one request per step for all
// of them), started ones are done.
func (r *Rollout) advance(ctx context.Context) {
	r.mu.Lock()
	jobs := make([]*job, 0, len(r.inflight))
	var names []string
	for _, j := range r.inflight {
		if j.awaiting {
			continue
		}
		jobs = append(jobs, j)
		if j.phase == stopping {
			names = append(names, j.signalled...)
		} else {
			names = append(names, j.Procs...)
		}
	}
	r.mu.Unlock()
	if len(jobs) == 0 {
		return
	}
	state := map[string]string{}
	if len(names) > 0 {
		cctx, cancel := context.WithTimeout(ctx, r.opts.CallTimeout)
		infos, errs := r.api.ProcessInfos(cctx, names)
		cancel()
		for i, n := range names {
			switch {
			case errs[i] == nil:
				state[n] = infos[i].State
			case IsFault(errs[i], FaultBadName):
				state[n] = "GONE"
			default:
				state[n] = "UNKNOWN"
			}
		}
	}
	now := time.Now()
	var done []Done
	var stopped []*job
	r.mu.Lock()
	for _, j := range jobs {
		switch j.phase {
		case stopping:
			if allStates(j.signalled, state, func(s string) bool { return !running(s) && s != "STOPPING" && s != "UNKNOWN" }) {
				j.committed = true
				stopped = append(stopped, j)
			} else if now.Sub(j.stopAt) > j.StopWait+r.opts.StopGrace {
				done = append(done, r.finish(j, fmt.Errorf("stop: still running %s after the stop signal (stopwaitsecs %s)",
					now.Sub(j.stopAt).Round(time.Second), j.StopWait)))
			}
		case starting:
			if allStates(j.Procs, state, func(s string) bool { return s != "STOPPED" && s != "STARTING" && s != "UNKNOWN" }) ||
				now.Sub(j.startAt) > r.opts.StartWait {
				done = append(done, r.finish(j, nil))
			}
		}
	}
	r.mu.Unlock()
	done = append(done, r.replace(ctx, stopped)...)
	r.report(done)
}

func (r *Rollout) report(done []Done) {
	if len(done) > 0 {
		r.opts.Report(done)
	}
}

// replace removes the stopped groups and adds back those being replaced,
// each add in the request of its remove (API.Replace).
func (r *Rollout) replace(ctx context.Context, jobs []*job) []Done {
	if len(jobs) == 0 {
		return nil
	}
	var removes, replaces []string
	for _, j := range jobs {
		if j.Kind == Remove {
			removes = append(removes, j.Group)
		} else {
			replaces = append(replaces, j.Group)
		}
	}
	cctx, cancel := context.WithTimeout(ctx, r.opts.CallTimeout)
	removed := r.api.Batch(cctx, OpRemove, removes)
	cancel()
	cctx, cancel = context.WithTimeout(ctx, r.opts.CallTimeout)
	replacedRemove, replacedAdd := r.api.Replace(cctx, replaces)
	cancel()
	now := time.Now()
	var done []Done
	var busy []*job
	r.mu.Lock()
	for _, j := range jobs {
		var removeErr, addErr error
		if j.Kind == Remove {
			removeErr, removed = removed[0], removed[1:]
		} else {
			removeErr, addErr = replacedRemove[0], replacedAdd[0]
			replacedRemove, replacedAdd = replacedRemove[1:], replacedAdd[1:]
		}
		switch {
		case IsFault(removeErr, FaultStillRunning) && !j.retried:
			// A process the job did not name (numprocs changed).
			j.retried, j.committed = true, false
			busy = append(busy, j)
		case removeErr != nil && !IsFault(removeErr, FaultBadName):
			done = append(done, r.finish(j, fmt.Errorf("remove: %w", removeErr)))
		case j.Kind == Remove:
			done = append(done, r.finish(j, nil))
		case addErr != nil && IsFault(addErr, FaultBadName):
			// A later revision removed it from the configuration: gone.
			done = append(done, r.finish(j, nil))
		case addErr != nil && !IsFault(addErr, FaultAlreadyAdded):
			done = append(done, r.finish(j, fmt.Errorf("add: %w", addErr)))
		case !j.Autostart || len(j.Procs) == 0:
			done = append(done, r.finish(j, nil))
		default:
			j.phase, j.startAt = starting, now
		}
	}
	r.mu.Unlock()
	r.stopGroups(ctx, busy)
	return done
}

// finish takes j out of flight, queues it again if a Submit asked for
// that, and reports it (r.mu held).
func (r *Rollout) finish(j *job, err error) Done {
	delete(r.inflight, j.Group)
	r.weight -= j.weight(r.opts.Limit)
	r.done++
	if j.again != nil {
		r.queue = append(r.queue, &job{Job: *j.again})
	}
	return Done{Job: j.Job, Err: err, Down: time.Since(j.stopAt)}
}

// allStates reports whether ok holds for the state of every process.
func allStates(names []string, state map[string]string, ok func(string) bool) bool {
	for _, n := range names {
		if s := state[n]; s != "GONE" && !ok(s) {
			return false
		}
	}
	return true
}
