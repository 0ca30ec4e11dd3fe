package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
// packages' start-up cost). "drover-exec-program" starts the program
// "sleep 0" instead of the builtin, which drover exec runs without a shell;
// "sh-program" is the shell line that runs it otherwise.
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

	// The same daemon with a Laravel-sized env_file (40 variables).
	var env strings.Builder
	for i := range 40 {
		fmt.Fprintf(&env, "APP_SETTING_%02d=\"value number %d of the application\"\n", i, i)
	}
	envFile := filepath.Join(webroot, ".env.hosting")
	testenv.WriteFile(b, envFile, env.String(), 0o600)
	if err := os.Chown(envFile, benchExecUID, benchExecUID); err != nil {
		b.Fatal(err)
	}
	s.EnvFile = ".env.hosting"
	if data, err = json.Marshal(s); err != nil {
		b.Fatal(err)
	}
	withEnvFile := filepath.Join(tmp, "spec-env-file.json")
	testenv.WriteFile(b, withEnvFile, string(data), 0o600)

	// The same daemon running a program rather than a builtin: "sleep 0",
	// found through PATH, which drover exec runs without the shell.
	s.EnvFile = ""
	s.Command = "sleep 0"
	if data, err = json.Marshal(s); err != nil {
		b.Fatal(err)
	}
	program := filepath.Join(tmp, "spec-program.json")
	testenv.WriteFile(b, program, string(data), 0o600)

	small := droverExecBinary(b)
	b.Run("drover", func(b *testing.B) { benchStarts(b, bin, "exec", spec) })
	b.Run("drover-exec", func(b *testing.B) { benchStarts(b, small, "exec", spec) })
	b.Run("drover-exec-env-file", func(b *testing.B) { benchStarts(b, small, "exec", withEnvFile) })
	b.Run("sh", func(b *testing.B) { benchStarts(b, "/bin/sh", "-c", "unset PWD; true") })
	b.Run("drover-exec-program", func(b *testing.B) { benchStarts(b, small, "exec", program) })
	b.Run("sh-program", func(b *testing.B) { benchStarts(b, "/bin/sh", "-c", "unset PWD; exec sleep 0") })
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
