package reconcile

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
)

func TestMetrics(t *testing.T) {
	h := newHarness(t)
	rev := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app")))
	h.reconcile(OutcomeApplied)
	h.reconcile(OutcomeUnchanged)
	rec := httptest.NewRecorder()
	h.rec.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body := rec.Body.String()
	for _, want := range []string{
		`drover_reconciles_total{outcome="applied"} 1`,
		`drover_reconciles_total{outcome="unchanged"} 1`,
		`drover_reconcile_duration_seconds_count 2`,
		`drover_daemons{status="running"} 1`,
		`drover_applied_revision_info{revision="` + rev + `"} 1`,
		`drover_fetch_duration_seconds_count 1`,
		`drover_source_up 1`,
		`drover_drift_repairs_total 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
