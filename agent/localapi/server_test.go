package localapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func serve(t *testing.T, h http.Handler, method, path, body string) (int, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, path, strings.NewReader(body)))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, string(b)
}

// TestHandler drives every endpoint against a fake node: the answers, the
// 404s naming the node, and what reaches the node.
func TestHandler(t *testing.T) {
	n := newFakeNode()
	h := Handler(n)
	for _, c := range []struct {
		method, path, body string
		code               int
		want               string // in the body
	}{
		{"GET", "/v1/status", "", 200, `"node": "web-1a"`},
		{"GET", "/v1/daemons", "", 200, `"key": "acme/main/reverb"`},
		{"GET", "/v1/daemons/acme/main/reverb", "", 200, `"proxy_port": 20001`},
		{"GET", "/v1/daemons/acme/main/nope", "", 404, `{"error":"daemon acme/main/nope does not run on node web-1a"}`},
		{"POST", "/v1/daemons/acme/main/reverb/retry", "", 200, `"retrying": "acme/main/reverb"`},
		{"POST", "/v1/daemons/acme/main/nope/retry", "", 404, `does not run on node web-1a`},
		{"POST", "/v1/reconcile", "", 200, `"outcome": "applied"`},
		{"POST", "/v1/events", `{"group":"daemon-acme-reverb","process":"daemon-acme-reverb","state":"RUNNING","pid":42}`, 204, ""},
		{"POST", "/v1/events", `{"group":"daemon-acme-reverb","state":"EXITED"}`, 503, `{"error":"event queue full"}`},
		{"POST", "/v1/events", `{"group":`, 400, `"error"`},
		{"POST", "/v1/events", `{"group":"` + strings.Repeat("x", maxEventBody) + `"}`, 400, `request body too large`},
		{"DELETE", "/v1/status", "", 405, ""},
	} {
		code, body := serve(t, h, c.method, c.path, c.body)
		if code != c.code || !strings.Contains(body, c.want) {
			t.Errorf("%s %s: %d %s; want %d with %q", c.method, c.path, code, body, c.code, c.want)
		}
	}
	if len(n.retried) != 1 || n.passes != 1 || len(n.events) != 1 || n.events[0].PID != 42 {
		t.Errorf("the node saw retries %v, %d passes, events %+v", n.retried, n.passes, n.events)
	}

	n.err = errStore
	if code, body := serve(t, h, "GET", "/v1/status", ""); code != 500 || !strings.Contains(body, errStore.Error()) {
		t.Errorf("status with a failing store: %d %s", code, body)
	}
}

// TestWireNames pins the JSON field names scripts parse (design.md §8.1).
func TestWireNames(t *testing.T) {
	for _, c := range []struct {
		v    any
		want []string
	}{
		{Status{Network: &Network{}, Rejected: &Rejection{}, Restarts: &Restarts{}, LastError: "x", SourceError: "x", NetworkError: "x", History: []History{{}}},
			[]string{"node", "head", "revision", "applied_at", "last_result", "last_error", "last_reconcile", "source_error", "network_error",
				"network", "tenant_interface", "transit_interface", "transit", "addresses", "routes", "nft_table", "drift_repairs",
				"rejected", "diagnostics", "restarts", "queued", "in_flight", "done", "daemons", "history", "at", "result", "summary"}},
		{Daemon{Reason: "x", NextRetry: new(Daemon{}.CreatedAt)},
			[]string{"id", "tenant_id", "webroot_id", "key", "name", "command", "proxy_path", "proxy_port", "num_procs", "stop_signal",
				"stop_wait_secs", "max_memory_mb", "max_open_files", "environment", "enabled", "status", "reason", "created_at", "updated_at", "node", "host",
				"pids", "revision", "next_retry"}},
		{Result{Failed: map[string]string{"k": "v"}, Error: "x"}, []string{"revision", "outcome", "changes", "failed", "error"}},
		{Event{}, []string{"group", "process", "state", "pid"}},
	} {
		b, _ := json.Marshal(c.v)
		for _, name := range c.want {
			if !strings.Contains(string(b), `"`+name+`":`) {
				t.Errorf("%T lacks %q: %s", c.v, name, b)
			}
		}
	}
}
