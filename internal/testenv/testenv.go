// Package testenv starts real supervisord and nginx instances, tenant users
// and network namespaces for end-to-end tests, and cleans every one of them
// up after the test. Everything it starts is private to the test (its own
// config, socket and pid file under the test's temp dir) and is stopped by
// PID; nothing on the machine is touched otherwise.
package testenv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// RequireRoot skips a test that needs root. CI runs as root, so these tests
// always run there.
func RequireRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CI runs the suite as root)")
	}
}

// RequireTools skips a test when a tool is missing. CI installs them all
// (.ci/run), so these tests always run there.
func RequireTools(t testing.TB, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s (installed by .ci/run)", tool)
		}
	}
}

// Run runs a command and returns its combined output, failing the test on
// error.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("running %s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Eventually polls cond every 50 ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WriteFile writes a file, failing the test on error.
func WriteFile(t testing.TB, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
}

// KillPIDFile stops the process whose PID is in file with SIGTERM, waiting
// up to 10 s before SIGKILL.
func KillPIDFile(file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		return
	}
	var pid int
	if _, err := fmt.Sscan(string(bytes.TrimSpace(b)), &pid); err != nil || pid <= 1 {
		return
	}
	KillPID(pid)
}

// KillPID stops a process this test started with SIGTERM, waiting up to
// 10 s before SIGKILL. A process a test stopped (SIGSTOP) is continued
// first: a stopped supervisord would otherwise be killed without stopping
// its children, which would outlive the test.
func KillPID(pid int) {
	if syscall.Kill(pid, syscall.SIGTERM) != nil {
		return
	}
	_ = syscall.Kill(pid, syscall.SIGCONT)
	for i := 0; i < 200; i++ {
		if !alive(pid) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = syscall.Kill(pid, syscall.SIGKILL)
}

// alive reports whether pid runs; a zombie (exited, not yet reaped by its
// parent) does not.
func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name in parentheses: "pid (comm) S ...".
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+2 >= len(b) || b[i+2] != 'Z'
}
