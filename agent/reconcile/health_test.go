package reconcile

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/localapi"
)

// healthy is a proxied daemon with a health block of the given path.
func healthy(name, path string) string {
	return fake.Daemon(name, `      proxy_path = "/`+name+`"
      health {
        path     = "`+path+`"
        interval = "5s"
        failures = 2
      }`)
}

// The checker is given the proxied daemons with a health block, each at
// its $HOST:$PORT with its webroot's server name as Host.
func TestHealthTargets(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(healthy("web", "/healthz?db=1"), fake.Proxied("api", "/api"), fake.Daemon("queue", "")))
	h.reconcile(OutcomeApplied)
	h.rec.mu.Lock()
	targets := healthTargets(h.rec.plan)
	web := h.rec.daemon("acme/main/web")
	h.rec.mu.Unlock()
	if len(targets) != 1 {
		t.Fatalf("targets %+v, want acme/main/web only", targets)
	}
	tg := targets[0]
	if tg.Key != "acme/main/web" || tg.Addr.Addr() != web.Host || int(tg.Addr.Port()) != web.Port || tg.Host != "acme.example.com" {
		t.Errorf("target %+v, want %s:%d with Host acme.example.com", tg, web.Host, web.Port)
	}
	if c := tg.Check; c.Path != "/healthz?db=1" || c.Interval.Seconds() != 5 || c.Timeout.Seconds() != 2 || c.Failures != 2 {
		t.Errorf("check %+v", c)
	}
	if _, _, ok := h.rec.health.State("acme/main/web"); !ok {
		t.Errorf("the checker was not given the plan's targets")
	}
}

// An unhealthy daemon is restarted through the rollout: a new PID, its
// reason while the restart is under way, the restart counted as
// "unhealthy"; the checker sees the new run.
func TestHealthRestartThroughRollout(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(healthy("web", "/up"), healthy("api", "/up")))
	h.reconcile(OutcomeApplied)
	h.wantSupervisor("daemon-acme-api:daemon-acme-api RUNNING pid=1001\ndaemon-acme-web:daemon-acme-web RUNNING pid=1002\n")
	ds := healthDaemons{h.rec}
	run, ok := ds.Running("acme/main/web")
	if !ok || run.PID != 1002 {
		t.Fatalf("Running: %+v %v, want pid 1002", run, ok)
	}
	if !ds.Restart("acme/main/web", "HTTP 500: down") {
		t.Fatal("Restart refused")
	}
	if st := h.statuses()["acme/main/web"]; st.Reason != reasonUnhealthy+"HTTP 500: down" || !settling(st) {
		t.Errorf("web while restarting: %+v", st)
	}
	if _, ok := ds.Running("acme/main/web"); ok {
		t.Errorf("a daemon being restarted runs for the checker")
	}
	h.rec.Settle(context.Background(), &Result{})
	h.wantSupervisor("daemon-acme-api:daemon-acme-api RUNNING pid=1001\ndaemon-acme-web:daemon-acme-web RUNNING pid=1003\n")
	if run2, ok := ds.Running("acme/main/web"); !ok || run2.PID != 1003 {
		t.Errorf("after the restart: %+v %v, want pid 1003", run2, ok)
	}
	rec := httptest.NewRecorder()
	h.rec.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{`drover_program_restarts_total{kind="unhealthy"} 1`, `drover_health_checked_daemons 2`,
		`drover_health_unhealthy_daemons 0`, `drover_health_probes_total{result="timeout"} 0`} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if ds.Restart("acme/main/nope", "x") {
		t.Error("Restart of a daemon not on this node")
	}
}

// A daemon that is not running is not restarted (it may have stopped
// since the probe).
func TestHealthRestartRefusesStopped(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(fake.Daemon("web", `      proxy_path = "/web"
      enabled = false
      health { path = "/up" }`)))
	h.reconcile(OutcomeApplied)
	if (healthDaemons{h.rec}).Restart("acme/main/web", "x") {
		t.Error("a disabled daemon was restarted")
	}
	if _, ok := (healthDaemons{h.rec}).Running("acme/main/web"); ok {
		t.Error("a disabled daemon runs for the checker")
	}
}

// Changing only the health block restarts nothing: it is not part of the
// program; the checker probes with the new block.
func TestHealthChangeRestartsNothing(t *testing.T) {
	h := newHarness(t)
	h.src.Commit(fake.Repo(healthy("web", "/up")))
	h.reconcile(OutcomeApplied)
	h.src.Commit(fake.Repo(healthy("web", "/ready")))
	res := h.reconcile(OutcomeApplied)
	for _, c := range res.Changes {
		if strings.Contains(c, "program") {
			t.Errorf("change %q", c)
		}
	}
	h.wantSupervisor("daemon-acme-web:daemon-acme-web RUNNING pid=1001\n")
	if _, c, _ := h.rec.health.State("acme/main/web"); c.Path != "/ready" {
		t.Errorf("the checker probes %q, want /ready", c.Path)
	}
	ds, _ := h.rec.Daemons()
	if hl := ds[0].Health; hl == nil || hl.Path != "/ready" || hl.Status != localapi.HealthNotChecked {
		t.Errorf("API health %+v", hl)
	}
}
