package health

import (
	"container/heap"
	"context"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DefaultMaxConcurrent bounds the probes in flight at once: 3,000 daemons
// probed every 10 s are 300 probes a second, each a few milliseconds on
// loopback; a node whose daemons all time out waits for the slots instead
// of opening thousands of connections.
const DefaultMaxConcurrent = 64

// Daemons is the agent's side of the checks: whether a daemon runs, and
// its restart.
type Daemons interface {
	// Running reports daemon key's run; false when it does not run
	// (stopped, starting, failed, a singleton in standby).
	Running(key string) (Run, bool)
	// Restart restarts daemon key because it is unhealthy (reason); false
	// when it refuses (the daemon is gone or does not run).
	Restart(key, reason string) bool
}

// Options configure a Checker.
type Options struct {
	Daemons Daemons
	// Probe probes a target; nil is a Prober's.
	Probe func(context.Context, Target) Result
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// MaxConcurrent bounds the probes in flight; 0 is
	// DefaultMaxConcurrent.
	MaxConcurrent int
	Log           *slog.Logger
}

// Checker probes the daemons it is given (Set) on their schedules, keeps
// their States and restarts the ones that fail; Run runs it.
type Checker struct {
	opts Options
	sem  chan struct{}
	wake chan struct{}

	mu      sync.Mutex
	entries map[string]*entry
	queue   queue
	rnd     *rand.Rand
	// armed is when the loop wakes next (zero: it is not sleeping).
	armed     time.Time
	unhealthy int

	probes     *prometheus.CounterVec
	unhealthyG prometheus.Gauge
	checkedG   prometheus.Gauge
}

// entry is one daemon's check.
type entry struct {
	target Target
	state  State
	next   time.Time
	index  int  // in queue; -1 while a probe is in flight
	gone   bool // removed by Set while its probe was in flight
	held   bool // the last decision was Held (logged once)
}

// NewChecker builds a checker; Run starts it.
func NewChecker(o Options) *Checker {
	if o.Probe == nil {
		p := &Prober{}
		o.Probe = p.Probe
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.MaxConcurrent <= 0 {
		o.MaxConcurrent = DefaultMaxConcurrent
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	c := &Checker{
		opts:    o,
		sem:     make(chan struct{}, o.MaxConcurrent),
		wake:    make(chan struct{}, 1),
		entries: map[string]*entry{},
		rnd:     rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64())),
		probes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_health_probes_total", Help: "Health probes of proxied daemons by result (healthy, status, timeout, refused, error).",
		}, []string{"result"}),
		unhealthyG: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drover_health_unhealthy_daemons", Help: "Daemons whose last health probe failed.",
		}),
		checkedG: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drover_health_checked_daemons", Help: "Daemons on this node with a health check.",
		}),
	}
	for _, k := range ResultKinds {
		c.probes.WithLabelValues(k)
	}
	return c
}

// Collectors are the checker's metrics.
func (c *Checker) Collectors() []prometheus.Collector {
	return []prometheus.Collector{c.probes, c.unhealthyG, c.checkedG}
}

// Set makes targets the daemons checked: new ones are scheduled, gone
// ones forgotten, changed checks take effect from their next probe (the
// state is kept).
func (c *Checker) Set(targets []Target) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.opts.Now()
	keep := make(map[string]bool, len(targets))
	for _, t := range targets {
		keep[t.Key] = true
		if e := c.entries[t.Key]; e != nil {
			e.target = t
			continue
		}
		e := &entry{target: t, next: now, state: State{Status: NotChecked, Since: now}}
		c.entries[t.Key] = e
		heap.Push(&c.queue, e)
	}
	for k, e := range c.entries {
		if keep[k] {
			continue
		}
		if e.index >= 0 {
			heap.Remove(&c.queue, e.index)
		}
		e.gone = true
		c.setStatus(e, NotChecked)
		delete(c.entries, k)
	}
	c.checkedG.Set(float64(len(c.entries)))
	c.poke(now)
}

// State is daemon key's health state and check; false when it has none.
// A daemon that stopped or started again since the loop last looked (a
// restart in the last interval) is shown as it will be found: not
// checked, never with its earlier run's failures.
func (c *Checker) State(key string) (State, Check, bool) {
	run, running := c.opts.Daemons.Running(key)
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[key]
	if e == nil {
		return State{}, Check{}, false
	}
	s := e.state
	switch {
	case !running:
		s = s.Idle(c.opts.Now())
	case s.Run != run:
		s = s.Started(run, run.Since)
	}
	return s, e.target.Check, true
}

// Unhealthy is the number of daemons whose last probe failed.
func (c *Checker) Unhealthy() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unhealthy
}

// Run probes the daemons as they fall due until ctx ends; it returns once
// the probes in flight ended.
func (c *Checker) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		c.mu.Lock()
		now := c.opts.Now()
		var due []*entry
		for len(c.queue) > 0 && !c.queue[0].next.After(now) {
			due = append(due, heap.Pop(&c.queue).(*entry))
		}
		c.armed = time.Time{}
		c.mu.Unlock()
		for _, e := range due {
			if !c.dispatch(ctx, e, &wg) {
				return
			}
		}
		c.mu.Lock()
		wait := time.Hour
		if len(c.queue) > 0 {
			wait = c.queue[0].next.Sub(c.opts.Now())
		}
		c.armed = c.opts.Now().Add(wait)
		c.mu.Unlock()
		timer.Reset(max(wait, 0))
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-c.wake:
			if !timer.Stop() {
				select {
				case <-timer.C:
				default:
				}
			}
		}
	}
}

// dispatch starts the probe of a due entry (out of the queue), or
// schedules it again when no probe counts now; false when ctx ended while
// it waited for a slot.
func (c *Checker) dispatch(ctx context.Context, e *entry, wg *sync.WaitGroup) bool {
	c.mu.Lock()
	key := e.target.Key
	c.mu.Unlock()
	run, running := c.opts.Daemons.Running(key)
	c.mu.Lock()
	now := c.opts.Now()
	chk := e.target.Check
	switch {
	case e.gone:
		c.mu.Unlock()
		return true
	case !running:
		c.setState(e, e.state.Idle(now))
		c.requeue(e, now.Add(chk.Interval))
		c.mu.Unlock()
		return true
	case e.state.Run != run:
		c.setState(e, e.state.Started(run, now))
		c.requeue(e, FirstProbe(chk, run.Since, now, c.rnd))
		c.mu.Unlock()
		return true
	case !e.state.Probing(now):
		c.requeue(e, now.Add(chk.Interval))
		c.mu.Unlock()
		return true
	}
	t, scheduled := e.target, e.next
	c.mu.Unlock()
	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		res := c.opts.Probe(ctx, t)
		<-c.sem
		if ctx.Err() != nil {
			return
		}
		c.finish(e, scheduled, res)
	}()
	return true
}

// finish takes a probe's result: the new state, the next probe, and the
// restart it calls for.
func (c *Checker) finish(e *entry, scheduled time.Time, res Result) {
	c.probes.WithLabelValues(res.Kind).Inc()
	c.mu.Lock()
	if e.gone {
		c.mu.Unlock()
		return
	}
	now := c.opts.Now()
	prev := e.state
	next, dec := prev.Observe(e.target.Check, res, now)
	c.setState(e, next)
	c.requeue(e, NextProbe(e.target.Check, scheduled, now, c.rnd))
	wasHeld := e.held
	e.held = dec == Held
	key := e.target.Key
	c.mu.Unlock()

	log := c.opts.Log.With("daemon", key)
	switch {
	case prev.Status != Unhealthy && next.Status == Unhealthy:
		log.Warn("health check failed", "reason", next.Reason, "failures", next.Failures, "of", e.target.Check.Failures)
	case prev.Status == Unhealthy && next.Status == Healthy:
		log.Info("healthy again")
	}
	switch dec {
	case Restart:
		log.Warn("restarting: unhealthy", "reason", next.Reason, "failures", next.Failures, "next_restart_not_before", next.NextRestart)
		if !c.opts.Daemons.Restart(key, next.Reason) {
			log.Warn("the unhealthy daemon was not restarted")
		}
	case Held:
		if !wasHeld {
			log.Warn("unhealthy; the restart waits for its backoff", "reason", next.Reason, "restart_at", next.NextRestart)
		}
	}
}

// setState changes e's state, keeping the unhealthy count (c.mu held).
func (c *Checker) setState(e *entry, s State) {
	c.setStatus(e, s.Status)
	e.state = s
}

// setStatus counts e's change to status st in the unhealthy gauge (c.mu
// held).
func (c *Checker) setStatus(e *entry, st Status) {
	was, is := e.state.Status == Unhealthy, st == Unhealthy
	if was == is {
		return
	}
	if is {
		c.unhealthy++
	} else {
		c.unhealthy--
	}
	c.unhealthyG.Set(float64(c.unhealthy))
}

// requeue schedules e's next look at at (c.mu held).
func (c *Checker) requeue(e *entry, at time.Time) {
	e.next = at
	heap.Push(&c.queue, e)
	c.poke(at)
}

// poke wakes the loop if it sleeps past at (c.mu held).
func (c *Checker) poke(at time.Time) {
	if c.armed.IsZero() || !at.Before(c.armed) {
		return
	}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// queue is the entries by next look, soonest first.
type queue []*entry

func (q queue) Len() int           { return len(q) }
func (q queue) Less(i, j int) bool { return q[i].next.Before(q[j].next) }
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	*q = old[:len(old)-1]
	e.index = -1
	return e
}
