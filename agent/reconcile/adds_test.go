package reconcile

import (
	"context"
	"fmt"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/supervisor"
)

// unansweredAdds is a supervisord that adds the groups it is asked to but
// whose answer does not come within the call's deadline, as a busy one
// spawning thousands of processes.
type unansweredAdds struct{ *supervisor.Fake }

func (s unansweredAdds) Batch(ctx context.Context, op supervisor.Op, groups []string) []error {
	errs := s.Fake.Batch(ctx, op, groups)
	if op == supervisor.OpAdd {
		for i := range errs {
			errs[i] = fmt.Errorf("supervisord at /run/supervisor.sock: system.multicall: reading response: %w", context.DeadlineExceeded)
		}
	}
	return errs
}

// TestUnansweredAddIsObserved: an add whose answer did not come may have
// happened; the daemon's status is what supervisord then has (running),
// not a failure that is not one. A fault is still a failure.
func TestUnansweredAddIsObserved(t *testing.T) {
	h := newHarness(t)
	h.rec.sup = unansweredAdds{h.sup}
	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	if st := h.statuses()["acme/main/reverb"]; st.Status != StatusRunning {
		t.Fatalf("status %s (%s), want running", st.Status, st.Reason)
	}
}
