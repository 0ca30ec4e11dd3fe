package reconcile

import (
	"fmt"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/store"
)

// Result is the report of one reconcile pass.
type Result struct {
	Revision string
	Outcome  Outcome
	// Changes says what the pass changed on the node, one line each.
	Changes []string
	// Failed maps daemon keys to why they failed.
	Failed map[string]string
	Err    error
	// Took says how long the pass spent in each phase (load, apply,
	// supervisord, nginx), for the log.
	Took map[string]time.Duration
	// Suspension is the hold the pass honoured (Revision is then its
	// revision), Head the branch head it saw; nil when not suspended.
	Suspension *store.Suspension
	Head       string
}

// took records the time spent in a phase since start.
func (r *Result) took(phase string, start time.Time) {
	if r.Took == nil {
		r.Took = map[string]time.Duration{}
	}
	r.Took[phase] += time.Since(start).Round(time.Millisecond)
}

func (r *Result) changef(format string, args ...any) {
	r.Changes = append(r.Changes, fmt.Sprintf(format, args...))
}

// Outcome is how a reconcile pass ended; the values are the API's.
type Outcome = localapi.Outcome

// The outcomes of a pass (see localapi.Outcome).
const (
	OutcomeUnchanged   = localapi.OutcomeUnchanged
	OutcomeApplied     = localapi.OutcomeApplied
	OutcomeRejected    = localapi.OutcomeRejected
	OutcomeFailed      = localapi.OutcomeFailed
	OutcomeUnreachable = localapi.OutcomeUnreachable
	OutcomeUninstalled = localapi.OutcomeUninstalled
)

// Report is the pass as the API and the CLI show it.
func (r *Result) Report() localapi.Result {
	j := localapi.Result{Revision: r.Revision, Outcome: r.Outcome, Changes: r.Changes, Failed: r.Failed}
	if j.Changes == nil {
		j.Changes = []string{}
	}
	if r.Err != nil {
		j.Error = r.Err.Error()
	}
	if r.Suspension != nil {
		j.Suspension, j.Head = APISuspension(r.Suspension), r.Head
	}
	return j
}

// Converged reports whether the node matches the head revision.
func (r *Result) Converged() bool { return r.Report().Converged() }
