package localapi

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// A daemon's output and the operator's restart (drover logs, drover
// restart): GET /v1/daemons/KEY/logs and POST /v1/daemons/KEY/restart.

// LogQuery asks for a daemon's output: one stream ("stdout" or "stderr"),
// at most Bytes bytes per process, the newest, of what each process wrote
// after its offset in From (by process name; a process not in From: its
// last Bytes bytes).
type LogQuery struct {
	Stream string
	Bytes  int
	From   map[string]int
}

// Log bounds: what a LogQuery asks for per process, by default and at most.
const (
	DefaultLogBytes = 64 << 10
	MaxLogBytes     = 1 << 20
)

// Logs is the answer of GET /v1/daemons/KEY/logs: one entry per process,
// sorted by name.
type Logs struct {
	Key    string       `json:"key"`
	Stream string       `json:"stream"`
	Procs  []ProcessLog `json:"processes"`
}

// ProcessLog is what one process wrote: Data is the tenant's bytes,
// unfiltered (the reader makes them safe to show); Offset is where the
// next read starts; Overflow is true when more was written than Bytes
// (the older part is not in Data).
type ProcessLog struct {
	Process  string `json:"process"`
	Data     string `json:"data"`
	Offset   int    `json:"offset"`
	Overflow bool   `json:"overflow,omitempty"`
}

// Restarted is the answer of POST /v1/daemons/KEY/restart: the restart is
// queued; the daemon's status tells its outcome.
type Restarted struct {
	Key string `json:"restarting"`
}

// handleLogs adds the logs and restart endpoints to mux.
func handleLogs(mux *http.ServeMux, n Node) {
	mux.HandleFunc("GET /v1/daemons/{tenant}/{webroot}/{daemon}/logs", func(w http.ResponseWriter, r *http.Request) {
		key := daemonKey(r)
		q, err := parseLogQuery(r.URL.Query())
		if err != nil {
			WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		logs, ok, err := n.Logs(r.Context(), key, q)
		if err == nil && !ok {
			notHere(w, n, key)
			return
		}
		Reply(w, logs, err)
	})
	mux.HandleFunc("POST /v1/daemons/{tenant}/{webroot}/{daemon}/restart", func(w http.ResponseWriter, r *http.Request) {
		key := daemonKey(r)
		ok, err := n.Restart(key)
		if err == nil && !ok {
			notHere(w, n, key)
			return
		}
		replyHold(w, Restarted{Key: key}, err)
	})
}

// parseLogQuery reads stream=, bytes= and from=PROCESS:OFFSET (repeated).
func parseLogQuery(v url.Values) (LogQuery, error) {
	q := LogQuery{Stream: v.Get("stream"), Bytes: DefaultLogBytes, From: map[string]int{}}
	switch q.Stream {
	case "":
		q.Stream = "stdout"
	case "stdout", "stderr":
	default:
		return q, fmt.Errorf("stream %q is neither stdout nor stderr", q.Stream)
	}
	if s := v.Get("bytes"); s != "" {
		b, err := strconv.Atoi(s)
		if err != nil || b < 1 || b > MaxLogBytes {
			return q, fmt.Errorf("bytes %q is not a number from 1 to %d", s, MaxLogBytes)
		}
		q.Bytes = b
	}
	for _, f := range v["from"] {
		proc, off, ok := strings.Cut(f, ":")
		o, err := strconv.Atoi(off)
		if !ok || err != nil || o < 0 || proc == "" {
			return q, fmt.Errorf("from %q is not PROCESS:OFFSET", f)
		}
		q.From[proc] = o
	}
	return q, nil
}

// Logs is GET /v1/daemons/TENANT/WEBROOT/DAEMON/logs. A daemon not on this
// node is an *Error with Code 404.
func (c *Client) Logs(ctx context.Context, key string, q LogQuery) (Logs, error) {
	var l Logs
	path, err := daemonPath(key)
	if err != nil {
		return l, err
	}
	v := url.Values{"stream": {q.Stream}}
	if q.Bytes > 0 {
		v.Set("bytes", strconv.Itoa(q.Bytes))
	}
	for proc, off := range q.From {
		v.Add("from", proc+":"+strconv.Itoa(off))
	}
	err = c.do(ctx, c.QueryTimeout, "GET", path+"/logs?"+v.Encode(), nil, &l)
	return l, err
}

// Restart is POST /v1/daemons/TENANT/WEBROOT/DAEMON/restart. A daemon the
// node may not run now (a singleton in standby) is an *Error with Code
// 409 and the reason.
func (c *Client) Restart(ctx context.Context, key string) error {
	path, err := daemonPath(key)
	if err != nil {
		return err
	}
	return c.do(ctx, c.QueryTimeout, "POST", path+"/restart", nil, nil)
}
