package reconcile

import (
	"errors"
	"fmt"
	"time"

	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// An apply pass (apply.go) is a fixed order of steps. Each step reads what
// the pass compares and returns what it did as a value: a stepResult, or a
// type embedding one with what a later step needs (the restarts the exec
// specs made owed, the programs supervisord added). apply hands those
// values on explicitly and merges every result into the pass's report and
// its store change; no step writes into another's results.

// stepResult is what one step did.
type stepResult struct {
	// changes are lines for the pass's report.
	changes []string
	// put and del are what the store records as installed, once the pass
	// records (files written or removed by this step).
	put []store.Resource
	del []string
	// failed maps program names to why the step could not apply them.
	failed map[string]string
	// err is a *FailedError when the step went wrong as a whole.
	err error
	// took is the time spent in the step's dependency (supervisord,
	// nginx, the network), by phase, for the log.
	took map[string]time.Duration
}

func (r *stepResult) changef(format string, args ...any) {
	r.changes = append(r.changes, fmt.Sprintf(format, args...))
}

// fail records that the step went wrong as a whole; the pass fails and is
// retried with backoff.
func (r *stepResult) fail(step string, err error) {
	r.err = errors.Join(r.err, &FailedError{Step: step, Err: err})
}

func (r *stepResult) failProgram(program, reason string) {
	if r.failed == nil {
		r.failed = map[string]string{}
	}
	r.failed[program] = reason
}

func (r *stepResult) timed(phase string, start time.Time) {
	if r.took == nil {
		r.took = map[string]time.Duration{}
	}
	r.took[phase] += time.Since(start).Round(time.Millisecond)
}

// pass is one apply in progress: what it compares, and the report and
// store change the steps' results are merged into.
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
}

// merge adds a step's result to the pass.
func (p *pass) merge(r stepResult) {
	p.res.Changes = append(p.res.Changes, r.changes...)
	p.change.Put = append(p.change.Put, r.put...)
	p.change.Delete = append(p.change.Delete, r.del...)
	for program, reason := range r.failed {
		p.failed[program] = reason
	}
	p.res.Err = errors.Join(p.res.Err, r.err)
	for phase, d := range r.took {
		if p.res.Took == nil {
			p.res.Took = map[string]time.Duration{}
		}
		p.res.Took[phase] += d
	}
}
