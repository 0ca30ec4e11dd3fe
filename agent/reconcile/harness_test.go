package reconcile

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/failover"
	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/network"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
)

// harness is a reconciler wired to fakes, with a real bbolt store in a temp
// dir.
type harness struct {
	t     *testing.T
	rec   *Reconciler
	src   *fake.Source
	fs    *fake.FS
	sup   *supervisor.Fake
	nginx *fake.Nginx
	store *store.Store
	clock time.Time
	cfg   *config.Config
	stDir string
	// accounts is the node's passwd database: every tenant the tests use.
	accounts fake.Accounts
	// loading is Deps.Loading of every reconciler the harness builds.
	loading func(rev string)
	// live, when set before the reconciler is built, is the pool's
	// timeline it places with (Deps.Liveness), read at the harness's clock.
	live *failover.Timeline
	// verify, when set before the reconciler is built, is its Deps.Verify.
	verify Verifier
	// secrets is the node's age key of every reconciler the harness
	// builds (Deps.Secrets).
	secrets []age.Identity
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	cfg := fake.Config()
	h := &harness{t: t, src: fake.NewSource(), fs: fake.NewFS(), sup: supervisor.NewFake(), nginx: &fake.Nginx{},
		clock: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), cfg: cfg, stDir: t.TempDir(),
		accounts: fake.Accounts{10042: "acme", 20000: "other"}}
	h.fs.SupDir = cfg.Supervisor.ConfDir
	h.fs.OnWrite = h.sup.SetFiles
	h.openStore()
	h.newReconciler()
	return h
}

func (h *harness) openStore() {
	st, err := store.Open(filepath.Join(h.stDir, "drover.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		h.t.Fatal(err)
	}
	h.store = st
	h.t.Cleanup(func() { st.Close() })
}

func (h *harness) newReconciler() { h.newReconcilerWith(nil) }

// newReconcilerWith is newReconciler keeping a network fake (a restarted
// agent).
func (h *harness) newReconcilerWith(net network.Applier) {
	var liveness func() *failover.Snapshot
	if h.live != nil {
		liveness = func() *failover.Snapshot { return h.live.At(h.clock) }
	}
	h.rec = New(h.cfg, Deps{Liveness: liveness, Store: h.store, Source: h.src, FS: h.fs, Supervisor: h.sup, Runner: h.nginx, Network: net, Verify: h.verify,
		Log: slog.New(slog.DiscardHandler), Now: func() time.Time { return h.clock }, Accounts: h.readAccounts, Secrets: h.secrets,
		Loading: func(rev string) {
			if h.loading != nil {
				h.loading(rev)
			}
		}})
	h.t.Cleanup(h.rec.Close)
}

func (h *harness) readAccounts() (launch.Accounts, error) { return h.accounts, nil }

// reconcile runs one pass and fails the test on an unexpected outcome.
func (h *harness) reconcile(want Outcome) *Result {
	h.t.Helper()
	res := h.rec.Reconcile(context.Background(), false)
	h.rec.Settle(context.Background(), res)
	if res.Outcome != want {
		h.t.Fatalf("outcome %s (err %v, failed %v), want %s", res.Outcome, res.Err, res.Failed, want)
	}
	return res
}

func (h *harness) statuses() map[string]store.DaemonStatus {
	h.t.Helper()
	d, err := h.store.Daemons()
	if err != nil {
		h.t.Fatal(err)
	}
	return d
}

// supervisorFakeWith is supervisord booted after a reboot, with the files
// the harness has now.
func supervisorFakeWith(h *harness) *supervisor.Fake {
	f := supervisor.NewFake()
	h.fs.OnWrite = f.SetFiles
	h.fs.Changed(h.fs.SupDir + "/x")
	if err := f.Boot(); err != nil {
		h.t.Fatal(err)
	}
	return f
}
