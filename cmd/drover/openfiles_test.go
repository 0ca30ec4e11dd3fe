package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/drover-sh/drover/internal/testenv"
)

// The tenant of the open-file test, from this file's uid range 63700-63709.
const (
	openFilesUID    = 63700
	openFilesTenant = "droverof"
)

// TestRealDaemonOpenFiles runs two daemons under real supervisord from the
// rendered files: one with max_open_files = 10000 gets exactly that limit,
// soft and hard, the other the limit supervisord passes on. supervisord's
// limit is lowered first, to a soft limit below its hard one, so the
// inherited limit differs from the one Go's runtime gives drover exec
// itself (it raises the soft limit at start), and, where root has
// CAP_SYS_RESOURCE, to a hard limit below 10000, which drover exec may
// raise only before it drops privileges.
func TestRealDaemonOpenFiles(t *testing.T) {
	testenv.RequireRoot(t)
	tmp := traversableTempDir(t) // the daemons enter their webroot as the tenant
	storage := filepath.Join(tmp, "storage")
	testenv.AddUser(t, openFilesTenant, openFilesUID, filepath.Join(tmp, "home"))
	if err := os.MkdirAll(filepath.Join(storage, openFilesTenant, "webroots", "main"), 0o755); err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(tmp, "repo")
	if err := os.Mkdir(repo, 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, filepath.Join(repo, "config.hcl"), fmt.Sprintf(`cluster "t" {}
shard "s" {
  node "n1" { index = 7 }
}
tenant %q {
  uid   = %d
  shard = "s"
  webroot "main" {
    daemon "limited" {
      command        = "sleep 100000"
      max_open_files = 10000
    }
    daemon "inherits" {
      command = "sleep 100000"
    }
  }
}
`, openFilesTenant, openFilesUID), 0o644)
	out := filepath.Join(tmp, "out")
	renderTree(t, repo, "n1", out, storage)

	// supervisord starts without programs; they are added once its limit
	// is lowered.
	programs := filepath.Join(tmp, "programs")
	if err := os.Mkdir(programs, 0o755); err != nil {
		t.Fatal(err)
	}
	sv := testenv.StartSupervisord(t, filepath.Join(programs, "*.conf"))
	b, err := os.ReadFile(filepath.Join(sv.Dir, "supervisord.pid"))
	if err != nil {
		t.Fatal(err)
	}
	svPID, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	var lim unix.Rlimit
	if err := unix.Prlimit(svPID, unix.RLIMIT_NOFILE, nil, &lim); err != nil {
		t.Fatal(err)
	}
	switch {
	case hasCap(t, unix.CAP_SYS_RESOURCE):
		// A hard limit below 10000: only drover exec as root (with
		// CAP_SYS_RESOURCE) can grant the limited daemon its limit.
		lim.Max = 4096
	case lim.Max < 10000:
		// Without CAP_SYS_RESOURCE (a container's root) no one can raise
		// a hard limit: drover exec refuses to start the daemon.
		t.Skipf("supervisord's hard limit %d is below 10000 and root lacks CAP_SYS_RESOURCE to raise it", lim.Max)
	}
	lim.Cur = 1536
	if err := unix.Prlimit(svPID, unix.RLIMIT_NOFILE, &lim, nil); err != nil {
		t.Fatal(err)
	}
	confs, err := filepath.Glob(filepath.Join(out, "supervisor", "*.conf"))
	if err != nil || len(confs) == 0 {
		t.Fatalf("no supervisord files rendered (%v)", err)
	}
	for _, c := range confs {
		b, err := os.ReadFile(c)
		if err != nil {
			t.Fatal(err)
		}
		testenv.WriteFile(t, filepath.Join(programs, filepath.Base(c)), string(b), 0o644)
	}
	if out, err := sv.Ctl("update"); err != nil {
		t.Fatalf("supervisorctl update: %v\n%s", err, out)
	}

	inherited := fmt.Sprintf("%d %d", lim.Cur, lim.Max)
	if got := openFileLimit(t, svPID); got != inherited {
		t.Fatalf("supervisord's limit is %s, want %s", got, inherited)
	}
	for program, want := range map[string]string{
		"daemon-" + openFilesTenant + "-limited":  "10000 10000",
		"daemon-" + openFilesTenant + "-inherits": inherited,
	} {
		pid := sv.WaitRunning(t, program)
		if got := openFileLimit(t, pid); got != want {
			t.Errorf("%s: Max open files %s, want %s", program, got, want)
		}
	}
}

// openFileLimit is the soft and hard limit of "Max open files" in
// /proc/PID/limits, as "SOFT HARD".
func openFileLimit(t *testing.T, pid int) string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "Max open files"); ok {
			if f := strings.Fields(rest); len(f) >= 2 {
				return f[0] + " " + f[1]
			}
		}
	}
	t.Fatalf("no open-file limit in /proc/%d/limits:\n%s", pid, b)
	return ""
}

// hasCap reports whether this process has capability c in its effective
// set.
func hasCap(t *testing.T, c int) bool {
	t.Helper()
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		t.Fatal(err)
	}
	return data[c/32].Effective&(1<<(uint(c)%32)) != 0
}
