package supervisor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"
	"testing"
)

// prog renders a [program:NAME] section running sleep, with extra lines.
// startsecs=0 makes a real supervisord report RUNNING at once.
func prog(name string, lines ...string) string {
	s := fmt.Sprintf("[program:%s]\ncommand=/bin/sleep 1000\nstartsecs=0\n", name)
	for _, l := range lines {
		s += l + "\n"
	}
	return s
}

// confFiles puts each section in a file named after its program.
func confFiles(sections ...string) map[string][]byte {
	m := map[string][]byte{}
	for _, s := range sections {
		name := strings.TrimSuffix(strings.TrimPrefix(strings.SplitN(s, "\n", 2)[0], "[program:"), "]")
		m[name+".conf"] = []byte(s)
	}
	return m
}

const twoProcs = "numprocs=2\nprocess_name=%(program_name)s_%(process_num)02d"

func checkSnapshot(t *testing.T, f *Fake, want string) {
	t.Helper()
	if got := f.Snapshot(); got != want {
		t.Errorf("snapshot:\n%s\nwant:\n%s", got, want)
	}
}

func checkResult(t *testing.T, got, want Result) {
	t.Helper()
	errs := func(m map[string]error) map[string]string {
		out := map[string]string{}
		for k, v := range m {
			out[k] = v.Error()
		}
		return out
	}
	if !reflect.DeepEqual(got.Failed == nil, want.Failed == nil) || !reflect.DeepEqual(errs(got.Failed), errs(want.Failed)) {
		t.Errorf("Failed = %q, want %q", errs(got.Failed), errs(want.Failed))
	}
	got.Failed, want.Failed = nil, nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Result = %+v, want %+v", got, want)
	}
}

// booted returns a Fake that has run Update over files once.
func booted(t *testing.T, files map[string][]byte) *Fake {
	t.Helper()
	f := NewFake()
	f.SetFiles(files)
	if _, err := Update(context.Background(), f, nil); err != nil {
		t.Fatal(err)
	}
	return f
}

func TestUpdateAddChangeRemove(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	f.SetFiles(confFiles(prog("a"), prog("b"), prog("c")))
	res, err := Update(ctx, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Added: []string{"a", "b", "c"}})
	checkSnapshot(t, f, `a:a RUNNING pid=1001
b:b RUNNING pid=1002
c:c RUNNING pid=1003
`)

	f.SetFiles(confFiles(prog("a"), prog("b", "stopwaitsecs=30"), prog("d", twoProcs)))
	res, err = Update(ctx, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Added: []string{"d"}, Changed: []string{"b"}, Removed: []string{"c"}})
	// a keeps its pid; b was restarted; c is gone.
	checkSnapshot(t, f, `a:a RUNNING pid=1001
b:b RUNNING pid=1004
d:d_00 RUNNING pid=1005
d:d_01 RUNNING pid=1006
`)
}

// A reconcile with nothing to do must not touch supervisord's processes:
// comments, blank lines, key order and spelled-out defaults are no change
// to supervisord either (see TestRealReloadIgnoresCosmetics).
func TestUpdateNoopMakesNoStateChangingCall(t *testing.T) {
	f := booted(t, confFiles(prog("a", "autostart=true"), prog("b", twoProcs)))
	before, snap := f.Calls(), f.Snapshot()
	f.SetFiles(confFiles(
		"; drover\n[program:a]\n\nautostart = yes ; enabled\nstartsecs= 0\ncommand=/bin/sleep 1000 ; sleeps\n",
		prog("b", "process_name=%(program_name)s_%(process_num)02d", "numprocs=2", "priority=999"),
	))
	res, err := Update(context.Background(), f, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{})
	if after := f.Calls(); !maps.Equal(before, after) {
		t.Errorf("calls went from %v to %v", before, after)
	}
	checkSnapshot(t, f, snap)
}

func TestUpdateRestart(t *testing.T) {
	ctx := context.Background()
	f := booted(t, confFiles(prog("a"), prog("b"), prog("off", "autostart=false")))
	f.SetFiles(confFiles(prog("a"), prog("b", "stopwaitsecs=3"), prog("c"), prog("off", "autostart=false")))
	// b (changed) and c (added) get new processes anyway; only a is restarted.
	res, err := Update(ctx, f, []string{"c", "a", "b", "a"})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Added: []string{"c"}, Changed: []string{"b"}, Restarted: []string{"a"}})
	checkSnapshot(t, f, `a:a RUNNING pid=1005
b:b RUNNING pid=1003
c:c RUNNING pid=1004
off:off STOPPED
`)

	// Nothing changed in the files: exactly one stop and one start, for a.
	before := f.Calls()
	res, err = Update(ctx, f, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Restarted: []string{"a"}})
	after := f.Calls()
	if after["StopProcessGroup"]-before["StopProcessGroup"] != 1 || after["StartProcessGroup"]-before["StartProcessGroup"] != 1 ||
		after["AddProcessGroup"] != before["AddProcessGroup"] || after["RemoveProcessGroup"] != before["RemoveProcessGroup"] {
		t.Errorf("calls went from %v to %v", before, after)
	}
	checkSnapshot(t, f, `a:a RUNNING pid=1006
b:b RUNNING pid=1003
c:c RUNNING pid=1004
off:off STOPPED
`)
}

// faultyAPI makes chosen calls fail ("Method group" → error) before they
// reach the Fake, so the Fake's state shows what Update did after them.
type faultyAPI struct {
	API
	fail map[string]error
}

// Batch goes through the overridden single calls.
func (a faultyAPI) Batch(ctx context.Context, op Op, groups []string) []error {
	return EachBatch(ctx, a, op, groups)
}

func (a faultyAPI) AddProcessGroup(ctx context.Context, name string) error {
	if err := a.fail["AddProcessGroup "+name]; err != nil {
		return err
	}
	return a.API.AddProcessGroup(ctx, name)
}

func (a faultyAPI) RemoveProcessGroup(ctx context.Context, name string) error {
	if err := a.fail["RemoveProcessGroup "+name]; err != nil {
		return err
	}
	return a.API.RemoveProcessGroup(ctx, name)
}

func (a faultyAPI) StopProcessGroup(ctx context.Context, name string, wait bool) error {
	if err := a.fail["StopProcessGroup "+name]; err != nil {
		return err
	}
	return a.API.StopProcessGroup(ctx, name, wait)
}

func TestUpdateFailingGroupDoesNotStopOthers(t *testing.T) {
	ctx := context.Background()
	f := booted(t, confFiles(prog("a"), prog("b"), prog("c"), prog("e")))
	f.SetFiles(confFiles(prog("a"), prog("b", "stopwaitsecs=2"), prog("d"), prog("e", "stopwaitsecs=2")))
	api := faultyAPI{f, map[string]error{
		"StopProcessGroup c":   &Fault{FaultFailed, "FAILED: c:c"},
		"RemoveProcessGroup b": &Fault{FaultStillRunning, "STILL_RUNNING: b"},
		"AddProcessGroup d":    &Fault{FaultFailed, "FAILED: d"},
	}}
	res, err := Update(ctx, api, []string{"a", "ghost"})
	checkResult(t, res, Result{
		Changed:   []string{"e"},
		Restarted: []string{"a"},
		Failed: map[string]error{
			"b":     fmt.Errorf("supervisord group b: remove: supervisord fault 91: STILL_RUNNING: b"),
			"c":     fmt.Errorf("supervisord group c: stop: supervisord fault 30: FAILED: c:c"),
			"d":     fmt.Errorf("supervisord group d: add: supervisord fault 30: FAILED: d"),
			"ghost": fmt.Errorf("supervisord group ghost: stop: supervisord fault 10: BAD_NAME: ghost"),
		},
	})
	for g, e := range res.Failed {
		if !strings.Contains(err.Error(), e.Error()) {
			t.Errorf("joined error %q lacks group %s", err, g)
		}
	}
	if !IsFault(res.Failed["ghost"], FaultBadName) {
		t.Errorf("Failed[ghost] = %v is not BAD_NAME", res.Failed["ghost"])
	}
	// b was stopped before its removal failed; c still runs; d is not there.
	checkSnapshot(t, f, `a:a RUNNING pid=1006
b:b STOPPED
c:c RUNNING pid=1003
e:e RUNNING pid=1005
`)

	// The next update repairs everything: b is still changed, c still
	// removed, d still added.
	res, err = Update(ctx, f, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Added: []string{"d"}, Changed: []string{"b"}, Removed: []string{"c"}, Restarted: []string{"a"}})
	checkSnapshot(t, f, `a:a RUNNING pid=1009
b:b RUNNING pid=1007
d:d RUNNING pid=1008
e:e RUNNING pid=1005
`)
}

func TestUpdateInvalidConfigChangesNothing(t *testing.T) {
	f := booted(t, confFiles(prog("a")))
	before, snap := f.Calls(), f.Snapshot()
	f.SetFiles(confFiles(prog("a", "numprocs=2")))
	res, err := Update(context.Background(), f, []string{"a"})
	if !IsFault(err, FaultCantReread) || !strings.Contains(err.Error(), "reload supervisord configuration: ") ||
		!strings.Contains(err.Error(), "%(process_num) must be present within process_name when numprocs > 1 in section 'program:a'") {
		t.Errorf("error %v", err)
	}
	checkResult(t, res, Result{})
	if !maps.Equal(before, f.Calls()) {
		t.Errorf("calls went from %v to %v", before, f.Calls())
	}
	checkSnapshot(t, f, snap)
}

// A program that fails to start is no Update error: supervisord starts
// added groups asynchronously, so the caller reads FATAL from ProcessInfo.
func TestUpdateFailingProgram(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	f.SetFailing("b", "FATAL")
	f.SetFiles(confFiles(prog("a"), prog("b")))
	res, err := Update(ctx, f, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Added: []string{"a", "b"}})
	info, err := f.ProcessInfo(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if info.State != "FATAL" || info.StateCode != 200 || info.PID != 0 || info.SpawnErr != exitedTooQuickly || info.Description != exitedTooQuickly {
		t.Errorf("ProcessInfo(b) = %+v", info)
	}

	// Fixed (say its exec spec was rewritten): restarting it brings it up.
	f.SetFailing("b", "")
	res, err = Update(ctx, f, []string{"b"})
	if err != nil {
		t.Fatal(err)
	}
	checkResult(t, res, Result{Restarted: []string{"b"}})
	checkSnapshot(t, f, "a:a RUNNING pid=1001\nb:b RUNNING pid=1002\n")
}

func TestStop(t *testing.T) {
	ctx := context.Background()
	f := booted(t, confFiles(prog("a"), prog("off", "autostart=false")))
	checkSnapshot(t, f, "a:a RUNNING pid=1001\noff:off STOPPED\n")
	if err := Stop(ctx, f, "off"); err != nil {
		t.Errorf("Stop of a stopped group: %v", err)
	}
	if err := f.StartProcessGroup(ctx, "off", true); err != nil { // someone started it by hand
		t.Fatal(err)
	}
	if err := Stop(ctx, f, "off"); err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, "a:a RUNNING pid=1001\noff:off STOPPED\n")
	err := Stop(ctx, f, "ghost")
	if !IsFault(err, FaultBadName) || err.Error() != "stop supervisord group ghost: supervisord fault 10: BAD_NAME: ghost" {
		t.Errorf("Stop(ghost) = %v", err)
	}
}

func TestOnlyFaults(t *testing.T) {
	nr := &Fault{FaultNotRunning, "NOT_RUNNING: a:a_00"}
	other := &Fault{FaultFailed, "FAILED: a:a_01"}
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{nr, true},
		{fmt.Errorf("x: %w", nr), true},
		{errors.Join(nr, nr), true},
		{errors.Join(nr, other), false},
		{other, false},
	} {
		if got := onlyFaults(tt.err, FaultNotRunning); got != tt.want {
			t.Errorf("onlyFaults(%v) = %v", tt.err, got)
		}
	}
}
