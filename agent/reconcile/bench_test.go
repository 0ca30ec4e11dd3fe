package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/internal/repogen/gen"
)

// BenchmarkReconcileNoop is a poll with the head unchanged on a node of the
// 15,000-daemon generated repository (about 3,000 of them placed here): the
// real Git source on a local repository and the real bbolt store, fakes for
// the file system and supervisord. Target: under 5 ms, with no write and no
// supervisord call (asserted).
func BenchmarkReconcileNoop(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("needs git")
	}
	dir := b.TempDir()
	repo := filepath.Join(dir, "repo")
	if err := gen.Generate(repo, gen.Default); err != nil {
		b.Fatal(err)
	}
	for _, args := range [][]string{{"init", "-q", "-b", "main"}, {"add", "-A"}, {"commit", "-q", "-m", "load"}} {
		cmd := exec.Command("git", append([]string{"-C", repo}, args...)...)
		cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
			"GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@b", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@b")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("git %v: %v %s", args, err, out)
		}
	}
	cfg, _, diags := config.Parse("agent.hcl", []byte(fmt.Sprintf("node = \"web-1a\"\nsource { url = %q }\n", repo)))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	st, err := store.Open(filepath.Join(dir, "drover.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	src, err := source.New(source.Options{URL: repo, CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		b.Fatal(err)
	}
	fs, sup := fake.NewFS(), supervisor.NewFake()
	fs.SupDir, fs.OnWrite = cfg.Supervisor.ConfDir, sup.SetFiles
	// Every generated tenant is a local user: t{i} has uid 10000+i.
	accounts := fake.Accounts{}
	for i := range gen.Default.Tenants {
		accounts[uint32(10000+i)] = gen.TenantName(i)
	}
	a := New(cfg, Deps{Store: st, Source: src, FS: fs, Supervisor: sup, Runner: &fake.Nginx{}, Log: slog.New(slog.DiscardHandler),
		Accounts: func() (launch.Accounts, error) { return accounts, nil }})
	ctx := context.Background()
	start := time.Now()
	if res := a.Reconcile(ctx, false); res.Outcome != OutcomeApplied {
		b.Fatalf("first pass: %s %v", res.Outcome, res.Err)
	}
	b.Logf("first pass over %d programs: %v", len(a.plan.Programs), time.Since(start))
	writes, calls := fs.Writes, fmt.Sprint(sup.Calls())
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if res := a.Reconcile(ctx, false); res.Outcome != OutcomeUnchanged {
			b.Fatalf("no-op pass: %s %v", res.Outcome, res.Err)
		}
	}
	b.StopTimer()
	if fs.Writes != writes || fmt.Sprint(sup.Calls()) != calls {
		b.Fatalf("a no-op pass wrote files (%d → %d) or called supervisord (%s → %v)", writes, fs.Writes, calls, sup.Calls())
	}
}
