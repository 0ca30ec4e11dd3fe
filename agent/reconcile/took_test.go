package reconcile

import (
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
)

// TestPassReportsSupervisordTime: a pass that talked to supervisord says
// how long it took (took_in.supervisord in the log), with the other phases.
func TestPassReportsSupervisordTime(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Daemon("queue", "")))
	res := h.reconcile(OutcomeApplied)
	for _, phase := range []string{"apply", "supervisord"} {
		if _, ok := res.Took[phase]; !ok {
			t.Errorf("the pass reports no %s time: %v", phase, res.Took)
		}
	}
}
