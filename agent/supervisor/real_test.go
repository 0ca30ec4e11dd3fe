package supervisor

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/internal/testenv"
	"github.com/drover-sh/drover/render"
)

// These tests drive a private supervisord (root only; CI runs them).

// realEnv is a private supervisord including dir/*.conf.
type realEnv struct {
	sd  *testenv.Supervisord
	dir string
	c   *Client
}

// startReal starts a supervisord with files; the test runs in parallel with
// the other real tests, each having its own supervisord.
func startReal(t *testing.T, files map[string][]byte) *realEnv {
	t.Helper()
	testenv.RequireRoot(t)
	t.Parallel()
	e := &realEnv{dir: t.TempDir()}
	e.setFiles(t, files)
	e.sd = testenv.StartSupervisord(t, filepath.Join(e.dir, "*.conf"))
	e.c = New(e.sd.Socket)
	return e
}

// setFiles replaces the included files.
func (e *realEnv) setFiles(t *testing.T, files map[string][]byte) {
	t.Helper()
	old, _ := filepath.Glob(filepath.Join(e.dir, "*.conf"))
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	for name, b := range files {
		testenv.WriteFile(t, filepath.Join(e.dir, name), string(b), 0o644)
	}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// states returns "group:process STATE" lines (sorted, as the Fake's
// Snapshot without pids) and the pids by "group:process".
func (e *realEnv) states(t *testing.T) (string, map[string]int) {
	t.Helper()
	all, err := e.c.AllProcessInfo(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	pids := map[string]int{}
	for _, p := range all {
		fmt.Fprintf(&b, "%s:%s %s\n", p.Group, p.Name, p.State)
		pids[p.Group+":"+p.Name] = p.PID
	}
	return b.String(), pids
}

// waitStates waits until the processes are in the wanted states (supervisord
// starts added groups asynchronously) and every running one has exec'd its
// program, and returns their pids.
//
// The second wait matters: with startsecs=0 supervisord reports RUNNING
// right after fork, and its forked child keeps supervisord's Python SIGTERM
// handler until it execs, so a stop landing in between is swallowed and
// costs stopwaitsecs before the SIGKILL.
func (e *realEnv) waitStates(t *testing.T, want string) map[string]int {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, pids := e.states(t)
		if got == want && allExeced(pids) {
			return pids
		}
		if time.Now().After(deadline) {
			t.Fatalf("supervisord states:\n%s\nwant:\n%s", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// allExeced reports whether none of the processes is still a forked
// supervisord (a Python interpreter) on its way to exec.
func allExeced(pids map[string]int) bool {
	for _, pid := range pids {
		if pid == 0 {
			continue
		}
		exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
		if err != nil || strings.HasPrefix(filepath.Base(exe), "python") {
			return false
		}
	}
	return true
}

var pidRE = regexp.MustCompile(` pid=\d+|.*\(no processes\)\n`)

// fakeStates is the Fake's snapshot as realEnv.states prints it.
func fakeStates(f *Fake) string {
	s := pidRE.ReplaceAllString(f.Snapshot(), "")
	if s == "\n" {
		return ""
	}
	return s
}

func TestRealUpdate(t *testing.T) {
	ctx := testCtx(t)
	off := prog("off", "autostart=false")
	e := startReal(t, confFiles(prog("a"), prog("b"), prog("c"), off))
	pids := e.waitStates(t, "a:a RUNNING\nb:b RUNNING\nc:c RUNNING\noff:off STOPPED\n")

	e.setFiles(t, confFiles(prog("a"), prog("b", "stopwaitsecs=5"), prog("d", twoProcs), off))
	res, err := Update(ctx, e.c, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Added: []string{"d"}, Changed: []string{"b"}, Removed: []string{"c"}})
	pids2 := e.waitStates(t, "a:a RUNNING\nb:b RUNNING\nd:d_00 RUNNING\nd:d_01 RUNNING\noff:off STOPPED\n")
	if pids2["a:a"] != pids["a:a"] || pids2["b:b"] == pids["b:b"] {
		t.Errorf("pids went from %v to %v: only b should have a new one", pids, pids2)
	}
	if _, err := e.c.ProcessInfo(ctx, "c"); !IsFault(err, FaultBadName) {
		t.Errorf("ProcessInfo(c) after removal: %v", err)
	}

	// Cosmetic edits are no change to supervisord: nothing restarts.
	e.setFiles(t, confFiles(
		"; edited\n[program:a]\n\nstartsecs = 0 ; fast\nautostart=yes\ncommand=/bin/sleep 1000\n",
		prog("b", "stopwaitsecs=5", "priority=999"), prog("d", twoProcs), off))
	res, err = Update(ctx, e.c, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{})
	if _, pids3 := e.states(t); !maps.Equal(pids2, pids3) {
		t.Errorf("a no-op update changed pids from %v to %v", pids2, pids3)
	}

	// A restart restarts exactly the named group.
	res, err = Update(ctx, e.c, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Restarted: []string{"a"}})
	pids4 := e.waitStates(t, "a:a RUNNING\nb:b RUNNING\nd:d_00 RUNNING\nd:d_01 RUNNING\noff:off STOPPED\n")
	for name, pid := range pids2 {
		if (name == "a:a") == (pids4[name] == pid) {
			t.Errorf("after restarting a, %s went from pid %d to %d", name, pid, pids4[name])
		}
	}
}

func TestRealStopDisabled(t *testing.T) {
	ctx := testCtx(t)
	e := startReal(t, confFiles(prog("on"), prog("off", "autostart=false")))
	pids := e.waitStates(t, "off:off STOPPED\non:on RUNNING\n")
	if err := Stop(ctx, e.c, "off"); err != nil {
		t.Errorf("Stop of a stopped group: %v", err)
	}
	info, err := e.c.ProcessInfo(ctx, "off")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != "STOPPED" || info.StateCode != 0 || info.PID != 0 || info.Description != "Not started" || !info.Start.IsZero() {
		t.Errorf("ProcessInfo(off) = %+v", info)
	}
	if err := e.c.StartProcessGroup(ctx, "off", true); err != nil { // started by hand
		t.Fatal(err)
	}
	if info, err := e.c.ProcessInfo(ctx, "off:off"); err != nil || info.State != "RUNNING" || info.PID == 0 {
		t.Fatalf("ProcessInfo(off:off) = %+v, %v", info, err)
	}
	e.waitStates(t, "off:off RUNNING\non:on RUNNING\n")
	if err := Stop(ctx, e.c, "off"); err != nil {
		t.Fatal(err)
	}
	// Stop waits: the process is stopped when it returns.
	info, err = e.c.ProcessInfo(ctx, "off")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != "STOPPED" || info.PID != 0 || info.Stop.IsZero() {
		t.Errorf("ProcessInfo(off) after Stop = %+v", info)
	}
	if _, pids2 := e.states(t); pids2["on:on"] != pids["on:on"] {
		t.Errorf("stopping off restarted on")
	}
}

func TestRealFatal(t *testing.T) {
	ctx := testCtx(t)
	e := startReal(t, map[string][]byte{"bad.conf": []byte("[program:bad]\ncommand=/bin/false\nstartretries=0\n")})
	e.waitStates(t, "bad:bad FATAL\n")
	info, err := e.c.ProcessInfo(ctx, "bad")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "bad" || info.Group != "bad" || info.State != "FATAL" || info.StateCode != 200 || info.PID != 0 ||
		info.SpawnErr != exitedTooQuickly || info.Description != exitedTooQuickly ||
		// supervisord records no exit status for a start that exits too
		// quickly, though /bin/false exits 1.
		info.ExitStatus != 0 ||
		info.Start.IsZero() || info.Stop.IsZero() || time.Since(info.Now) > time.Minute {
		t.Errorf("ProcessInfo(bad) = %+v", info)
	}
	// Waiting for the start of a program that exits too quickly: SPAWN_ERROR.
	if err := e.c.StartProcessGroup(ctx, "bad", true); !IsFault(err, FaultSpawnError) {
		t.Errorf("StartProcessGroup(bad, wait) = %v", err)
	}
}

func TestRealFaults(t *testing.T) {
	e := startReal(t, confFiles(prog("a"), prog("m", twoProcs)))
	e.waitStates(t, "a:a RUNNING\nm:m_00 RUNNING\nm:m_01 RUNNING\n")
	checkFaults(t, e.c)
}

// TestRealMatchesFake applies the same sequence of configurations to the
// Fake and to supervisord and checks they agree on every Update result and
// process state, and that supervisord gave new pids to exactly the groups
// Update reported.
func TestRealMatchesFake(t *testing.T) {
	type step struct {
		name    string
		files   map[string][]byte
		restart []string
	}
	off := prog("off", "autostart=false")
	steps := []step{
		{"boot", confFiles(prog("a"), prog("b"), prog("m", twoProcs), off), nil},
		{"cosmetic", confFiles("[program:a]\ncommand = /bin/sleep 1000 ; x\nstartsecs=0\nnumprocs=1\n", prog("b"), prog("m", twoProcs), off), nil},
		{"change remove add", confFiles(prog("a"), prog("b", "stopsignal=INT"), prog("c"), off), nil},
		{"signal spelling", confFiles(prog("a"), prog("b", "stopsignal=sigint"), prog("c"), off), []string{"c"}},
		{"enable", confFiles(prog("a"), prog("b", "stopsignal=INT"), prog("c"), prog("off", "autostart=true")), nil},
	}
	for _, c := range parsingCases {
		steps = append(steps, step{"parsing: " + c.name, c.files, nil})
	}

	ctx := testCtx(t)
	e := startReal(t, nil)
	f := NewFake()
	var pids map[string]int
	for _, s := range steps {
		f.SetFiles(s.files)
		fres, ferr := Update(ctx, f, s.restart)
		e.setFiles(t, s.files)
		rres, rerr := Update(ctx, e.c, s.restart)
		if (ferr == nil) != (rerr == nil) || IsFault(ferr, FaultCantReread) != IsFault(rerr, FaultCantReread) {
			t.Fatalf("%s: fake error %v, supervisord error %v", s.name, ferr, rerr)
		}
		checkResult(t, rres, fres)
		newPids := e.waitStates(t, fakeStates(f))
		touched := slices.Concat(rres.Added, rres.Changed, rres.Restarted)
		for name, pid := range newPids {
			old, ok := pids[name]
			if !ok || pid == 0 {
				continue
			}
			group, _, _ := strings.Cut(name, ":")
			if slices.Contains(touched, group) == (old == pid) {
				t.Errorf("%s: %s went from pid %d to %d, touched groups %q", s.name, name, old, pid, touched)
			}
		}
		pids = newPids
	}
}

func TestRealEventListener(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	events := filepath.Join(t.TempDir(), "events")
	listener := render.ListenerSection("drover-events", self) +
		fmt.Sprintf("environment=DROVER_TEST_EVENT_LISTENER=\"1\",DROVER_TEST_EVENT_FILE=\"%s\"\n", events)
	e := startReal(t, map[string][]byte{"listener.conf": []byte(listener), "p.conf": []byte(prog("p"))})
	ctx := testCtx(t)

	var info ProcessInfo
	testenv.Eventually(t, 15*time.Second, "p RUNNING", func() bool {
		info, err = e.c.ProcessInfo(ctx, "p")
		return err == nil && info.State == "RUNNING" && allExeced(map[string]int{"p": info.PID})
	})
	waitLine := func(line string) {
		t.Helper()
		testenv.Eventually(t, 15*time.Second, "event "+line, func() bool {
			b, _ := os.ReadFile(events)
			return slices.Contains(strings.Split(string(b), "\n"), line)
		})
	}
	waitLine(fmt.Sprintf("PROCESS_STATE_RUNNING p:p RUNNING pid=%d", info.PID))
	if err := Stop(ctx, e.c, "p"); err != nil {
		t.Fatal(err)
	}
	waitLine(fmt.Sprintf("PROCESS_STATE_STOPPING p:p STOPPING pid=%d", info.PID))
	waitLine("PROCESS_STATE_STOPPED p:p STOPPED pid=" + fmt.Sprint(info.PID))

	// The listener itself is a group supervisord keeps running.
	if li, err := e.c.ProcessInfo(ctx, "drover-events"); err != nil || li.State != "RUNNING" {
		t.Errorf("listener: %+v, %v", li, err)
	}
}
