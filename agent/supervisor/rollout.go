package supervisor

import (
	"context"
	"sync"
	"time"
)

// Rollout restarts and removes groups in the background, each group on its
// own: a change to every program of a node keeps each one down only for its
// own stop and start, never for the whole pass. Every group goes through
//
//  1. stop: stopProcess without waiting, for each process of the active
//     group: supervisord signals it (stopsignal) and kills it if it still
//     runs after the group's stopwaitsecs. (Group operations are no good
//     here: supervisord defers their answer to its main loop, which turns
//     once a second, and a multicall waits for each deferred call in turn:
//     stopping 8 groups in one multicall took 5 s, 8 processes 1.4 ms.)
//     A process name the active group does not have (its numprocs
//     changed) falls back to stopProcessGroup;
//  2. stopped: every signalled process has left the running states, as
//     observed in one getProcessInfo request for everything in flight;
//  3. replace: removeProcessGroup and, unless the group is being removed,
//     addProcessGroup, which activates the configuration supervisord last
//     loaded and autostarts it; `drover exec` reads the new exec spec;
//  4. started: every process has left STARTING (or the program does not
//     autostart, or StartWait passed).
//
// At most Limit processes are between steps 1 and 4 at once: a node-wide
// change is a rolling restart, not a thundering herd. A group counts for
// its number of processes (a group larger than Limit runs alone), and all
// processes of a group restart together (one configuration, one group in
// supervisord). Steps are issued for all groups that are ready at once,
// one multicall each, and progress is checked when an event arrives (Poke)
// or every Check.
//
// Submit replaces the work to do; Run does it until its context ends.
type Rollout struct {
	api  API
	opts RolloutOptions
	wake chan struct{}

	mu       sync.Mutex
	queue    []*job
	inflight map[string]*job
	weight   int           // processes of the groups in flight
	idle     chan struct{} // closed while there is nothing to do
	peak     int
	done     int
}

// Kind is what a job does to its group.
type Kind int

const (
	// Replace stops the group, removes it and adds it again from the
	// loaded configuration: a changed section, a changed exec spec or a
	// retry.
	Replace Kind = iota + 1
	// Remove stops and removes a group gone from the configuration.
	Remove
)

func (k Kind) String() string {
	if k == Remove {
		return "remove"
	}
	return "replace"
}

// Job is one group's work.
type Job struct {
	Group string
	Kind  Kind
	// Stop are the processes of the active group ("group:name"), as far
	// as the caller knows: those of the configuration last added.
	Stop []string
	// Procs are the group's processes in the loaded configuration,
	// observed after the add.
	Procs []string
	// Autostart is the loaded configuration's autostart: whether the add
	// starts the processes.
	Autostart bool
	// StopWait is the group's stopwaitsecs.
	StopWait time.Duration
	// Fresh says the change behind the job is newer than earlier Submits
	// of the group: a run of it already past its remove runs again.
	Fresh bool
	// Sticky jobs stay queued until done, whatever later Submits say (a
	// changed exec spec); others follow supervisord's differences and
	// are dropped when a later Submit no longer names them.
	Sticky bool
}

// Done is a finished job.
type Done struct {
	Job
	// Err says which step failed; nil when the group was replaced or
	// removed (whether its new processes run is for the status to say).
	Err error
	// Down is how long the group had no process running: from the stop to
	// the start observed (or to the remove).
	Down time.Duration
}

// RolloutOptions tune a Rollout; zero values take the defaults below.
type RolloutOptions struct {
	// Limit bounds the processes being restarted at once.
	Limit int
	// Check is how often in-flight groups are checked without an event.
	Check time.Duration
	// StopGrace is how long after StopWait a process may take to be seen
	// stopped (supervisord kills it at StopWait) before the job fails.
	StopGrace time.Duration
	// StartWait is how long a started process may stay STARTING before
	// the job lets go of it (the status reports it).
	StartWait time.Duration
	// CallTimeout bounds each request to supervisord.
	CallTimeout time.Duration
	// Report receives finished jobs, from Run's goroutine.
	Report func([]Done)
}

// Defaults of RolloutOptions.
const (
	DefaultRestartLimit = 32
	defaultCheck        = 250 * time.Millisecond
	defaultStopGrace    = 15 * time.Second
	defaultStartWait    = 30 * time.Second
	defaultCallTimeout  = 30 * time.Second
)

type phase int

const (
	queued phase = iota
	stopping
	starting
)

type job struct {
	Job
	phase     phase
	signalled []string
	stopAt    time.Time
	startAt   time.Time
	// committed is set before the remove is issued: a Submit after it
	// cannot be picked up by this run, so it runs the group again.
	committed bool
	again     *Job
	// retried is set once a remove found the group still running.
	retried bool
	// awaiting is set while a group stop is on its way (stopGroups).
	awaiting bool
}

func (j *job) weight(limit int) int {
	return min(max(len(j.Procs), len(j.Stop), 1), limit)
}

// NewRollout returns a Rollout over api; call Run to start it.
func NewRollout(api API, o RolloutOptions) *Rollout {
	if o.Limit <= 0 {
		o.Limit = DefaultRestartLimit
	}
	if o.Check <= 0 {
		o.Check = defaultCheck
	}
	if o.StopGrace <= 0 {
		o.StopGrace = defaultStopGrace
	}
	if o.StartWait <= 0 {
		o.StartWait = defaultStartWait
	}
	if o.CallTimeout <= 0 {
		o.CallTimeout = defaultCallTimeout
	}
	if o.Report == nil {
		o.Report = func([]Done) {}
	}
	idle := make(chan struct{})
	close(idle)
	return &Rollout{api: api, opts: o, wake: make(chan struct{}, 1), inflight: map[string]*job{}, idle: idle}
}

// Submit adds work: groups in want not yet queued or running are queued;
// a queued group takes the newer job; a queued group not in want is
// dropped (a later revision took its change back) unless its job is
// Sticky; a group in flight whose remove was already issued runs once more
// after it finishes if the newer job is Fresh (it may have missed the
// change).
func (r *Rollout) Submit(want []Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.submit(want)
}

// Add queues one more job, as Submit would, leaving the queued work as it
// is (an operator's restart between two passes).
func (r *Rollout) Add(j Job) {
	r.mu.Lock()
	defer r.mu.Unlock()
	want := make([]Job, 0, len(r.queue)+1)
	for _, q := range r.queue {
		if q.Group != j.Group {
			want = append(want, q.Job)
		}
	}
	r.submit(append(want, j))
}

// submit is Submit (r.mu held).
func (r *Rollout) submit(want []Job) {
	byGroup := make(map[string]Job, len(want))
	for _, w := range want {
		byGroup[w.Group] = w
	}
	merge := func(old, w Job) Job {
		w.Sticky = w.Sticky || old.Sticky
		return w
	}
	queue := r.queue[:0]
	for _, j := range r.queue {
		w, ok := byGroup[j.Group]
		if ok {
			j.Job = merge(j.Job, w)
			delete(byGroup, j.Group)
		}
		if ok || j.Sticky {
			queue = append(queue, j)
		}
	}
	r.queue = queue
	for _, j := range r.inflight {
		w, ok := byGroup[j.Group]
		if !ok {
			continue
		}
		switch {
		case !j.committed:
			j.Job = merge(j.Job, w)
		case w.Fresh && j.again != nil:
			*j.again = merge(*j.again, w)
		case w.Fresh:
			j.again = &w
		}
		delete(byGroup, j.Group)
	}
	for _, w := range want { // in the caller's order
		if _, ok := byGroup[w.Group]; ok {
			r.queue = append(r.queue, &job{Job: w})
		}
	}
	r.busy()
	r.Poke()
}

// Poke makes Run check the groups in flight now (a process changed state).
func (r *Rollout) Poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Progress reports the groups waiting, the groups in flight and the jobs
// finished since the start, and the most processes ever in flight.
func (r *Rollout) Progress() (queued, inflight, done, peak int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queue), len(r.inflight), r.done, r.peak
}

// Pending returns the groups queued or in flight, in one look: a pass
// asks about every program of the node.
func (r *Rollout) Pending() map[string]bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]bool, len(r.queue)+len(r.inflight))
	for g := range r.inflight {
		out[g] = true
	}
	for _, j := range r.queue {
		out[j.Group] = true
	}
	return out
}

// Wait returns when there is nothing queued or in flight, or ctx ends.
func (r *Rollout) Wait(ctx context.Context) error {
	r.mu.Lock()
	idle := r.idle
	r.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// busy and settle keep idle open while there is work (r.mu held).
func (r *Rollout) busy() {
	if len(r.queue)+len(r.inflight) == 0 {
		return
	}
	select {
	case <-r.idle:
		r.idle = make(chan struct{})
	default:
	}
}

func (r *Rollout) settle() {
	if len(r.queue)+len(r.inflight) > 0 {
		return
	}
	select {
	case <-r.idle:
	default:
		close(r.idle)
	}
}
