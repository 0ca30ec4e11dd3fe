package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/testenv"
)

// TestDemoLeavesForeignNamespace: make demo refuses to run in a network
// namespace it did not create, and leaves that namespace — with what is in
// it — where it was, and no directory of its own behind.
func TestDemoLeavesForeignNamespace(t *testing.T) {
	testenv.RequireRoot(t)
	testenv.RequireTools(t, "ip", "unshare", "supervisord", "nginx", "git", "curl")
	ns := testenv.NewNetns(t, fmt.Sprintf("drover-demo-t%d", os.Getpid()))
	const marker = "fd00:de:0:1::1" // an address only this namespace has
	testenv.Run(t, "ip", "-n", ns, "addr", "add", marker+"/128", "dev", "lo", "nodad")
	tmp, bin := t.TempDir(), t.TempDir()
	// A drover that does nothing: the demo must stop before it runs one
	// (this test binary would run every test again).
	stub := filepath.Join(bin, "drover")
	testenv.WriteFile(t, stub, "#!/bin/sh\necho \"the demo ran drover $*\" >&2\nexit 99\n", 0o755)

	cmd := exec.Command("../../examples/demo/demo.sh")
	cmd.Env = append(os.Environ(), "DROVER_DEMO_NETNS="+ns, "DROVER_BIN="+stub, "TMPDIR="+tmp)
	out, err := cmd.CombinedOutput()
	if code := cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(string(out), "refusing to touch it") {
		t.Fatalf("make demo beside a namespace %s it did not create: exit %d (%v), want 1 and a refusal:\n%s", ns, code, err, out)
	}
	if addrs, err := testenv.InNetns(ns, "ip", "addr", "show", "dev", "lo"); err != nil || !strings.Contains(addrs, marker) {
		t.Errorf("the namespace %s is gone or lost its address %s: %v %s", ns, marker, err, addrs)
	}
	if left, _ := os.ReadDir(tmp); len(left) > 0 {
		t.Errorf("make demo left %s behind in $TMPDIR", left[0].Name())
	}
}
