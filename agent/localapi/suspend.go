package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"
)

// Suspension is a hold on the node (design.md §6.14): the agent stays at
// Revision and applies no newer revision until drover resume. It is in
// GET /v1/status and in the answers of the endpoints below while it lasts.
type Suspension struct {
	// Revision is the revision the node stays at.
	Revision string    `json:"revision"`
	Since    time.Time `json:"since"`
	Reason   string    `json:"reason,omitempty"`
	// RolledBackFrom is the revision drover rollback left; "" after
	// drover suspend.
	RolledBackFrom string `json:"rolled_back_from,omitempty"`
}

// HoldRequest is the body of POST /v1/suspend and POST /v1/rollback.
type HoldRequest struct {
	// Revision is the revision to roll back to (a full hash or a prefix
	// of one); "" means the one before the current. Not for suspend.
	Revision string `json:"revision,omitempty"`
	Reason   string `json:"reason,omitempty"`
}

// Suspended is the answer of POST /v1/suspend: the suspension in force,
// and whether it was there before the request (which then changed
// nothing).
type Suspended struct {
	Suspension Suspension `json:"suspension"`
	Already    bool       `json:"already"`
}

// Resumed is the answer of POST /v1/resume: the suspension lifted (nil
// when the node was not suspended, and no pass ran) and the pass that
// followed.
type Resumed struct {
	Lifted *Suspension `json:"lifted"`
	Pass   *Result     `json:"pass,omitempty"`
}

// ErrRefused marks a suspend or rollback the agent refused, changing
// nothing (nothing applied yet; a revision this node never applied, not
// in its Git cache, or invalid under the running binary); the API answers
// 409 with the reason.
var ErrRefused = errors.New("refused")

// maxHoldBody bounds the body of POST /v1/suspend and /v1/rollback.
const maxHoldBody = 1 << 14

// handleHold adds the endpoints of suspend, resume and rollback to mux.
func handleHold(mux *http.ServeMux, n Node) {
	mux.HandleFunc("POST /v1/suspend", func(w http.ResponseWriter, r *http.Request) {
		var req HoldRequest
		if !decodeHold(w, r, &req) {
			return
		}
		s, err := n.Suspend(req.Reason)
		replyHold(w, s, err)
	})
	mux.HandleFunc("POST /v1/resume", func(w http.ResponseWriter, r *http.Request) {
		Reply(w, n.Resume(r.Context()), nil)
	})
	mux.HandleFunc("POST /v1/rollback", func(w http.ResponseWriter, r *http.Request) {
		var req HoldRequest
		if !decodeHold(w, r, &req) {
			return
		}
		res, err := n.Rollback(r.Context(), req.Revision, req.Reason)
		replyHold(w, res, err)
	})
}

// replyHold is Reply, with a refusal answered 409.
func replyHold(w http.ResponseWriter, v any, err error) {
	if errors.Is(err, ErrRefused) {
		WriteError(w, http.StatusConflict, err.Error())
		return
	}
	Reply(w, v, err)
}

// decodeHold reads a HoldRequest (an empty body is an empty request) and
// answers 400 when it cannot.
func decodeHold(w http.ResponseWriter, r *http.Request, req *HoldRequest) bool {
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxHoldBody)).Decode(req)
	if err != nil && !errors.Is(err, io.EOF) {
		WriteError(w, http.StatusBadRequest, "read the request: "+err.Error())
		return false
	}
	return true
}

// Suspend is POST /v1/suspend.
func (c *Client) Suspend(ctx context.Context, reason string) (Suspended, error) {
	var s Suspended
	err := c.do(ctx, c.QueryTimeout, "POST", "/v1/suspend", HoldRequest{Reason: reason}, &s)
	return s, err
}

// Resume is POST /v1/resume: answered once the pass that follows and its
// restarts are done, within ReconcileTimeout.
func (c *Client) Resume(ctx context.Context) (Resumed, error) {
	var r Resumed
	err := c.do(ctx, c.ReconcileTimeout, "POST", "/v1/resume", nil, &r)
	return r, err
}

// Rollback is POST /v1/rollback: answered once the revision is applied and
// its restarts are done, within ReconcileTimeout. A refusal is an *Error
// with Code 409 (IsRefused).
func (c *Client) Rollback(ctx context.Context, rev, reason string) (Result, error) {
	var r Result
	err := c.do(ctx, c.ReconcileTimeout, "POST", "/v1/rollback", HoldRequest{Revision: rev, Reason: reason}, &r)
	return r, err
}

// IsRefused reports whether err is the API's 409: a suspend or rollback
// refused, nothing changed.
func IsRefused(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == http.StatusConflict
}
