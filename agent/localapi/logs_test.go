package localapi

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Logs passes the stream, the bound and each process's offset to the node
// and the tenant's bytes back unchanged; a daemon elsewhere is a 404
// naming the node.
func TestClientLogs(t *testing.T) {
	c := listen(t, Handler(newFakeNode()))
	ctx := context.Background()
	l, err := c.Logs(ctx, "acme/main/reverb", LogQuery{Stream: "stderr", Bytes: 100, From: map[string]int{"reverb": 12}})
	if err != nil || l.Stream != "stderr" || len(l.Procs) != 1 || l.Procs[0].Data != "100 map[reverb:12]\x1b[31m" || l.Procs[0].Offset != 7 {
		t.Errorf("Logs: %+v, %v", l, err)
	}
	_, err = c.Logs(ctx, "acme/main/nope", LogQuery{Stream: "stdout"})
	if !IsNotFound(err) || err.Error() != "daemon acme/main/nope does not run on node web-1a" {
		t.Errorf("Logs of a daemon elsewhere: %v", err)
	}
}

// A query the handler cannot read is a 400 saying what is wrong.
func TestParseLogQuery(t *testing.T) {
	for _, c := range []struct{ query, err string }{
		{"stream=stdin", `stream "stdin" is neither stdout nor stderr`},
		{"bytes=0", `bytes "0" is not a number from 1 to 1048576`},
		{"bytes=2000000", `bytes "2000000" is not a number`},
		{"from=web", `from "web" is not PROCESS:OFFSET`},
		{"from=web:-1", `from "web:-1" is not PROCESS:OFFSET`},
	} {
		v, _ := url.ParseQuery(c.query)
		if _, err := parseLogQuery(v); err == nil || !strings.Contains(err.Error(), c.err) {
			t.Errorf("%s: %v, want %s", c.query, err, c.err)
		}
	}
	q, err := parseLogQuery(url.Values{})
	if err != nil || q.Stream != "stdout" || q.Bytes != DefaultLogBytes {
		t.Errorf("defaults: %+v, %v", q, err)
	}
}

// Restart restarts the daemon; a refusal is a 409 with the reason, a
// daemon elsewhere a 404.
func TestClientRestart(t *testing.T) {
	n := newFakeNode()
	c := listen(t, Handler(n))
	ctx := context.Background()
	if err := c.Restart(ctx, "acme/main/reverb"); err != nil || len(n.restarted) != 1 {
		t.Errorf("Restart: %v, restarted %v", err, n.restarted)
	}
	err := c.Restart(ctx, "acme/main/queue")
	if e, ok := err.(*Error); !ok || e.Code != http.StatusConflict || !strings.Contains(e.Msg, "standby") {
		t.Errorf("Restart of a singleton in standby: %v, want 409 with the reason", err)
	}
	if err := c.Restart(ctx, "acme/main/nope"); !IsNotFound(err) {
		t.Errorf("Restart of a daemon elsewhere: %v", err)
	}
}
