package reconcile

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/repogen/gen"
)

// growthSizes are the daemon counts BenchmarkAgentPass runs at. Those above
// 15,000 take minutes each (generating and committing the repository, the
// first pass) and run only when DROVER_BENCH_LARGE is set:
//
//	DROVER_BENCH_LARGE=1 go test ./agent/reconcile -run '^$' \
//	    -bench 'AgentPass/daemons=100000/' -benchmem -timeout 1h
var growthSizes = []int{1000, 15000, 50000, 100000}

// largeSize is the largest size a plain `make bench` runs.
const largeSize = 15000

// BenchmarkAgentPass is an agent pass on web-1a of the generated repository
// at several sizes (3 daemons per tenant, one shard of 10 nodes, so about a
// tenth of the daemons are placed here), with the real Git source and
// bbolt store and fakes for the file system and supervisord:
//
//   - first: a new agent on an empty node (the fetch included);
//   - one-change: one commit changing one daemon placed here;
//   - noop: a poll with the head unchanged.
//
// heap-MB is the live heap once the last pass is done and collected: the
// agent's state, plus the fake file system's copy of the node's files;
// frag-MB the heap's space beside it that the runtime cannot give back.
func BenchmarkAgentPass(b *testing.B) {
	if _, err := exec.LookPath("git"); err != nil {
		b.Skip("needs git")
	}
	for _, n := range growthSizes {
		b.Run("daemons="+strconv.Itoa(n), func(b *testing.B) {
			if n > largeSize && os.Getenv("DROVER_BENCH_LARGE") == "" {
				b.Skip("set DROVER_BENCH_LARGE=1 to run sizes above 15,000 daemons")
			}
			r := newGrowthRepo(b, n)
			b.Run("first", func(b *testing.B) {
				var a *Reconciler
				done := func() {}
				for b.Loop() {
					b.StopTimer()
					done() // one node at a time, so heap-MB is one node's
					a, done = r.node(b)
					b.StartTimer()
					if res := a.Reconcile(context.Background(), false); res.Outcome != OutcomeApplied {
						b.Fatalf("first pass: %s %v", res.Outcome, res.Err)
					}
				}
				reportHeap(b, a)
				done()
			})
			b.Run("one-change", func(b *testing.B) {
				a := r.warmNode(b)
				prog := a.plan.Programs[0]
				for b.Loop() {
					b.StopTimer()
					r.changeDaemon(b, prog.Tenant, prog.Name)
					b.StartTimer()
					res := a.Reconcile(context.Background(), false)
					if res.Outcome != OutcomeApplied || len(res.Changes) == 0 {
						b.Fatalf("one-change pass: %s %v, changes %v", res.Outcome, res.Err, res.Changes)
					}
				}
				reportHeap(b, a)
			})
			b.Run("noop", func(b *testing.B) {
				a := r.warmNode(b)
				for b.Loop() {
					if res := a.Reconcile(context.Background(), false); res.Outcome != OutcomeUnchanged {
						b.Fatalf("no-op pass: %s %v", res.Outcome, res.Err)
					}
				}
				reportHeap(b, a)
			})
		})
	}
}

// reportHeap reports the live heap with a still in use. With
// DROVER_BENCH_HEAP=DIR set it also writes that heap's profile to
// DIR/NAME.pprof (NAME the benchmark's, slashes made dashes), to see
// what the agent keeps:
//
//	go tool pprof -sample_index=inuse_space -top DIR/NAME.pprof
func reportHeap(b *testing.B, a *Reconciler) {
	b.StopTimer()
	runtime.GC()         // a collection and its sweep done
	debug.FreeOSMemory() // what it freed given back, as the agent does
	s := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	rtmetrics.Read(s)
	b.ReportMetric(float64(s[0].Value.Uint64())/(1<<20), "heap-MB")
	// frag-MB is span space holding no object, which the runtime cannot
	// give back while another object of the span lives.
	b.ReportMetric(float64(s[1].Value.Uint64())/(1<<20), "frag-MB")
	if dir := os.Getenv("DROVER_BENCH_HEAP"); dir != "" {
		writeHeapProfile(b, filepath.Join(dir, strings.ReplaceAll(b.Name(), "/", "-")+".pprof"))
	}
	runtime.KeepAlive(a)
}

// writeHeapProfile writes the heap's profile as of the last collection.
func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

// growthRepo is a generated repository committed to a local Git
// repository, the source of the nodes of a benchmark.
type growthRepo struct {
	dir     string
	opts    gen.Options
	changes int // committed by changeDaemon
}

// newGrowthRepo generates about daemons daemons: 3 per tenant, one shard
// of 10 nodes.
func newGrowthRepo(b *testing.B, daemons int) *growthRepo {
	r := &growthRepo{dir: filepath.Join(b.TempDir(), "repo"),
		opts: gen.Options{Tenants: (daemons + 2) / 3, DaemonsPerTenant: 3, Nodes: 10, Shards: 1, Seed: 1}}
	if err := gen.Generate(r.dir, r.opts); err != nil {
		b.Fatal(err)
	}
	r.git(b, "init", "-q", "-b", "main")
	r.git(b, "add", "-A")
	r.git(b, "commit", "-q", "-m", "load")
	return r
}

func (r *growthRepo) git(b *testing.B, args ...string) {
	b.Helper()
	cmd := exec.Command("git", append([]string{"-C", r.dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=b", "GIT_AUTHOR_EMAIL=b@b", "GIT_COMMITTER_NAME=b", "GIT_COMMITTER_EMAIL=b@b")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("git %v: %v %s", args, err, out)
	}
}

// changeDaemon commits a change to the command of one daemon (its exec
// spec changes, so it is owed a restart); every change is new, also
// across the runs of -count.
func (r *growthRepo) changeDaemon(b *testing.B, tenant, daemon string) {
	b.Helper()
	r.changes++
	i := r.changes
	path := filepath.Join(r.dir, "tenants", tenant+".hcl")
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	s := string(data)
	at := strings.Index(s, fmt.Sprintf("daemon %q {", daemon))
	cmd := strings.Index(s[max(at, 0):], "command ")
	quote := strings.Index(s[max(at+cmd, 0):], `"`)
	if at < 0 || cmd < 0 || quote < 0 {
		b.Fatalf("no command for daemon %s in %s", daemon, path)
	}
	start := at + cmd + quote + 1
	rest := s[start:]
	if strings.HasPrefix(rest, "BENCH=") {
		rest = rest[strings.Index(rest, " ")+1:]
	}
	s = s[:start] + fmt.Sprintf("BENCH=%d ", i) + rest
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		b.Fatal(err)
	}
	r.git(b, "commit", "-q", "-am", "one daemon")
}

// node is a new agent of web-1a on an empty node: its own Git cache and
// store, fakes for the file system and supervisord, and every generated
// tenant a local user (t{i} has uid 10000+i). done closes it and removes
// its files.
func (r *growthRepo) node(b *testing.B) (a *Reconciler, done func()) {
	b.Helper()
	dir, err := os.MkdirTemp("", "drover-bench-node")
	if err != nil {
		b.Fatal(err)
	}
	a, _, _, closeAgent := benchAgent(b, r.dir, dir, r.opts.Tenants)
	return a, func() {
		closeAgent()
		os.RemoveAll(dir)
	}
}

// warmNode is node after its first pass, closed when b ends.
func (r *growthRepo) warmNode(b *testing.B) *Reconciler {
	b.Helper()
	a, done := r.node(b)
	b.Cleanup(done)
	if res := a.Reconcile(context.Background(), false); res.Outcome != OutcomeApplied {
		b.Fatalf("first pass: %s %v", res.Outcome, res.Err)
	}
	return a
}
