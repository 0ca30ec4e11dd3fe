package agent

import (
	"context"
	"crypto/sha1"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// StatusJSON is GET /v1/status: the node as a whole.
type StatusJSON struct {
	Node          string         `json:"node"`
	Head          string         `json:"head"`
	Revision      string         `json:"revision"`
	AppliedAt     time.Time      `json:"applied_at"`
	LastResult    string         `json:"last_result"`
	LastError     string         `json:"last_error,omitempty"`
	LastReconcile time.Time      `json:"last_reconcile"`
	SourceError   string         `json:"source_error,omitempty"`
	NetworkError  string         `json:"network_error,omitempty"`
	Network       *NetworkJSON   `json:"network,omitempty"`
	Rejected      *RejectionJSON `json:"rejected,omitempty"`
	Daemons       map[string]int `json:"daemons"`
	History       []HistoryJSON  `json:"history"`
}

// NetworkJSON summarises the node's tenant networking (with a network
// block): what the agent keeps applied.
type NetworkJSON struct {
	TenantInterface  string `json:"tenant_interface"`
	TransitInterface string `json:"transit_interface"`
	Transit          string `json:"transit"`
	Addresses        int    `json:"addresses"`
	Routes           int    `json:"routes"`
	NftTable         string `json:"nft_table"`
	DriftRepairs     int    `json:"drift_repairs"`
}

// RejectionJSON is the head revision rejected as invalid.
type RejectionJSON struct {
	Revision    string `json:"revision"`
	Diagnostics string `json:"diagnostics"`
}

// HistoryJSON is one recent reconcile that changed something.
type HistoryJSON struct {
	Revision string    `json:"revision"`
	At       time.Time `json:"at"`
	Result   string    `json:"result"`
	Summary  string    `json:"summary"`
}

// DaemonJSON is one daemon of GET /v1/daemons, with the seed's response
// fields and drover's own (node, host, pids, revision, reason).
type DaemonJSON struct {
	ID           string            `json:"id"`
	TenantID     string            `json:"tenant_id"`
	WebrootID    string            `json:"webroot_id"`
	Key          string            `json:"key"`
	Name         string            `json:"name"`
	Command      string            `json:"command"`
	ProxyPath    *string           `json:"proxy_path"`
	ProxyPort    *int              `json:"proxy_port"`
	NumProcs     int               `json:"num_procs"`
	StopSignal   string            `json:"stop_signal"`
	StopWaitSecs int               `json:"stop_wait_secs"`
	MaxMemoryMB  *int              `json:"max_memory_mb"`
	MaxOpenFiles *int              `json:"max_open_files"`
	Environment  map[string]string `json:"environment"`
	Enabled      bool              `json:"enabled"`
	Status       string            `json:"status"`
	Reason       string            `json:"reason,omitempty"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	Node         string            `json:"node"`
	Host         string            `json:"host"`
	PIDs         []int             `json:"pids"`
	Revision     string            `json:"revision"`
	NextRetry    *time.Time        `json:"next_retry,omitempty"`
}

// ReconcileJSON is the answer of POST /v1/reconcile.
type ReconcileJSON struct {
	Revision string            `json:"revision"`
	Outcome  string            `json:"outcome"`
	Changes  []string          `json:"changes"`
	Failed   map[string]string `json:"failed,omitempty"`
	Error    string            `json:"error,omitempty"`
}

// Redacted replaces environment values in API answers: they hold secrets.
const Redacted = "(redacted)"

// uuidNamespace is drover's UUIDv5 namespace for deterministic ids.
var uuidNamespace = [16]byte{0x6b, 0x3c, 0x1f, 0x0e, 0x9a, 0x52, 0x4d, 0x6e, 0x8f, 0x11, 0x2d, 0x7a, 0x40, 0x93, 0xc5, 0x18}

// uuid5 is the RFC 9562 name-based (SHA-1) UUID of name in drover's
// namespace: the same key gives the same id on every node.
func uuid5(name string) string {
	h := sha1.New()
	h.Write(uuidNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func daemonJSON(st store.DaemonStatus, d *netplan.Daemon) DaemonJSON {
	parts := strings.SplitN(st.Key, "/", 3)
	for len(parts) < 3 {
		parts = append(parts, "")
	}
	j := DaemonJSON{
		ID: uuid5("daemon/" + st.Key), TenantID: uuid5("tenant/" + parts[0]), WebrootID: uuid5("webroot/" + parts[0] + "/" + parts[1]),
		Key: st.Key, Name: parts[2], Status: st.Status, Reason: st.Reason, CreatedAt: st.CreatedAt, UpdatedAt: st.UpdatedAt,
		Node: st.Node, PIDs: st.PIDs, Revision: st.Revision, Environment: map[string]string{},
	}
	if j.PIDs == nil {
		j.PIDs = []int{}
	}
	if st.Status == StatusFailed && !st.NextRetry.IsZero() {
		t := st.NextRetry
		j.NextRetry = &t
	}
	if d == nil {
		return j
	}
	j.Command, j.NumProcs, j.StopSignal, j.StopWaitSecs, j.Enabled = d.Command, d.NumProcs, d.StopSignal, d.StopWaitSecs, d.Enabled
	j.Host = d.Host.String()
	if d.ProxyPath != "" {
		p, port := d.ProxyPath, d.Port
		j.ProxyPath, j.ProxyPort = &p, &port
	}
	if d.MaxMemoryMB > 0 {
		m := d.MaxMemoryMB
		j.MaxMemoryMB = &m
	}
	if d.MaxOpenFiles > 0 {
		n := d.MaxOpenFiles
		j.MaxOpenFiles = &n
	}
	for k := range d.Environment {
		j.Environment[k] = Redacted
	}
	return j
}

// Serve serves the local API on a root-only unix socket and, when
// configured, metrics on their TCP address, until ctx ends.
func (a *Agent) Serve(ctx context.Context) error {
	sock := a.cfg.API.Socket
	if err := os.MkdirAll(filepath.Dir(sock), 0o755); err != nil {
		return err
	}
	if err := os.Remove(sock); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	ln, err := net.Listen("unix", sock)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", sock, err)
	}
	if err := os.Chmod(sock, 0o600); err != nil {
		ln.Close()
		return err
	}
	servers := []*http.Server{{Handler: a.apiHandler()}}
	go servers[0].Serve(ln)
	go a.eventLoop(ctx)
	if addr := a.cfg.API.MetricsListen; addr != "" {
		mln, err := net.Listen("tcp", addr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics on %s: %w", addr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{}))
		srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		go srv.Serve(mln)
	}
	if addr := a.cfg.API.WebhookListen; addr != "" {
		// Limits and timeouts against unauthenticated clients: webhook.go.
		srv, wln, err := a.listenWebhook(addr, webhookDefaults)
		if err != nil {
			ln.Close()
			return err
		}
		servers = append(servers, srv)
		go srv.Serve(wln)
	}
	go func() {
		<-ctx.Done()
		for _, s := range servers {
			s.Close()
		}
		os.Remove(sock)
	}()
	return nil
}

func (a *Agent) apiHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /v1/status", func(w http.ResponseWriter, r *http.Request) {
		s, err := a.Status()
		reply(w, s, err)
	})
	mux.HandleFunc("GET /v1/daemons", func(w http.ResponseWriter, r *http.Request) {
		d, err := a.Daemons()
		reply(w, d, err)
	})
	mux.HandleFunc("GET /v1/daemons/{tenant}/{webroot}/{daemon}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("tenant") + "/" + r.PathValue("webroot") + "/" + r.PathValue("daemon")
		all, err := a.Daemons()
		if err != nil {
			reply(w, nil, err)
			return
		}
		i := sort.Search(len(all), func(i int) bool { return all[i].Key >= key })
		if i == len(all) || all[i].Key != key {
			httpError(w, http.StatusNotFound, fmt.Sprintf("daemon %s does not run on node %s", key, a.cfg.Node))
			return
		}
		reply(w, all[i], nil)
	})
	mux.HandleFunc("POST /v1/daemons/{tenant}/{webroot}/{daemon}/retry", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("tenant") + "/" + r.PathValue("webroot") + "/" + r.PathValue("daemon")
		ok, err := a.Retry(key)
		if err == nil && !ok {
			httpError(w, http.StatusNotFound, fmt.Sprintf("daemon %s does not run on node %s", key, a.cfg.Node))
			return
		}
		reply(w, map[string]string{"retrying": key}, err)
	})
	mux.HandleFunc("POST /v1/reconcile", func(w http.ResponseWriter, r *http.Request) {
		// A client that goes away must not cut a pass short; the restarts
		// it started are waited for, as long as the client waits.
		res := a.Reconcile(context.WithoutCancel(r.Context()), true)
		a.settleInto(r.Context(), res)
		reply(w, reconcileJSON(res), nil)
	})
	mux.HandleFunc("POST /v1/events", a.handleEvent)
	return mux
}

func reconcileJSON(res *Result) ReconcileJSON {
	j := ReconcileJSON{Revision: res.Revision, Outcome: string(res.Outcome), Changes: res.Changes, Failed: res.Failed}
	if j.Changes == nil {
		j.Changes = []string{}
	}
	if res.Err != nil {
		j.Error = res.Err.Error()
	}
	return j
}

func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		httpError(w, http.StatusInternalServerError, err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
