package localapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
)

// Node is what the local API asks of the agent. The agent implements it
// (agent/localnode.go); this package never imports the agent.
type Node interface {
	// Name is the node's name, for answers about a daemon not on it.
	Name() string
	// Status reports the node as a whole.
	Status() (Status, error)
	// Daemons reports every daemon with a status on the node, sorted by
	// key.
	Daemons() ([]Daemon, error)
	// Retry retries the daemon TENANT/WEBROOT/DAEMON now; false when it is
	// not on this node.
	Retry(key string) (bool, error)
	// Logs reads the output of the daemon TENANT/WEBROOT/DAEMON's
	// processes; false when it is not on this node.
	Logs(ctx context.Context, key string, q LogQuery) (Logs, bool, error)
	// Restart restarts the daemon TENANT/WEBROOT/DAEMON, an operator's
	// action; false when it is not on this node, an error wrapping
	// ErrRefused when the node may not run it now.
	Restart(key string) (bool, error)
	// Reconcile runs a full pass and waits for the restarts it started,
	// as long as ctx lasts.
	Reconcile(ctx context.Context) Result
	// RequestPass asks for a full pass as soon as the agent can, without
	// waiting for it (POST /v1/reconcile?wait=false).
	RequestPass()
	// Event hands a supervisord event to the agent without waiting for
	// it to be handled; ErrQueueFull when the agent cannot take more now.
	Event(Event) error
	// Suspend makes the agent stay at its revision (suspend.go).
	Suspend(reason string) (Suspended, error)
	// Resume lifts the suspension and runs a full pass, waiting for its
	// restarts as long as ctx lasts.
	Resume(ctx context.Context) Resumed
	// Rollback applies rev (or the revision before the current one when
	// rev is "") from the Git cache and suspends the node there, waiting
	// for the restarts as long as ctx lasts; an error wrapping ErrRefused
	// when it changed nothing.
	Rollback(ctx context.Context, rev, reason string) (Result, error)
}

// ErrQueueFull is Node.Event's answer to a burst beyond what the agent
// queues; the API answers 503 and the event listener sends it again.
var ErrQueueFull = errors.New("event queue full")

// maxEventBody bounds the body of POST /v1/events.
const maxEventBody = 1 << 16

// Handler serves the local API (design.md §8.1) from n.
func Handler(n Node) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		s, err := n.Status()
		Reply(w, s, err)
	})
	mux.HandleFunc("GET /v1/daemons", func(w http.ResponseWriter, r *http.Request) {
		d, err := n.Daemons()
		Reply(w, d, err)
	})
	mux.HandleFunc("GET /v1/daemons/{tenant}/{webroot}/{daemon}", func(w http.ResponseWriter, r *http.Request) {
		key := daemonKey(r)
		all, err := n.Daemons()
		if err != nil {
			Reply(w, nil, err)
			return
		}
		i := sort.Search(len(all), func(i int) bool { return all[i].Key >= key })
		if i == len(all) || all[i].Key != key {
			notHere(w, n, key)
			return
		}
		Reply(w, all[i], nil)
	})
	mux.HandleFunc("POST /v1/daemons/{tenant}/{webroot}/{daemon}/retry", func(w http.ResponseWriter, r *http.Request) {
		key := daemonKey(r)
		ok, err := n.Retry(key)
		if err == nil && !ok {
			notHere(w, n, key)
			return
		}
		Reply(w, map[string]string{"retrying": key}, err)
	})
	mux.HandleFunc("POST /v1/reconcile", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("wait") == "false" {
			n.RequestPass()
			w.WriteHeader(http.StatusAccepted)
			Reply(w, map[string]bool{"requested": true}, nil)
			return
		}
		Reply(w, n.Reconcile(r.Context()), nil)
	})
	mux.HandleFunc("GET /v1/placement", servePlacement(n))
	handleHold(mux, n)
	handleLogs(mux, n)
	mux.HandleFunc("POST /v1/events", func(w http.ResponseWriter, r *http.Request) {
		var ev Event
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxEventBody)).Decode(&ev); err != nil {
			WriteError(w, http.StatusBadRequest, err.Error())
			return
		}
		switch err := n.Event(ev); {
		case errors.Is(err, ErrQueueFull):
			WriteError(w, http.StatusServiceUnavailable, err.Error())
		case err != nil:
			WriteError(w, http.StatusInternalServerError, err.Error())
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	})
	return mux
}

func daemonKey(r *http.Request) string {
	return r.PathValue("tenant") + "/" + r.PathValue("webroot") + "/" + r.PathValue("daemon")
}

func notHere(w http.ResponseWriter, n Node, key string) {
	WriteError(w, http.StatusNotFound, fmt.Sprintf("daemon %s does not run on node %s", key, n.Name()))
}

// Reply writes v as an indented JSON answer, or err as a 500 error answer.
// The webhook answers the same way.
func Reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		WriteError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

// WriteError writes the error answer {"error": msg} with code.
func WriteError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
