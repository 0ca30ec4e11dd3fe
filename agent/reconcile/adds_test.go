package reconcile

import (
	"context"
	"fmt"
	"slices"
	"strings"
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

// TestDiffListsInKeyOrder: diffFiles walks its maps in any order; every
// list it hands the steps is in key order, so files are written, removed
// and recorded the same way on every pass.
func TestDiffListsInKeyOrder(t *testing.T) {
	h := newHarness(t)
	var b strings.Builder
	b.WriteString("tenant \"acme\" {\n  uid   = 10042\n  shard = \"web-1\"\n")
	for i := range 12 {
		name := fmt.Sprintf("w%02d", 11-i) // written in reverse
		fmt.Fprintf(&b, "  webroot %q {\n    server_names = [\"%s.example.com\"]\n    daemon %q {\n      command    = \"serve\"\n      proxy_path = \"/%s\"\n      node       = \"web-1a\"\n    }\n  }\n", name, name, name, name)
	}
	b.WriteString("}\n")
	files := map[string]string{"cluster.hcl": fake.Cluster, "acme.hcl": b.String()}
	h.src.Commit(files)
	res := h.reconcile(OutcomeApplied)
	var wrote []string
	for _, c := range res.Changes {
		if strings.HasPrefix(c, "wrote nginx/") {
			wrote = append(wrote, c)
		}
	}
	if len(wrote) < 12 || !slices.IsSorted(wrote) {
		t.Fatalf("nginx files written in the order %q, want 12 or more in key order", wrote)
	}
}
