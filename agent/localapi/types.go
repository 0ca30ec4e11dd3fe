// Package localapi is the agent's local API: the wire types of its answers,
// the HTTP handler the agent serves on its root-only unix socket, and the
// Client the CLI talks to it with. It imports nothing of drover's, so the
// CLI can talk to a running agent without linking the agent's internals,
// and the agent serves it through the narrow Node interface (server.go).
//
// The JSON field names are a contract (design.md §8): scripts parse them.
package localapi

import "time"

// Status is GET /v1/status: the node as a whole.
type Status struct {
	Node          string     `json:"node"`
	Head          string     `json:"head"`
	Revision      string     `json:"revision"`
	AppliedAt     time.Time  `json:"applied_at"`
	LastResult    Outcome    `json:"last_result"`
	LastError     string     `json:"last_error,omitempty"`
	LastReconcile time.Time  `json:"last_reconcile"`
	SourceError   string     `json:"source_error,omitempty"`
	NetworkError  string     `json:"network_error,omitempty"`
	Network       *Network   `json:"network,omitempty"`
	Rejected      *Rejection `json:"rejected,omitempty"`
	// Restarts is the rollout in progress, absent when there is none.
	Restarts *Restarts      `json:"restarts,omitempty"`
	Daemons  map[string]int `json:"daemons"`
	History  []History      `json:"history"`
	// Conditions are the node's problems that break every daemon of a
	// kind (supervisord, the network, nginx), most fundamental first;
	// empty when there is none.
	Conditions []Condition `json:"conditions"`
	// Pool is the shard's pool as this node sees it; absent without a
	// pool block.
	Pool *Pool `json:"pool,omitempty"`
	// Suspension is the hold on the node; absent when it applies new
	// revisions.
	Suspension *Suspension `json:"suspension,omitempty"`
}

// Condition is one problem of the node as a whole: its stable name (for
// scripts and the drover_node_condition metric), what is wrong, and what
// to do.
type Condition struct {
	Name    string `json:"name"`
	Problem string `json:"problem"`
	Fix     string `json:"fix"`
}

// Restarts is the progress of the background restarts: programs waiting,
// programs between stop and started, and programs done since the agent
// started.
type Restarts struct {
	Queued   int `json:"queued"`
	InFlight int `json:"in_flight"`
	Done     int `json:"done"`
}

// Network summarises the node's tenant networking (with a network block):
// what the agent keeps applied.
type Network struct {
	TenantInterface  string `json:"tenant_interface"`
	TransitInterface string `json:"transit_interface"`
	Transit          string `json:"transit"`
	Addresses        int    `json:"addresses"`
	Routes           int    `json:"routes"`
	NftTable         string `json:"nft_table"`
	DriftRepairs     int    `json:"drift_repairs"`
}

// Rejection is the head revision rejected as invalid.
type Rejection struct {
	Revision    string `json:"revision"`
	Diagnostics string `json:"diagnostics"`
}

// History is one recent reconcile that changed something.
type History struct {
	Revision string    `json:"revision"`
	At       time.Time `json:"at"`
	Result   string    `json:"result"`
	Summary  string    `json:"summary"`
	// Repeats counts the passes after this one that ended the same way in
	// a row; Last is when the last did (null when none).
	Repeats int        `json:"repeats"`
	Last    *time.Time `json:"last"`
}

// Daemon is one daemon of GET /v1/daemons, with the seed's response fields
// and drover's own (node, host, pids, revision, reason).
type Daemon struct {
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
	Restart      string            `json:"restart"`
	Environment  map[string]string `json:"environment"`
	EnvFile      *string           `json:"env_file"`
	// RestartOnChange is the file whose new content restarts the daemon.
	RestartOnChange *string `json:"restart_on_change"`
	// Health is the daemon's health check and what its probes say; null
	// without a health block.
	Health    *Health   `json:"health"`
	Enabled   bool      `json:"enabled"`
	Singleton bool      `json:"singleton"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	Node      string    `json:"node"`
	// FailoverFrom is the node the daemon is configured on when it runs
	// here because that node is out of the pool (design.md §6.13).
	FailoverFrom string     `json:"failover_from,omitempty"`
	Host         string     `json:"host"`
	PIDs         []int      `json:"pids"`
	Revision     string     `json:"revision"`
	NextRetry    *time.Time `json:"next_retry,omitempty"`
	// Restarts counts the starts after a process ended; FailedRuns the
	// failed runs in a row; LastExit is how a process last ended and
	// Stderr the end of its stderr then (the tenant's output, cleaned).
	Restarts int `json:"restarts"`
	// RestartedByOperator is when drover restart last restarted it.
	RestartedByOperator *time.Time `json:"restarted_by_operator,omitempty"`
	FailedRuns          int        `json:"failed_runs"`
	LastExit            *Exit      `json:"last_exit"`
	Stderr              string     `json:"stderr,omitempty"`
	Since               time.Time  `json:"since"`
	// Settling is true while the daemon is on its way to another state:
	// its processes starting or started again, or a restart queued.
	Settling bool `json:"settling"`
}

// Health is a daemon's health check (its health block, durations as
// "10s") and what the agent's probes of it say.
type Health struct {
	Path        string `json:"path"`
	Interval    string `json:"interval"`
	Timeout     string `json:"timeout"`
	Failures    int    `json:"failures"`
	StartPeriod string `json:"start_period"`
	// Status is healthy, unhealthy or "not checked" (the daemon does not
	// run, or its first probe has not come yet).
	Status string `json:"status"`
	// Reason is why the last probe failed, while unhealthy: the agent's
	// words with the start of the daemon's answer, cleaned and bounded.
	Reason string `json:"reason,omitempty"`
	// Since is when Status last changed; LastProbe when the last probe
	// ended (absent before the first).
	Since     *time.Time `json:"since,omitempty"`
	LastProbe *time.Time `json:"last_probe,omitempty"`
	// FailuresInARow counts the failed probes in a row of this run.
	FailuresInARow int `json:"failures_in_a_row"`
	// Restarts counts the health restarts in a row; NextRestart is the
	// earliest time of the next one (absent when it may come at once).
	Restarts    int        `json:"restarts"`
	NextRestart *time.Time `json:"next_restart,omitempty"`
}

// The values of Health.Status.
const (
	HealthHealthy    = "healthy"
	HealthUnhealthy  = "unhealthy"
	HealthNotChecked = "not checked"
)

// Exit is how a daemon's process ended.
type Exit struct {
	Started time.Time `json:"started"`
	At      time.Time `json:"at"`
	// Status is the exit status, -1 when a signal killed it.
	Status int    `json:"status"`
	Text   string `json:"text"`
}

// Redacted replaces environment values in API answers: they hold secrets.
const Redacted = "(redacted)"

// Outcome is how a reconcile pass ended: the outcome of POST /v1/reconcile
// and the last_result of GET /v1/status.
type Outcome string

const (
	// OutcomeUnchanged: the head was already applied and nothing was due.
	OutcomeUnchanged Outcome = "unchanged"
	// OutcomeApplied: the node now matches the revision.
	OutcomeApplied Outcome = "applied"
	// OutcomeRejected: the revision is invalid, or refused by the trust
	// policy, and was not applied at all.
	// Stalled until the input changes: retrying cannot help.
	OutcomeRejected Outcome = "rejected"
	// OutcomeFailed: part of the revision could not be applied; failed work
	// is retried with backoff.
	OutcomeFailed Outcome = "failed"
	// OutcomeUnreachable: the source could not be read; the node keeps what
	// it runs.
	OutcomeUnreachable Outcome = "source-unreachable"
	// OutcomeUninstalled: drover agent --uninstall removed everything.
	OutcomeUninstalled Outcome = "uninstalled"
)

// Result is the answer of POST /v1/reconcile: how the pass ended, what it
// changed (one line each) and which daemons failed, by key.
type Result struct {
	Revision string            `json:"revision"`
	Outcome  Outcome           `json:"outcome"`
	Changes  []string          `json:"changes"`
	Failed   map[string]string `json:"failed,omitempty"`
	Error    string            `json:"error,omitempty"`
	// Suspension is the hold the pass honoured: Revision is then the
	// revision the node stays at, Head the branch head it did not apply.
	Suspension *Suspension `json:"suspension,omitempty"`
	Head       string      `json:"head,omitempty"`
}

// Converged reports whether the node matches the head revision, or, while
// it is suspended, the revision it stays at.
func (r Result) Converged() bool {
	return (r.Outcome == OutcomeApplied || r.Outcome == OutcomeUnchanged) && len(r.Failed) == 0 && r.Error == ""
}

// Event is what `drover supervisor-events` posts to POST /v1/events for
// each PROCESS_STATE change supervisord pushes: no polling of every
// process.
type Event struct {
	Group   string `json:"group"`
	Process string `json:"process"`
	State   string `json:"state"`
	PID     int    `json:"pid"`
}
