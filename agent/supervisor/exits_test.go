package supervisor

import (
	"strings"
	"testing"
	"time"
)

// A process that ends on its own stays EXITED with its exit status and its
// stderr readable, in the real supervisord as in the Fake, until drover
// starts it again.
func TestExitStaysUntilStarted(t *testing.T) {
	const conf = "[program:crash]\ncommand=/bin/sh -c 'sleep 1.5; echo \"Cannot find module x\" >&2; exit 3'\n" +
		"autorestart=false\nstartretries=0\nstartsecs=1\n"
	e := startReal(t, map[string][]byte{"crash.conf": []byte(conf)})
	ctx := testCtx(t)
	f := NewFake()
	f.SetFiles(map[string][]byte{"crash.conf": []byte(conf)})
	if err := f.Boot(); err != nil {
		t.Fatal(err)
	}
	f.Exit("crash:crash", 3, "Cannot find module x\n")
	for _, api := range []API{e.c, f} {
		var info ProcessInfo
		deadline := time.Now().Add(20 * time.Second)
		for {
			infos, errs := api.ProcessInfos(ctx, []string{"crash:crash"})
			if errs[0] != nil {
				t.Fatal(errs[0])
			}
			if info = infos[0]; info.State == "EXITED" || time.Now().After(deadline) {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if info.State != "EXITED" || info.ExitStatus != 3 {
			t.Fatalf("%T: %s exit status %d, want EXITED with 3", api, info.State, info.ExitStatus)
		}
		time.Sleep(1500 * time.Millisecond) // not restarted by supervisord
		if infos, _ := api.ProcessInfos(ctx, []string{"crash:crash"}); infos[0].State != "EXITED" {
			t.Fatalf("%T: %s after the exit; supervisord must leave it", api, infos[0].State)
		}
		tails, errs := api.StderrTails(ctx, []string{"crash:crash", "crash:ghost"}, 10)
		if errs[0] != nil || !strings.HasSuffix("Cannot find module x\n", tails[0]) {
			t.Errorf("%T: stderr tail %q (%v), want the last 10 bytes", api, tails[0], errs[0])
		}
		if len(tails[0]) != 10 || !IsFault(errs[1], FaultBadName) {
			t.Errorf("%T: tail %q of 10 bytes; fault for an unknown process %v", api, tails[0], errs[1])
		}
		errs = api.StartProcesses(ctx, []string{"crash:crash", "crash:ghost"})
		if errs[0] != nil || !IsFault(errs[1], FaultBadName) {
			t.Fatalf("%T: start: %v", api, errs)
		}
		if errs := api.StartProcesses(ctx, []string{"crash:crash"}); !IsFault(errs[0], FaultAlreadyStarted) {
			t.Errorf("%T: second start: %v, want ALREADY_STARTED", api, errs[0])
		}
		if infos, _ := api.ProcessInfos(ctx, []string{"crash:crash"}); infos[0].ExitStatus != 0 {
			t.Errorf("%T: exit status %d after a start; supervisord clears it", api, infos[0].ExitStatus)
		}
	}
}
