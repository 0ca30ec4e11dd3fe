package reconcile

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/internal/fake"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/localapi"
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
	a, fs, sup := bigNode(b)
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

// bigNode is a reconciler of web-1a over the 15,000-daemon generated
// repository (about 3,000 programs placed here), with the real Git source
// and bbolt store, and fakes for the file system and supervisord.
func bigNode(b *testing.B) (*Reconciler, *fake.FS, *supervisor.Fake) {
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
	a, fs, sup, done := benchAgent(b, repo, dir, gen.Default.Tenants)
	b.Cleanup(done)
	return a, fs, sup
}

// benchAgent is a reconciler of web-1a on an empty node for the generated
// repository at repoURL with tenants tenants: its Git cache and store in
// dir, fakes for the file system and supervisord, and every generated
// tenant a local user (t{i} has uid 10000+i). done closes it.
func benchAgent(b *testing.B, repoURL, dir string, tenants int) (a *Reconciler, fs *fake.FS, sup *supervisor.Fake, done func()) {
	b.Helper()
	cfg, _, diags := config.Parse("agent.hcl", []byte(fmt.Sprintf("node = \"web-1a\"\nsource { url = %q }\n", repoURL)))
	if diags.HasErrors() {
		b.Fatal(diags)
	}
	st, err := store.Open(filepath.Join(dir, "drover.db"), slog.New(slog.DiscardHandler))
	if err != nil {
		b.Fatal(err)
	}
	src, err := source.New(source.Options{URL: repoURL, CacheDir: filepath.Join(dir, "cache")})
	if err != nil {
		b.Fatal(err)
	}
	fs, sup = fake.NewFS(), supervisor.NewFake()
	fs.SupDir, fs.OnWrite = cfg.Supervisor.ConfDir, sup.SetFiles
	accounts := fake.Accounts{}
	for i := range tenants {
		accounts[uint32(10000+i)] = gen.TenantName(i)
	}
	a = New(cfg, Deps{Store: st, Source: src, FS: fs, Supervisor: sup, Runner: &fake.Nginx{}, Log: slog.New(slog.DiscardHandler),
		Accounts: func() (launch.Accounts, error) { return accounts, nil }})
	return a, fs, sup, func() {
		a.Close()
		st.Close()
	}
}

// BenchmarkExitBurst is every process of a 3,000-program node ending at
// once (exit status 0): one batch of events, each program observed, its
// exit recorded and the program started again (StartProcesses), all of it
// in a few multicalls and store transactions. Reported per burst.
func BenchmarkExitBurst(b *testing.B) {
	a, _, sup := bigNode(b)
	ctx := context.Background()
	if res := a.Reconcile(ctx, false); res.Outcome != OutcomeApplied {
		b.Fatalf("first pass: %s %v", res.Outcome, res.Err)
	}
	var events []localapi.Event
	var procs []string
	for _, d := range a.plan.Programs {
		if !d.Enabled {
			continue
		}
		for _, name := range processNames(d) {
			procs = append(procs, name)
			group, proc, _ := strings.Cut(name, ":")
			events = append(events, localapi.Event{Group: group, Process: proc, State: "EXITED"})
		}
	}
	b.Logf("%d programs, %d processes that run", len(a.plan.Programs), len(procs))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		for _, name := range procs {
			sup.Exit(name, 0, "")
		}
		// A second of supervisord's whole-second clock apart from the
		// last burst, as real exits are.
		time.Sleep(1100 * time.Millisecond)
		b.StartTimer()
		a.ProcessEvents(ctx, events)
	}
	b.StopTimer()
	for _, d := range a.plan.Programs {
		if st := a.snap.Load().statuses[d.Key]; d.Enabled && st.Restarts == 0 {
			b.Fatalf("%s not started again: %+v", d.Key, st)
		}
	}
}
