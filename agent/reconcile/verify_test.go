package reconcile

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/internal/trust"
)

// TestUntrustedRevisionIsRejected: a revision the trust policy refuses is
// rejected like an invalid one, before it is parsed: the node keeps its
// state, status and the metrics say why, and the next trusted revision
// applies. The policy is asked from the running revision.
func TestUntrustedRevisionIsRejected(t *testing.T) {
	h := newHarness(t)
	refuse := map[string]bool{}
	var bases []string
	h.verify = func(_ context.Context, base, head string) error {
		bases = append(bases, base)
		if refuse[head] {
			return &trust.RefusedError{Head: plumbing.NewHash(head), Verdict: &trust.Verdict{Mode: trust.ModeHead, Commits: 1,
				Problems: []trust.Problem{{Commit: plumbing.NewHash(head), Subject: "sneak", Path: "tenants/acme.hcl", Signer: trust.Signer{Name: "unsigned"}}}}}
		}
		return nil
	}
	h.newReconciler()
	good := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	writes, snap := h.fs.Writes, h.sup.Snapshot()

	bad := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws")))
	refuse[bad] = true
	h.loading = func(rev string) { t.Errorf("revision %s parsed though untrusted", rev) }
	res := h.reconcile(OutcomeRejected)
	h.loading = nil
	for _, want := range []string{"the trust policy refuses it (head mode, 1 commit checked)", "changes tenants/acme.hcl but is signed by unsigned", bad[:12]} {
		if !strings.Contains(res.Err.Error(), want) {
			t.Errorf("rejection %q does not say %q", res.Err, want)
		}
	}
	if h.fs.Writes != writes || h.sup.Snapshot() != snap {
		t.Error("an untrusted revision changed the node")
	}
	if applied, _, _ := h.store.Applied(); applied != good {
		t.Errorf("applied %s, want still %s", applied, good)
	}
	if st, _ := h.rec.Status(); st.Rejected == nil || !strings.Contains(st.Rejected.Diagnostics, "signed by unsigned") {
		t.Errorf("status does not report the untrusted revision: %+v", st.Rejected)
	}
	rec := httptest.NewRecorder()
	h.rec.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"drover_untrusted_revisions_total 1", "drover_rejected_revisions_total 1"} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Proxied("ws", "/ws"), fake.Proxied("api", "/api")))
	h.reconcile(OutcomeApplied)
	if !strings.Contains(h.sup.Snapshot(), "daemon-acme-ws") {
		t.Error("the next trusted revision was not applied")
	}
	if want := []string{"", good, good}; strings.Join(bases, ",") != strings.Join(want, ",") {
		t.Errorf("verified from %q, want %q (the running revision)", bases, want)
	}
}
