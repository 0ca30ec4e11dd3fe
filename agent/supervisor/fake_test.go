package supervisor

import (
	"context"
	"reflect"
	"strings"
	"testing"
)

// The Fake answers like supervisord does: checkFaults runs against the Fake
// here and against supervisord in TestRealFaults.
func TestFakeFaults(t *testing.T) {
	f := booted(t, confFiles(prog("a"), prog("m", twoProcs)))
	checkFaults(t, f)
	checkSnapshot(t, f, "m:m_00 RUNNING pid=1002\nm:m_01 RUNNING pid=1003\n")
}

// checkFaults expects the groups a and m (two processes), all running, and
// removes a.
func checkFaults(t *testing.T, api API) {
	t.Helper()
	ctx := context.Background()
	tests := []struct {
		name string
		err  error
		code int
	}{
		{"add active", api.AddProcessGroup(ctx, "a"), FaultAlreadyAdded},
		{"add unknown", api.AddProcessGroup(ctx, "zz"), FaultBadName},
		{"remove running", api.RemoveProcessGroup(ctx, "a"), FaultStillRunning},
		{"remove unknown", api.RemoveProcessGroup(ctx, "zz"), FaultBadName},
		{"stop unknown", api.StopProcessGroup(ctx, "zz", true), FaultBadName},
		{"start unknown", api.StartProcessGroup(ctx, "zz", true), FaultBadName},
		{"info unknown", second(api.ProcessInfo(ctx, "zz")), FaultBadName},
		{"info group name of a multi-process group", second(api.ProcessInfo(ctx, "m")), FaultBadName},
		{"info group wildcard", second(api.ProcessInfo(ctx, "m:*")), FaultBadName},
		// Group operations skip processes already in the target state
		// rather than answering ALREADY_STARTED or NOT_RUNNING.
		{"start running", api.StartProcessGroup(ctx, "a", true), 0},
		{"stop", api.StopProcessGroup(ctx, "a", true), 0},
		{"stop stopped", api.StopProcessGroup(ctx, "a", true), 0},
		{"remove stopped", api.RemoveProcessGroup(ctx, "a"), 0},
		{"info removed", second(api.ProcessInfo(ctx, "a")), FaultBadName},
	}
	for _, tt := range tests {
		if tt.code == 0 {
			if tt.err != nil {
				t.Errorf("%s: %v", tt.name, tt.err)
			}
		} else if !IsFault(tt.err, tt.code) {
			t.Errorf("%s: error %v, want fault %d", tt.name, tt.err, tt.code)
		}
	}
	if st, err := api.State(ctx); st != "RUNNING" || err != nil {
		t.Errorf("State = %q, %v", st, err)
	}
}

func second[T any](_ T, err error) error { return err }

func TestFakeProcessInfo(t *testing.T) {
	ctx := context.Background()
	f := booted(t, confFiles(prog("a"), prog("m", twoProcs), prog("off", "autostart=false")))
	info, err := f.ProcessInfo(ctx, "m:m_01")
	if err != nil {
		t.Fatal(err)
	}
	if info.Name != "m_01" || info.Group != "m" || info.State != "RUNNING" || info.StateCode != 20 || info.PID != 1003 ||
		!strings.HasPrefix(info.Description, "pid 1003, uptime 0:00:0") || info.Start.IsZero() {
		t.Errorf("ProcessInfo(m:m_01) = %+v", info)
	}
	if info, err := f.ProcessInfo(ctx, "a:a"); err != nil || info.PID != 1001 {
		t.Errorf("ProcessInfo(a:a) = %+v, %v", info, err)
	}
	if info, err := f.ProcessInfo(ctx, "off"); err != nil || info.State != "STOPPED" || info.Description != "Not started" {
		t.Errorf("ProcessInfo(off) = %+v, %v", info, err)
	}
	all, err := f.AllProcessInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range all {
		names = append(names, p.Group+":"+p.Name+" "+p.State)
	}
	if want := []string{"a:a RUNNING", "m:m_00 RUNNING", "m:m_01 RUNNING", "off:off STOPPED"}; !reflect.DeepEqual(names, want) {
		t.Errorf("AllProcessInfo = %q", names)
	}
}

// AddProcessGroup activates what the last ReloadConfig read, not what the
// files say now.
func TestFakeAddUsesLoadedConfig(t *testing.T) {
	ctx := context.Background()
	f := NewFake()
	f.SetFiles(confFiles(prog("m")))
	if _, _, _, err := f.ReloadConfig(ctx); err != nil {
		t.Fatal(err)
	}
	f.SetFiles(confFiles(prog("m", twoProcs), prog("n")))
	if err := f.AddProcessGroup(ctx, "m"); err != nil {
		t.Fatal(err)
	}
	if err := f.AddProcessGroup(ctx, "n"); !IsFault(err, FaultBadName) {
		t.Errorf("add of a group not reloaded yet: %v", err)
	}
	checkSnapshot(t, f, "m:m RUNNING pid=1001\n")
	added, changed, removed, err := f.ReloadConfig(ctx)
	if err != nil || !reflect.DeepEqual([][]string{added, changed, removed}, [][]string{{"n"}, {"m"}, {}}) {
		t.Errorf("ReloadConfig = %q %q %q %v", added, changed, removed, err)
	}
}

func TestFakeSetFailing(t *testing.T) {
	ctx := context.Background()
	f := booted(t, confFiles(prog("a"), prog("m", twoProcs)))
	f.SetFailing("m", "BACKOFF")
	if err := f.StopProcessGroup(ctx, "m", true); err != nil {
		t.Fatal(err)
	}
	// Waiting for a start that exits too quickly is a SPAWN_ERROR per process.
	err := f.StartProcessGroup(ctx, "m", true)
	if !IsFault(err, FaultSpawnError) || !strings.Contains(err.Error(), "SPAWN_ERROR: m:m_00") || !strings.Contains(err.Error(), "SPAWN_ERROR: m:m_01") {
		t.Errorf("start error %v", err)
	}
	checkSnapshot(t, f, "a:a RUNNING pid=1001\nm:m_00 BACKOFF\nm:m_01 BACKOFF\n")
	// BACKOFF counts as running: it blocks a remove and a stop ends it.
	if err := f.RemoveProcessGroup(ctx, "m"); !IsFault(err, FaultStillRunning) {
		t.Errorf("remove in BACKOFF: %v", err)
	}
	f.SetFailing("m", "FATAL")
	if err := f.StopProcessGroup(ctx, "m", true); err != nil {
		t.Fatal(err)
	}
	if err := f.StartProcessGroup(ctx, "m", false); err != nil {
		t.Errorf("start without waiting: %v", err)
	}
	checkSnapshot(t, f, "a:a RUNNING pid=1001\nm:m_00 FATAL\nm:m_01 FATAL\n")
	if err := f.RemoveProcessGroup(ctx, "m"); err != nil {
		t.Errorf("remove in FATAL: %v", err)
	}
}

func TestFakeBoot(t *testing.T) {
	f := booted(t, confFiles(prog("a"), prog("off", "autostart=false")))
	f.SetFiles(confFiles(prog("a"), prog("b"), prog("off", "autostart=false")))
	if err := f.Boot(); err != nil {
		t.Fatal(err)
	}
	checkSnapshot(t, f, "a:a RUNNING pid=1002\nb:b RUNNING pid=1003\noff:off STOPPED\n")
	added, changed, removed, err := f.ReloadConfig(context.Background())
	if err != nil || len(added)+len(changed)+len(removed) != 0 {
		t.Errorf("ReloadConfig after Boot = %q %q %q %v", added, changed, removed, err)
	}
}

// parsingCases are configurations the Fake must read as supervisord does:
// want is the snapshot, or a text in the CANT_REREAD fault.
// TestRealMatchesFake runs them against supervisord as well.
var parsingCases = []struct {
	name  string
	files map[string][]byte
	want  string
}{
	{"inline comments", map[string][]byte{
		"x.conf": []byte("; header\n[program:a]\ncommand=/bin/sleep 1000 ; not part of the command\nautostart=false # nor this\n"),
	}, "a:a STOPPED\n"},
	{"process names", map[string][]byte{
		"x.conf": []byte(prog("m", "numprocs=3", "numprocs_start=8", "process_name=%(program_name)s_%(process_num)02d") + prog("p", "numprocs=1", "process_name=%(group_name)s-%%-%(process_num)d")),
	}, "m:m_08 RUNNING pid=1001\nm:m_09 RUNNING pid=1002\nm:m_10 RUNNING pid=1003\np:p-%-0 RUNNING pid=1004\n"},
	{"numprocs=0 is an empty group", confFiles(prog("z", "numprocs=0")), "z: (no processes)\n"},
	// A section given twice is merged, the later file winning.
	{"duplicate sections merge", map[string][]byte{
		"1.conf": []byte(prog("a", "autostart=false", "numprocs=2", "process_name=x%(process_num)d")),
		"2.conf": []byte("[program:a]\nnumprocs=1\n"),
	}, "a:x0 STOPPED\n"},
	{"no process_num", confFiles(prog("a", "numprocs=2")), "%(process_num) must be present within process_name when numprocs > 1 in section 'program:a'"},
	{"no command", map[string][]byte{"a.conf": []byte("[program:a]\nautostart=true\n")}, "program section does not specify a command in section 'program:a'"},
	{"bad boolean", confFiles(prog("a", "autostart=maybe")), `autostart: not a valid boolean value: "maybe"`},
	{"bad integer", confFiles(prog("a", "numprocs=two")), `numprocs: not an integer: "two"`},
	{"no section", map[string][]byte{"a.conf": []byte("command=x\n")}, "file a.conf contains no section headers"},
	{"unknown expansion", confFiles(prog("a", "process_name=%(nope)s")), "refers to an unknown expansion nope"},
}

func TestFakeConfigParsing(t *testing.T) {
	for _, tt := range parsingCases {
		t.Run(tt.name, func(t *testing.T) {
			f := NewFake()
			f.SetFiles(tt.files)
			err := f.Boot()
			if strings.HasSuffix(tt.want, "\n") {
				if err != nil {
					t.Fatal(err)
				}
				checkSnapshot(t, f, tt.want)
				return
			}
			if !IsFault(err, FaultCantReread) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %v, want CANT_REREAD with %q", err, tt.want)
			}
		})
	}
}
