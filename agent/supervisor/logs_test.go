package supervisor

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// LogTail reads the last bytes of a process's log and then only what it
// wrote since, in the real supervisord as in the Fake; an escape sequence
// (raw in supervisord's XML) comes back as the process's bytes.
func TestLogTailFollows(t *testing.T) {
	dir := t.TempDir()
	more := filepath.Join(dir, "more")
	conf := "[program:talk]\ncommand=/bin/sh -c 'echo one; echo two; printf \"oops\\033[0m\\n\" >&2; " +
		"while [ ! -e " + more + " ]; do sleep 0.1; done; echo three; sleep 60'\n" +
		"autorestart=false\nstartretries=0\nstartsecs=0\n"
	e := startReal(t, map[string][]byte{"talk.conf": []byte(conf)})
	ctx := testCtx(t)
	f := NewFake()
	f.SetFiles(map[string][]byte{"talk.conf": []byte(conf)})
	if err := f.Boot(); err != nil {
		t.Fatal(err)
	}
	f.Output("talk:talk", "one\ntwo\n", "oops\x1b[0m\n")
	for _, api := range []API{e.c, f} {
		var got Tail
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var err error
			if got, err = api.LogTail(ctx, "talk:talk", Stdout, -1, 4); err != nil {
				t.Fatalf("%T: %v", api, err)
			}
			if got.Offset == 8 {
				break
			}
		}
		if got.Data != "two\n" || got.Offset != 8 || !got.Overflow {
			t.Fatalf("%T: last 4 bytes %+v, want \"two\\n\" of 8, more before", api, got)
		}
		if same, _ := api.LogTail(ctx, "talk:talk", Stdout, got.Offset, 1024); same.Data != "" || same.Offset != 8 {
			t.Errorf("%T: nothing new, got %+v", api, same)
		}
		if e, _ := api.LogTail(ctx, "talk:talk", Stderr, -1, 1024); e.Data != "oops\x1b[0m\n" {
			t.Errorf("%T: stderr %+v, want oops and the raw escape sequence", api, e)
		}
		if api == f {
			f.Output("talk:talk", "three\n", "")
		} else if err := os.WriteFile(more, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		var next Tail
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && next.Data == ""; time.Sleep(50 * time.Millisecond) {
			next, _ = api.LogTail(ctx, "talk:talk", Stdout, got.Offset, 1024)
		}
		if next.Data != "three\n" || next.Offset != 14 || next.Overflow {
			t.Errorf("%T: after offset 8 %+v, want only the new line", api, next)
		}
		if _, err := api.LogTail(ctx, "talk:ghost", Stdout, -1, 10); !IsFault(err, FaultBadName) || strings.Contains(err.Error(), "one") {
			t.Errorf("%T: unknown process: %v, want BAD_NAME", api, err)
		}
	}
}
