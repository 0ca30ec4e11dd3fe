package agent

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/reconcile"
)

func serve(t *testing.T, h http.Handler, method, path, body string, headers ...string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

func TestAPI(t *testing.T) {
	h := newHarness(t)
	rev := h.src.Commit(fake.Repo(fake.Proxied("reverb", "/app"), fake.Daemon("queue", `environment = { SECRET = "hunter2" }
max_memory_mb = 64`)))
	h.reconcile(reconcile.OutcomeApplied)
	api := localapi.Handler(apiNode{h.agent})

	code, body := serve(t, api, "GET", "/v1/status", "")
	var st localapi.Status
	if code != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Revision != rev || st.Node != "web-1a" || st.Daemons[reconcile.StatusRunning] != 2 || len(st.History) != 1 {
		t.Errorf("GET /v1/status: %d %s", code, body)
	}

	code, body = serve(t, api, "GET", "/v1/daemons", "")
	var list []localapi.Daemon
	if code != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 2 || list[0].Key != "acme/main/queue" {
		t.Fatalf("GET /v1/daemons: %d %s", code, body)
	}
	if strings.Contains(body, "hunter2") {
		t.Error("an environment value leaked through the API")
	}

	code, body = serve(t, api, "GET", "/v1/daemons/acme/main/reverb", "")
	var d localapi.Daemon
	if code != 200 || json.Unmarshal([]byte(body), &d) != nil {
		t.Fatalf("GET one daemon: %d %s", code, body)
	}
	if d.Name != "reverb" || d.ProxyPath == nil || *d.ProxyPath != "/app" || d.ProxyPort == nil || d.Status != reconcile.StatusRunning ||
		d.Node != "web-1a" || d.Host != "fd00:5ccd:1::273a" || len(d.PIDs) != 1 || d.Revision != rev || d.NumProcs != 1 ||
		d.StopSignal != "TERM" || d.StopWaitSecs != 30 || !d.Enabled || d.CreatedAt.IsZero() || d.UpdatedAt.IsZero() {
		t.Errorf("daemon: %+v", d)
	}
	// Deterministic ids: the same on every node and every run.
	if d.ID != localapi.DaemonID("acme/main/reverb") || d.TenantID != localapi.TenantID("acme") || d.WebrootID != localapi.WebrootID("acme", "main") {
		t.Errorf("ids: %s %s %s", d.ID, d.TenantID, d.WebrootID)
	}
	_, body = serve(t, api, "GET", "/v1/daemons/acme/main/queue", "")
	if !strings.Contains(body, `"SECRET": "`+localapi.Redacted+`"`) || !strings.Contains(body, `"max_memory_mb": 64`) {
		t.Errorf("queue: %s", body)
	}

	if code, body = serve(t, api, "GET", "/v1/daemons/acme/main/nope", ""); code != 404 || !strings.Contains(body, "does not run on node web-1a") {
		t.Errorf("unknown daemon: %d %s", code, body)
	}
	if code, _ = serve(t, api, "POST", "/v1/daemons/acme/main/reverb/retry", ""); code != 200 || !h.triggered() {
		t.Errorf("retry: %d, not triggered", code)
	}
	// The retry makes the next pass a full one, although the head is
	// unchanged.
	if res := h.agent.rec.Reconcile(context.Background(), false); res.Outcome != reconcile.OutcomeApplied {
		t.Errorf("the pass after a retry: %s, want %s", res.Outcome, reconcile.OutcomeApplied)
	}
	if code, _ = serve(t, api, "POST", "/v1/daemons/acme/main/nope/retry", ""); code != 404 {
		t.Errorf("retry of an unknown daemon: %d", code)
	}
	code, body = serve(t, api, "POST", "/v1/reconcile", "")
	var rj localapi.Result
	if code != 200 || json.Unmarshal([]byte(body), &rj) != nil || rj.Outcome != reconcile.OutcomeApplied || rj.Revision != rev {
		t.Errorf("POST /v1/reconcile: %d %s", code, body)
	}
	if code, _ = serve(t, api, "DELETE", "/v1/status", ""); code != http.StatusMethodNotAllowed {
		t.Errorf("DELETE /v1/status: %d", code)
	}
}
