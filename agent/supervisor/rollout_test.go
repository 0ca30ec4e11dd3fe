package supervisor

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// manyProgs is n programs named p000…, each with the extra lines.
func manyProgs(n int, lines ...string) map[string][]byte {
	var sections []string
	for i := range n {
		sections = append(sections, prog(fmt.Sprintf("p%03d", i), lines...))
	}
	return confFiles(sections...)
}

// replaceJobs are Replace jobs for the groups, one process each.
func replaceJobs(groups []string) []Job {
	var jobs []Job
	for _, g := range groups {
		procs := []string{g + ":" + g}
		jobs = append(jobs, Job{Group: g, Kind: Replace, Stop: procs, Procs: procs, Autostart: true, StopWait: 10 * time.Second, Fresh: true})
	}
	return jobs
}

// rolloutRun starts r and collects what it reports.
type rolloutRun struct {
	mu   sync.Mutex
	done []Done
}

func startRollout(t *testing.T, api API, o RolloutOptions) (*Rollout, *rolloutRun) {
	t.Helper()
	run := &rolloutRun{}
	o.Report = func(d []Done) {
		run.mu.Lock()
		defer run.mu.Unlock()
		run.done = append(run.done, d...)
	}
	r := NewRollout(api, o)
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { r.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return r, run
}

func (run *rolloutRun) finished() []Done {
	run.mu.Lock()
	defer run.mu.Unlock()
	return append([]Done(nil), run.done...)
}

func waitIdle(t *testing.T, r *Rollout) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := r.Wait(ctx); err != nil {
		t.Fatalf("rollout did not finish: %v", err)
	}
}

var snapPIDRE = regexp.MustCompile(`(?m)^(\S+) (\S+) pid=(\d+)$`)

// pids maps "group:process" to its PID in a Fake snapshot.
func pids(f *Fake) map[string]string {
	out := map[string]string{}
	for _, m := range snapPIDRE.FindAllStringSubmatch(f.Snapshot(), -1) {
		out[m[1]] = m[3]
	}
	return out
}

// A change to 150 programs restarts each exactly once, at most Limit at a
// time but many together, each one down only for its own restart.
func TestRolloutRestartsEachGroupOnceWithinTheLimit(t *testing.T) {
	ctx := context.Background()
	f := booted(t, manyProgs(150))
	f.StartDelay, f.StopDelay = 20*time.Millisecond, 20*time.Millisecond
	before := pids(f)
	f.SetFiles(manyProgs(150, "stopwaitsecs=3"))
	_, changed, _, err := f.ReloadConfig(ctx)
	if err != nil || len(changed) != 150 {
		t.Fatalf("ReloadConfig: %d changed, %v", len(changed), err)
	}
	r, run := startRollout(t, f, RolloutOptions{Limit: 8, Check: 5 * time.Millisecond})
	start := time.Now()
	r.Submit(replaceJobs(changed))
	waitIdle(t, r)
	took := time.Since(start)

	after := pids(f)
	if len(after) != 150 {
		t.Fatalf("%d processes running after the rollout, want 150:\n%s", len(after), f.Snapshot())
	}
	for name, pid := range after {
		if before[name] == pid {
			t.Errorf("%s kept PID %s: not restarted", name, pid)
		}
	}
	calls := f.Calls()
	if calls["StopProcess"] != 150 || calls["StopProcessGroup"] != 0 || calls["RemoveProcessGroup"] != 150 || calls["AddProcessGroup"] != 300 {
		t.Errorf("calls = %v, want 150 stops, 150 removes, 150 adds after the 150 of the boot", calls)
	}
	if p := f.Peak(); p > 8 || p < 4 {
		t.Errorf("at most %d processes were starting or stopping at once, want between 4 and the limit 8", p)
	}
	done := run.finished()
	if len(done) != 150 {
		t.Fatalf("%d jobs reported, want 150", len(done))
	}
	for _, d := range done {
		if d.Err != nil {
			t.Errorf("%s: %v", d.Group, d.Err)
		}
		// Each restart takes a stop and a start of 20 ms plus checks;
		// far less than the whole rollout, which it would be if every
		// group were stopped first and started last.
		if d.Down > took/2 {
			t.Errorf("%s was down %s of the rollout's %s", d.Group, d.Down, took)
		}
	}
}

// A Submit during a rollout: a group whose remove was issued runs again
// (it may have missed the newer change), one still stopping takes the
// newer job, and a queued group the newer Submit no longer wants is
// dropped without being stopped.
func TestRolloutSubmitDuringRun(t *testing.T) {
	ctx := context.Background()
	f := booted(t, manyProgs(3))
	f.StartDelay, f.StopDelay = 300*time.Millisecond, 300*time.Millisecond
	before := pids(f)
	r, run := startRollout(t, f, RolloutOptions{Limit: 1, Check: 5 * time.Millisecond})
	r.Submit(replaceJobs([]string{"p000", "p001", "p002"}))
	// p000 is stopping: wait until it is starting again (committed).
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(f.Snapshot(), "p000:p000 STARTING") {
		if time.Now().After(deadline) {
			t.Fatalf("p000 never started again:\n%s", f.Snapshot())
		}
		time.Sleep(2 * time.Millisecond)
	}
	// p000 again; p001 still queued and wanted; p002 no longer wanted.
	r.Submit(replaceJobs([]string{"p000", "p001"}))
	waitIdle(t, r)
	after := pids(f)
	if after["p002:p002"] != before["p002:p002"] {
		t.Errorf("p002 was restarted although the newer Submit dropped it")
	}
	count := map[string]int{}
	for _, d := range run.finished() {
		count[d.Group]++
	}
	if count["p000"] != 2 || count["p001"] != 1 || count["p002"] != 0 {
		t.Errorf("jobs per group = %v, want p000 twice, p001 once, p002 never", count)
	}
	if _, err := f.ProcessInfo(ctx, "p001:p001"); err != nil {
		t.Error(err)
	}
}

// A process that does not stop within stopwaitsecs and the grace fails
// its job, naming the step; the others go on.
func TestRolloutStopTimeout(t *testing.T) {
	f := booted(t, manyProgs(2))
	f.StopDelay = time.Hour
	r, run := startRollout(t, f, RolloutOptions{Limit: 4, Check: 5 * time.Millisecond, StopGrace: 50 * time.Millisecond})
	jobs := replaceJobs([]string{"p000", "p001"})
	jobs[0].StopWait = 0
	jobs[1].StopWait = 0
	r.Submit(jobs)
	waitIdle(t, r)
	done := run.finished()
	if len(done) != 2 {
		t.Fatalf("%d jobs reported, want 2", len(done))
	}
	for _, d := range done {
		if d.Err == nil || !strings.Contains(d.Err.Error(), "stop: still running") {
			t.Errorf("%s: error %v, want a stop timeout", d.Group, d.Err)
		}
	}
}

// Remove jobs stop and remove groups gone from the configuration; a
// Replace of a program that does not autostart leaves it stopped.
func TestRolloutRemoveAndNoAutostart(t *testing.T) {
	ctx := context.Background()
	f := booted(t, confFiles(prog("gone"), prog("off"), prog("kept")))
	f.StartDelay, f.StopDelay = 10*time.Millisecond, 10*time.Millisecond
	f.SetFiles(confFiles(prog("off", "autostart=false"), prog("kept")))
	if _, _, _, err := f.ReloadConfig(ctx); err != nil {
		t.Fatal(err)
	}
	keptPID := pids(f)["kept:kept"]
	r, _ := startRollout(t, f, RolloutOptions{Check: 5 * time.Millisecond})
	r.Submit([]Job{
		{Group: "gone", Kind: Remove, Stop: []string{"gone:gone"}, StopWait: time.Second},
		{Group: "off", Kind: Replace, Stop: []string{"off:off"}, Procs: []string{"off:off"}, StopWait: time.Second},
	})
	waitIdle(t, r)
	checkSnapshot(t, f, fmt.Sprintf("kept:kept RUNNING pid=%s\noff:off STOPPED\n", keptPID))
}

// The real supervisord: 40 programs changed at once are each restarted
// once by a rollout of 8 at a time, each down about a second (supervisord's
// startsecs), a group whose process names the job got wrong is stopped as
// a group, and a removed group is gone.
func TestRealRollout(t *testing.T) {
	ctx := testCtx(t)
	files := manyProgs(40, "startsecs=1")
	files["m.conf"] = []byte(prog("m", twoProcs, "startsecs=1"))
	files["gone.conf"] = []byte(prog("gone"))
	e := startReal(t, files)
	var want strings.Builder
	for i := range 40 {
		fmt.Fprintf(&want, "p%03d:p%03d RUNNING\n", i, i)
	}
	before := e.waitStates(t, "gone:gone RUNNING\nm:m_00 RUNNING\nm:m_01 RUNNING\n"+want.String())

	procs, errs := e.c.StopNoWait(ctx, []string{"nosuch"})
	if !IsFault(errs[0], FaultBadName) || procs[0] != nil {
		t.Errorf("StopNoWait(nosuch) = %v, %v; want BAD_NAME", procs[0], errs[0])
	}

	files = manyProgs(40, "startsecs=1", "stopwaitsecs=3")
	files["m.conf"] = []byte(prog("m", twoProcs, "startsecs=1", "stopwaitsecs=3"))
	e.setFiles(t, files)
	_, changed, removed, err := e.c.ReloadConfig(ctx)
	if err != nil || len(changed) != 41 || len(removed) != 1 {
		t.Fatalf("ReloadConfig: changed %v, removed %v, %v", changed, removed, err)
	}
	jobs := []Job{{Group: "gone", Kind: Remove, Stop: []string{"gone:gone"}, StopWait: 10 * time.Second}}
	for _, g := range changed {
		procs := []string{g + ":" + g}
		j := Job{Group: g, Kind: Replace, Stop: procs, Procs: procs, Autostart: true, StopWait: 3 * time.Second}
		if g == "m" {
			// The job names processes m does not have: the rollout
			// falls back to stopping the group.
			j.Procs = []string{"m:m_00", "m:m_01"}
		}
		jobs = append(jobs, j)
	}
	r, run := startRollout(t, e.c, RolloutOptions{Limit: 8, Check: 50 * time.Millisecond})
	start := time.Now()
	r.Submit(jobs)
	waitIdle(t, r)
	t.Logf("42 groups in %s", time.Since(start))
	after := e.waitStates(t, "m:m_00 RUNNING\nm:m_01 RUNNING\n"+want.String())
	for name, pid := range after {
		if before[name] == pid {
			t.Errorf("%s kept pid %d: not restarted", name, pid)
		}
	}
	for _, d := range run.finished() {
		if d.Err != nil {
			t.Errorf("%s: %v", d.Group, d.Err)
		}
		if d.Down > 4*time.Second {
			t.Errorf("%s was down %s", d.Group, d.Down)
		}
	}
	if _, _, _, peak := r.Progress(); peak > 8 || peak < 2 {
		t.Errorf("peak of %d processes in flight, want 2 to 8", peak)
	}
}

// TestRolloutAddKeepsQueuedWork: Submit replaces the queue (a newer
// revision), Add only adds to it (a deploy's restart): the queued groups
// stay.
func TestRolloutAddKeepsQueuedWork(t *testing.T) {
	r := NewRollout(NewFake(), RolloutOptions{Limit: 1}) // not running: jobs stay queued
	r.Submit(replaceJobs([]string{"a", "b"}))
	r.Add(replaceJobs([]string{"c"})[0])
	if got := slices.Sorted(maps.Keys(r.Pending())); !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Errorf("after Add, queued %v, want a b c", got)
	}
	r.Submit(replaceJobs([]string{"c"}))
	if got := slices.Sorted(maps.Keys(r.Pending())); !slices.Equal(got, []string{"c"}) {
		t.Errorf("after Submit, queued %v, want c", got)
	}
}
