package agent

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// EventJSON is what `drover supervisor-events` posts to /v1/events for each
// PROCESS_STATE change supervisord pushes: no polling of every process.
type EventJSON struct {
	Group   string `json:"group"`
	Process string `json:"process"`
	State   string `json:"state"`
	PID     int    `json:"pid"`
}

func (a *Agent) handleEvent(w http.ResponseWriter, r *http.Request) {
	var ev EventJSON
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&ev); err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	a.ProcessEvent(r.Context(), ev)
	w.WriteHeader(http.StatusNoContent)
}

// ProcessEvent updates the status of the daemon a supervisord event is
// about, asking supervisord (getProcessInfo) only about that program.
func (a *Agent) ProcessEvent(ctx context.Context, ev EventJSON) {
	if !strings.HasPrefix(ev.Group, "daemon-") {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.plan == nil {
		return
	}
	var d *netplan.Daemon
	for _, p := range a.plan.Programs {
		if p.Program == ev.Group {
			d = p
		}
	}
	if d == nil {
		return
	}
	statuses, err := a.store.Daemons()
	if err != nil {
		return
	}
	st, ok := statuses[d.Key]
	if !ok {
		return
	}
	old := st
	now := a.now()
	if st.Status == StatusFailed && !processFailure(st.Reason) {
		// An apply failure (nginx, a write) is not the process's to clear:
		// the retry of the apply will.
		return
	}
	if !d.Enabled {
		st.Status, st.Reason, st.PIDs = StatusStopped, "disabled", nil
	} else {
		// The event says something changed; supervisord says what is true
		// now (events arrive late, e.g. STOPPED after drover restarted it).
		o := a.observe(ctx, []*netplan.Daemon{d}, now)[d.Key]
		st.Status, st.Reason, st.PIDs = o.status, o.reason, o.pids
		if strings.HasPrefix(st.Reason, "supervisord: ") {
			return // supervisord did not answer (shutting down): nothing learned
		}
	}
	if st.Status == old.Status && st.Reason == old.Reason && equalInts(st.PIDs, old.PIDs) {
		return
	}
	if st.Status != old.Status {
		st.Since = now
		a.log.Info("daemon status changed", "daemon", d.Key, "from", old.Status, "to", st.Status, "reason", st.Reason)
	}
	st.UpdatedAt = now
	if st.Status == StatusFailed {
		if old.Status != StatusFailed {
			st.Attempts = 0
		}
		st.Attempts++
		st.NextRetry = now.Add(backoff(st.Attempts))
		if a.retryAt.IsZero() || st.NextRetry.Before(a.retryAt) {
			a.retryAt = st.NextRetry
		}
	} else {
		st.Attempts, st.NextRetry = 0, time.Time{}
	}
	if err := a.store.Record(store.Change{At: now, Daemons: []store.DaemonStatus{st}}); err != nil {
		a.log.Error("record daemon status", "daemon", d.Key, "error", err)
	}
	a.updateGauges()
	a.Trigger() // wake the loop: a new retry time may be due earlier
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
