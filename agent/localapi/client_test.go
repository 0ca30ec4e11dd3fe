package localapi

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listen serves h on a unix socket in a temporary directory until the test
// ends, and returns a client of it.
func listen(t *testing.T, h http.Handler) *Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "agent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return NewClient(sock)
}

// TestClient makes every call over a real unix socket against the handler
// and a fake node.
func TestClient(t *testing.T) {
	n := newFakeNode()
	c := listen(t, Handler(n))
	ctx := context.Background()

	st, err := c.Status(ctx)
	if err != nil || st.Node != "web-1a" || st.Daemons["running"] != 2 {
		t.Errorf("Status: %+v, %v", st, err)
	}
	ds, err := c.Daemons(ctx)
	if err != nil || len(ds) != 2 || ds[1].ProxyPort == nil || *ds[1].ProxyPort != 20001 || ds[0].Environment["SECRET"] != Redacted {
		t.Errorf("Daemons: %+v, %v", ds, err)
	}
	if err := c.Retry(ctx, "acme/main/queue"); err != nil || len(n.retried) != 1 {
		t.Errorf("Retry: %v, retried %v", err, n.retried)
	}
	// An error answer becomes the error, word for word.
	if err := c.Retry(ctx, "acme/main/nope"); err == nil || err.Error() != "daemon acme/main/nope does not run on node web-1a" {
		t.Errorf("Retry of a daemon elsewhere: %v", err)
	}
	d, err := c.Daemon(ctx, "acme/main/reverb")
	if err != nil || d.Key != "acme/main/reverb" || d.ProxyPort == nil || *d.ProxyPort != 20001 {
		t.Errorf("Daemon: %+v, %v", d, err)
	}
	if _, err := c.Daemon(ctx, "acme/main/nope"); !IsNotFound(err) || err.Error() != "daemon acme/main/nope does not run on node web-1a" {
		t.Errorf("Daemon not on this node: %v (a 404: %t)", err, IsNotFound(err))
	}
	// A name the server's path cleaning would turn into another path
	// never leaves the client.
	for _, key := range []string{"acme/../status", "acme/main", "acme//x", "acme/main/x/retry"} {
		if _, err := c.Daemon(ctx, key); err == nil || !strings.Contains(err.Error(), "is not TENANT/WEBROOT/DAEMON") {
			t.Errorf("Daemon(%q): %v", key, err)
		}
	}
	res, err := c.Reconcile(ctx)
	if err != nil || !res.Converged() || res.Revision != "abc" || len(res.Changes) != 1 {
		t.Errorf("Reconcile: %+v, %v", res, err)
	}
	// Without waiting: the pass is asked for, not run by the request.
	passes := n.passes
	if err := c.RequestPass(ctx); err != nil || n.requested != 1 || n.passes != passes {
		t.Errorf("RequestPass: %v, requested %d, passes %d → %d", err, n.requested, passes, n.passes)
	}
	ev := Event{Group: "daemon-acme-reverb", Process: "daemon-acme-reverb", State: "RUNNING", PID: 42}
	if err := c.PostEvent(ctx, ev); err != nil || len(n.events) != 1 || n.events[0] != ev {
		t.Errorf("PostEvent: %v, events %+v", err, n.events)
	}
	if err := c.PostEvent(ctx, ev); err == nil || err.Error() != ErrQueueFull.Error() {
		t.Errorf("PostEvent with the queue full: %v", err)
	}
}

// TestClientUnreachable: no agent on the socket is said so, with the path.
func TestClientUnreachable(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "agent.sock")
	_, err := NewClient(sock).Status(context.Background())
	if err == nil || !strings.Contains(err.Error(), "cannot reach the drover agent at "+sock+" (is it running, and are you root?)") {
		t.Errorf("Status without an agent: %v", err)
	}
}

// TestClientDeadline: an agent that accepts but never answers does not
// hang the client beyond the call's deadline.
func TestClientDeadline(t *testing.T) {
	n := newFakeNode()
	n.hang = true
	c := listen(t, Handler(n))
	c.ReconcileTimeout = 200 * time.Millisecond
	start := time.Now()
	_, err := c.Reconcile(context.Background())
	if took := time.Since(start); err == nil || took > 5*time.Second {
		t.Errorf("Reconcile against a hung agent: %v after %s; want an error after 200ms", err, took)
	}
	// Said as a wait that ran out, not as an agent that cannot be reached.
	if err == nil || !strings.Contains(err.Error(), "no answer to POST /v1/reconcile from the drover agent at ") {
		t.Errorf("Reconcile against a hung agent: %v; want it to say no answer came", err)
	}

	// The same for a server that never reads the request at all.
	sock := filepath.Join(t.TempDir(), "silent.sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- conn // held open, never read
		}
	}()
	defer func() {
		ln.Close()
		for conn := range accepted {
			conn.Close()
		}
	}()
	c = NewClient(sock)
	c.QueryTimeout = 200 * time.Millisecond
	start = time.Now()
	if _, err := c.Status(context.Background()); err == nil || time.Since(start) > 5*time.Second {
		t.Errorf("Status against a silent socket: %v after %s", err, time.Since(start))
	}
}

// An answer larger than MaxAnswer is an error, not read to its end.
func TestClientBoundsTheAnswer(t *testing.T) {
	c := listen(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		chunk := []byte(strings.Repeat(" ", 1<<10))
		for range 1 << 10 { // 1 MiB of white space before any JSON
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}))
	c.MaxAnswer = 64 << 10
	if _, err := c.Status(context.Background()); err == nil || !strings.Contains(err.Error(), "larger than 65536 bytes") {
		t.Errorf("Status with a 1 MiB answer: %v; want it refused past 64 KiB", err)
	}
}
