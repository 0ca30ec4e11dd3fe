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
	"net/url"
	"strings"
	"time"
)

// Client talks to the agent's local API on its unix socket. Every call has
// a deadline, so a hung agent cannot hang the CLI or supervisord's event
// listener; ctx may end a call sooner.
type Client struct {
	socket string
	http   *http.Client
	// QueryTimeout bounds Status, Daemons, Daemon and Retry.
	QueryTimeout time.Duration
	// ReconcileTimeout bounds Reconcile: a whole pass and the restarts it
	// started.
	ReconcileTimeout time.Duration
	// EventTimeout bounds PostEvent.
	EventTimeout time.Duration
	// MaxAnswer bounds an answer's body: a node's daemon list with every
	// stderr tail is megabytes, not this.
	MaxAnswer int64
}

// Default deadlines of a Client's calls.
const (
	DefaultQueryTimeout     = 30 * time.Second
	DefaultReconcileTimeout = 10 * time.Minute
	DefaultEventTimeout     = 5 * time.Second
	// DefaultMaxAnswer is a Client's MaxAnswer: 256 MiB.
	DefaultMaxAnswer = 256 << 20
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
		MaxAnswer:        DefaultMaxAnswer,
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

// Daemon is GET /v1/daemons/TENANT/WEBROOT/DAEMON. A daemon not on this
// node is an *Error with Code 404.
func (c *Client) Daemon(ctx context.Context, key string) (Daemon, error) {
	var d Daemon
	path, err := daemonPath(key)
	if err != nil {
		return d, err
	}
	err = c.do(ctx, c.QueryTimeout, "GET", path, nil, &d)
	return d, err
}

// Retry is POST /v1/daemons/TENANT/WEBROOT/DAEMON/retry.
func (c *Client) Retry(ctx context.Context, key string) error {
	path, err := daemonPath(key)
	if err != nil {
		return err
	}
	return c.do(ctx, c.QueryTimeout, "POST", path+"/retry", nil, nil)
}

// daemonPath is the API path of the daemon TENANT/WEBROOT/DAEMON, each
// name escaped; "." and ".." are refused, since a path cleaned by the
// server would name something else.
func daemonPath(key string) (string, error) {
	parts := strings.Split(key, "/")
	if len(parts) != 3 {
		return "", fmt.Errorf("daemon %q is not TENANT/WEBROOT/DAEMON", key)
	}
	for i, p := range parts {
		if p == "" || p == "." || p == ".." {
			return "", fmt.Errorf("daemon %q is not TENANT/WEBROOT/DAEMON", key)
		}
		parts[i] = url.PathEscape(p)
	}
	return "/v1/daemons/" + strings.Join(parts, "/"), nil
}

// RequestPass is POST /v1/reconcile?wait=false: a full pass asked for,
// answered at once.
func (c *Client) RequestPass(ctx context.Context) error {
	return c.do(ctx, c.QueryTimeout, "POST", "/v1/reconcile?wait=false", nil, nil)
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
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("no answer to %s %s from the drover agent at %s after %s: %w",
			method, path, c.socket, time.Since(start).Round(100*time.Millisecond), err)
	}
	if err != nil {
		return fmt.Errorf("cannot reach the drover agent at %s (is it running, and are you root?): %w", c.socket, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.MaxAnswer+1))
	if err == nil && int64(len(data)) > c.MaxAnswer {
		err = fmt.Errorf("larger than %d bytes", c.MaxAnswer)
	}
	if err != nil {
		return fmt.Errorf("read the answer of %s %s: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			return &Error{Code: resp.StatusCode, Msg: e.Error}
		}
		return &Error{Code: resp.StatusCode, Msg: "agent answered " + resp.Status}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("decode the answer of %s %s: %w", method, path, err)
	}
	return nil
}

// Error is an error answer of the API: its HTTP status code and message
// (404 for a daemon not on this node).
type Error struct {
	Code int
	Msg  string
}

func (e *Error) Error() string { return e.Msg }

// IsNotFound reports whether err is the API's 404: the daemon is not on
// this node.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == http.StatusNotFound
}
