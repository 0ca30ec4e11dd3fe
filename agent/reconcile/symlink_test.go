package reconcile

import (
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
)

// TestSymlinkRevisionIsRejected: a committed symbolic link is rejected by
// the agent as by drover validate, naming the path; nothing is applied.
func TestSymlinkRevisionIsRejected(t *testing.T) {
	h := newHarness(t)
	good := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	files := fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws"))
	files["leak.hcl"] = fake.SymlinkPrefix + "/proc/self/environ"
	h.src.Commit(files)
	res := h.reconcile(OutcomeRejected)
	if !strings.Contains(res.Err.Error(), "leak.hcl is a symbolic link") {
		t.Errorf("rejection does not name the link: %v", res.Err)
	}
	if applied, _, _ := h.store.Applied(); applied != good || strings.Contains(h.sup.Snapshot(), "daemon-acme-ws") {
		t.Errorf("the revision with a link was applied")
	}
}
