package agent

import (
	"strings"
	"testing"
)

// TestSymlinkRevisionIsRejected: a committed symbolic link is rejected by
// the agent as by drover validate, naming the path; nothing is applied.
func TestSymlinkRevisionIsRejected(t *testing.T) {
	h := newHarness(t)
	good := h.src.commit(repoWith(proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	files := repoWith(proxied("reverb", "/app"), proxied("ws", "/ws"))
	files["leak.hcl"] = symlinkPrefix + "/proc/self/environ"
	h.src.commit(files)
	res := h.reconcile(OutcomeRejected)
	if !strings.Contains(res.Err.Error(), "leak.hcl is a symbolic link") {
		t.Errorf("rejection does not name the link: %v", res.Err)
	}
	if applied, _, _ := h.store.Applied(); applied != good || strings.Contains(h.sup.Snapshot(), "daemon-acme-ws") {
		t.Errorf("the revision with a link was applied")
	}
}
