package agent

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/reconcile"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
)

// harness is an agent whose reconciler is wired to fakes, with a real bbolt
// store in a temp dir (agent/reconcile's tests drive passes in depth; these
// drive the loop's side: the API, the listeners).
type harness struct {
	t     *testing.T
	agent *Agent
	src   *fake.Source
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	cfg := fake.Config()
	st, err := store.Open(filepath.Join(t.TempDir(), "drover.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	h := &harness{t: t, src: fake.NewSource()}
	fs, sup := fake.NewFS(), supervisor.NewFake()
	fs.SupDir, fs.OnWrite = cfg.Supervisor.ConfDir, sup.SetFiles
	accounts := fake.Accounts{10042: "acme"}
	h.agent = New(cfg, reconcile.Deps{Store: st, Source: h.src, FS: fs, Supervisor: sup, Runner: &fake.Nginx{},
		Log: slog.New(slog.DiscardHandler), Accounts: func() (launch.Accounts, error) { return accounts, nil }})
	t.Cleanup(h.agent.Close)
	return h
}

// reconcile runs one pass and fails the test on an unexpected outcome.
func (h *harness) reconcile(want reconcile.Outcome) {
	h.t.Helper()
	res := h.agent.rec.Reconcile(context.Background(), false)
	h.agent.rec.Settle(context.Background(), res)
	if res.Outcome != want {
		h.t.Fatalf("outcome %s (err %v, failed %v), want %s", res.Outcome, res.Err, res.Failed, want)
	}
}

// triggered reports (and clears) whether a pass was asked of the loop.
func (h *harness) triggered() bool {
	select {
	case <-h.agent.wake:
		return true
	default:
		return false
	}
}
