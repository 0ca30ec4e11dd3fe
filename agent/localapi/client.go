package localapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// Client talks to the agent's local API on its unix socket. Every call has
// a deadline, so a hung agent cannot hang the CLI or supervisord's event
// listener; ctx may end a call sooner.
type Client struct {
	socket string
	http   *http.Client
	// QueryTimeout bounds Status, Daemons and Retry.
	QueryTimeout time.Duration
	// ReconcileTimeout bounds Reconcile: a whole pass and the restarts it
	// started.
	ReconcileTimeout time.Duration
	// EventTimeout bounds PostEvent.
	EventTimeout time.Duration
}

// Default deadlines of a Client's calls.
const (
	DefaultQueryTimeout     = 30 * time.Second
	DefaultReconcileTimeout = 10 * time.Minute
	DefaultEventTimeout     = 5 * time.Second
)

// NewClient returns a client of the API served on the unix socket.
func NewClient(socket string) *Client {
	return &Client{
		socket: socket,
		http: &http.Client{Transport: &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", socket)
		}}},
		QueryTimeout:     DefaultQueryTimeout,
		ReconcileTimeout: DefaultReconcileTimeout,
		EventTimeout:     DefaultEventTimeout,
	}
}

// Status is GET /v1/status.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var s Status
	err := c.do(ctx, c.QueryTimeout, "GET", "/v1/status", nil, &s)
	return s, err
}

// Daemons is GET /v1/daemons.
func (c *Client) Daemons(ctx context.Context) ([]Daemon, error) {
	var d []Daemon
	err := c.do(ctx, c.QueryTimeout, "GET", "/v1/daemons", nil, &d)
	return d, err
}

// Retry is POST /v1/daemons/TENANT/WEBROOT/DAEMON/retry.
func (c *Client) Retry(ctx context.Context, key string) error {
	return c.do(ctx, c.QueryTimeout, "POST", "/v1/daemons/"+key+"/retry", nil, nil)
}

// Reconcile is POST /v1/reconcile: a full pass, answered once the restarts
// it started are done.
func (c *Client) Reconcile(ctx context.Context) (Result, error) {
	var r Result
	err := c.do(ctx, c.ReconcileTimeout, "POST", "/v1/reconcile", nil, &r)
	return r, err
}

// PostEvent is POST /v1/events.
func (c *Client) PostEvent(ctx context.Context, ev Event) error {
	return c.do(ctx, c.EventTimeout, "POST", "/v1/events", ev, nil)
}

// do sends a request with in as its JSON body (none if nil) and decodes a
// JSON answer into out (unless nil), within timeout.
func (c *Client) do(ctx context.Context, timeout time.Duration, method, path string, in, out any) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode %s %s: %w", method, path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://drover"+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach the drover agent at %s (is it running, and are you root?): %w", c.socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read the answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return errors.New(e.Error)
		}
		return fmt.Errorf("agent answered %s", resp.Status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode the answer of %s %s: %w", method, path, err)
	}
	return nil
}
