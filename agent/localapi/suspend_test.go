package localapi

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestHoldEndpoints drives suspend, resume and rollback over a real
// socket: the answers, a refusal as a 409 with its reason, and a body
// that is not a request as a 400.
func TestHoldEndpoints(t *testing.T) {
	n := newFakeNode()
	c := listen(t, Handler(n))
	ctx := context.Background()

	s, err := c.Suspend(ctx, "incident 42")
	if err != nil || s.Already || s.Suspension.Revision != "abc" || s.Suspension.Reason != "incident 42" {
		t.Errorf("Suspend: %+v, %v", s, err)
	}
	if s, err := c.Suspend(ctx, "other"); err != nil || !s.Already || s.Suspension.Reason != "incident 42" {
		t.Errorf("Suspend again: %+v, %v", s, err)
	}
	if st, _ := c.Status(ctx); st.Suspension == nil {
		t.Error("status does not show the suspension")
	}
	r, err := c.Resume(ctx)
	if err != nil || r.Lifted == nil || r.Lifted.Revision != "abc" || r.Pass == nil || r.Pass.Outcome != OutcomeApplied {
		t.Errorf("Resume: %+v, %v", r, err)
	}
	if r, err := c.Resume(ctx); err != nil || r.Lifted != nil || r.Pass != nil {
		t.Errorf("Resume of a node not suspended: %+v, %v", r, err)
	}

	_, err = c.Rollback(ctx, "nope", "")
	if !IsRefused(err) || err.Error() != `revision "nope" is not one this node applied: refused` {
		t.Errorf("Rollback refused: %v (a 409: %t)", err, IsRefused(err))
	}
	res, err := c.Rollback(ctx, "", "bad deploy")
	if err != nil || res.Revision != "old" || res.Suspension == nil || res.Suspension.RolledBackFrom != "abc" || res.Suspension.Reason != "bad deploy" {
		t.Errorf("Rollback: %+v, %v", res, err)
	}

	rec := httptest.NewRecorder()
	Handler(n).ServeHTTP(rec, httptest.NewRequest("POST", "/v1/rollback", strings.NewReader(`{"revision":`)))
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "read the request") {
		t.Errorf("a torn request: %d %s", rec.Code, rec.Body.String())
	}
	rec = httptest.NewRecorder()
	Handler(n).ServeHTTP(rec, httptest.NewRequest("POST", "/v1/suspend", nil))
	if rec.Code != 200 {
		t.Errorf("suspend with no body: %d %s", rec.Code, rec.Body.String())
	}
}
