package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-sh/drover/internal/testenv"
	"github.com/drover-sh/drover/render"
)

// The tenant of BenchmarkExecStart, from this file's uid range 63300-63309.
const (
	benchExecUID    = 63300
	benchExecTenant = "droverbenchx"
)

// BenchmarkExecStart is the CPU time (user + system) one `drover exec SPEC`
// costs until the daemon runs, as supervisord starts every program: the
// wrapper's start, its checks, dropping privileges and the exec of the
// shell, which runs the trivial daemon `true`. It is paid once per process
// start, so 3,000 times by a node's first converge, on the node's few cores.
// "drover-exec" is the same wrapper in a binary of its own (exec_binary);
// the "sh" case is the floor: the same shell line started directly. Both
// binaries are built from this tree (the test binary would add the testing
// packages' start-up cost).
func BenchmarkExecStart(b *testing.B) {
	testenv.RequireRoot(b)
	testenv.RequireTools(b, "go")
	tmp := traversableTempDir(b)
	bin := filepath.Join(tmp, "drover")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	home := filepath.Join(tmp, benchExecTenant)
	testenv.AddUser(b, benchExecTenant, benchExecUID, home)
	webroot := filepath.Join(home, "webroots", "main")
	if err := os.MkdirAll(webroot, 0o755); err != nil {
		b.Fatal(err)
	}
	for _, d := range []string{home, filepath.Dir(webroot), webroot} {
		if err := os.Chown(d, benchExecUID, benchExecUID); err != nil {
			b.Fatal(err)
		}
	}
	s := render.ExecSpec{Program: "daemon-" + benchExecTenant + "-x", Command: "true", User: benchExecTenant, UID: benchExecUID,
		Home: home, Dir: webroot, Env: map[string]string{"HOST": "fd00::1", "PORT": "15000"}}
	data, err := json.Marshal(s)
	if err != nil {
		b.Fatal(err)
	}
	spec := filepath.Join(tmp, "spec.json")
	testenv.WriteFile(b, spec, string(data), 0o600)

	small := droverExecBinary(b)
	b.Run("drover", func(b *testing.B) { benchStarts(b, bin, "exec", spec) })
	b.Run("drover-exec", func(b *testing.B) { benchStarts(b, small, "exec", spec) })
	b.Run("sh", func(b *testing.B) { benchStarts(b, "/bin/sh", "-c", "unset PWD; true") })
}

// benchStarts runs the command b.N times and reports its CPU time per run.
func benchStarts(b *testing.B, name string, args ...string) {
	var cpu time.Duration
	for b.Loop() {
		cmd := exec.Command(name, args...)
		cmd.Env = []string{"SUPERVISOR_PROCESS_NAME=x"}
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("%s: %v\n%s", name, err, out)
		}
		cpu += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/start")
}
