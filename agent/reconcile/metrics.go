package reconcile

import (
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/drover-sh/drover/agent/nodecheck"
)

// metrics are the agent's Prometheus metrics, on a private registry served
// at api.metrics_listen.
type metrics struct {
	registry        *prometheus.Registry
	reconcileSecs   prometheus.Histogram
	reconciles      *prometheus.CounterVec
	appliedRevision *prometheus.GaugeVec
	daemons         *prometheus.GaugeVec
	fetchSeconds    prometheus.Histogram
	driftRepairs    prometheus.Counter
	sourceUp        prometheus.Gauge
	rejected        prometheus.Counter
	untrusted       prometheus.Counter
	restarts        *prometheus.CounterVec
	restartsPending prometheus.Gauge
	processRestarts prometheus.Counter
	nodeConditions  *prometheus.GaugeVec
	failovers       prometheus.Counter
	suspended       prometheus.Gauge
}

func newMetrics() *metrics {
	m := &metrics{
		registry: prometheus.NewRegistry(),
		reconcileSecs: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "drover_reconcile_duration_seconds", Help: "Duration of reconcile passes.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 2, 5, 10, 30},
		}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_reconciles_total", Help: "Reconcile passes by outcome.",
		}, []string{"outcome"}),
		appliedRevision: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_applied_revision_info", Help: "The revision the node runs (value 1).",
		}, []string{"revision"}),
		daemons: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_daemons", Help: "Daemons on this node by status.",
		}, []string{"status"}),
		fetchSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "drover_fetch_duration_seconds", Help: "Duration of Git fetches.",
			Buckets: prometheus.DefBuckets,
		}),
		driftRepairs: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drover_drift_repairs_total", Help: "Managed files repaired after being changed by hand.",
		}),
		sourceUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drover_source_up", Help: "1 when the config repository was reachable at the last attempt.",
		}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drover_rejected_revisions_total", Help: "Revisions rejected: invalid, or refused by the trust policy.",
		}),
		untrusted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drover_untrusted_revisions_total", Help: "Revisions rejected because the trust policy refuses their signatures (counted in drover_rejected_revisions_total too).",
		}),
		restarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "drover_program_restarts_total", Help: "Programs restarted or removed by drover, by kind (updated, restarted, deployed, operator restarted, unhealthy, removed, failed).",
		}, []string{"kind"}),
		restartsPending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drover_program_restarts_pending", Help: "Programs waiting for or in the middle of a restart or removal.",
		}),
		processRestarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drover_process_restarts_total", Help: "Daemons started again by drover after a process ended (restart policy).",
		}),
		nodeConditions: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "drover_node_condition", Help: "1 while the node has the condition (supervisord, network, nginx, nginx_user; drover status says what to do), 0 otherwise.",
		}, []string{"condition"}),
		failovers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "drover_failovers_total", Help: "Daemons that came to this node because the node they are configured on was out of the pool.",
		}),
		suspended: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "drover_suspended", Help: "1 while the node is suspended (drover suspend, drover rollback): it applies no new revision of the branch.",
		}),
	}
	m.registry.MustRegister(m.reconcileSecs, m.reconciles, m.appliedRevision, m.daemons,
		m.fetchSeconds, m.driftRepairs, m.sourceUp, m.rejected, m.untrusted, m.restarts, m.restartsPending, m.processRestarts,
		m.nodeConditions, m.failovers, m.suspended)
	m.setConditions(nil)
	return m
}

// setConditions sets drover_node_condition: 1 for each condition the node
// has, 0 for every other one nodecheck knows.
func (m *metrics) setConditions(conds []nodecheck.Condition) {
	for _, name := range nodecheck.Names {
		v := 0.0
		if slices.ContainsFunc(conds, func(c nodecheck.Condition) bool { return c.Name == name }) {
			v = 1
		}
		m.nodeConditions.WithLabelValues(name).Set(v)
	}
}

// RegisterMetrics adds collectors of the agent's (the pool's) to the
// metrics the reconciler serves.
func (a *Reconciler) RegisterMetrics(cs ...prometheus.Collector) {
	a.metrics.registry.MustRegister(cs...)
}

// MetricsHandler serves the metrics in Prometheus' text format.
func (a *Reconciler) MetricsHandler() http.Handler {
	return promhttp.HandlerFor(a.metrics.registry, promhttp.HandlerOpts{})
}

func (m *metrics) observeReconcile(res *Result, d time.Duration) {
	m.reconcileSecs.Observe(d.Seconds())
	m.reconciles.WithLabelValues(string(res.Outcome)).Inc()
}

// setApplied records the running revision and the daemon counts.
func (m *metrics) setApplied(rev string, counts map[string]int) {
	m.appliedRevision.Reset()
	if rev != "" {
		m.appliedRevision.WithLabelValues(rev).Set(1)
	}
	for _, s := range []string{StatusProvisioning, StatusRunning, StatusStopped, StatusCrashLooping, StatusFailed, StatusStandby} {
		m.daemons.WithLabelValues(s).Set(float64(counts[s]))
	}
}

// updateGauges sets the revision and daemon gauges from the store.
func (a *Reconciler) updateGauges() {
	rev, _, err := a.store.Applied()
	if err != nil {
		return
	}
	daemons, err := a.daemonStatuses()
	if err != nil {
		return
	}
	counts := map[string]int{}
	for _, st := range daemons {
		counts[st.Status]++
	}
	a.metrics.setApplied(rev, counts)
}
