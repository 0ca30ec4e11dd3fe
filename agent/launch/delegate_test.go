package launch

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

const unit = "/system.slice/supervisor.service"

// checkTree compares the fake's tree with want (leading tabs and blank
// lines dropped).
func checkTree(t *testing.T, f *fakeCgroups, want string) {
	t.Helper()
	var lines []string
	for _, l := range strings.Split(want, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if got := f.String(); got != strings.Join(lines, "\n")+"\n" {
		t.Errorf("cgroup tree:\n%s\nwant:\n%s", got, strings.Join(lines, "\n"))
	}
}

// Under supervisor.service with Delegate=yes, the daemon's cgroup is made
// below the unit's cgroup, never at the root: supervisord and what it
// started move to the supervisor leaf first (no processes in a cgroup
// whose children use a controller), and the next drover exec, started
// from that leaf, finds the same delegated cgroup.
func TestJoinMemoryCgroupBelowDelegatedUnit(t *testing.T) {
	f := newFakeCgroups(t, unit, "/system.slice", "+"+unit, "/system.slice/drover.service")
	f.spawn(unit, 100) // supervisord
	f.spawn(unit, 101) // the event listener
	t.Setenv("SUPERVISOR_PROCESS_NAME", "daemon-a-b_01")
	if err := JoinMemoryCgroup("daemon-a-b", 64); err != nil {
		t.Fatal(err)
	}
	checkTree(t, f, `
		/ subtree=[memory]
		/system.slice subtree=[memory]
		/system.slice/drover.service
		/system.slice/supervisor.service delegated subtree=[memory]
		/system.slice/supervisor.service/drover subtree=[memory]
		/system.slice/supervisor.service/drover/daemon-a-b_01 procs=[self] memory.max=67108864 memory.swap.max=0
		/system.slice/supervisor.service/supervisor procs=[100 101]
	`)
	if t.Failed() {
		return
	}
	// supervisord forks the next drover exec into its leaf.
	f.cgs[unit+"/drover/daemon-a-b_01"].procs = nil
	f.spawn(unit+"/supervisor", f.self)
	if dir, v2 := MemoryCgroupDir("p"); !v2 || dir != "/sys/fs/cgroup"+unit+"/drover/p" {
		t.Errorf("MemoryCgroupDir from supervisord's leaf = %s, %v", dir, v2)
	}
	t.Setenv("SUPERVISOR_PROCESS_NAME", "daemon-a-c")
	if err := JoinMemoryCgroup("daemon-a-c", 32); err != nil {
		t.Fatal(err)
	}
	checkTree(t, f, `
		/ subtree=[memory]
		/system.slice subtree=[memory]
		/system.slice/drover.service
		/system.slice/supervisor.service delegated subtree=[memory]
		/system.slice/supervisor.service/drover subtree=[memory]
		/system.slice/supervisor.service/drover/daemon-a-b_01 memory.max=67108864 memory.swap.max=0
		/system.slice/supervisor.service/drover/daemon-a-c procs=[self] memory.max=33554432 memory.swap.max=0
		/system.slice/supervisor.service/supervisor procs=[100 101]
	`)
}

// A process supervisord forks while the others move lands in the unit's
// cgroup and makes the kernel refuse the controller (EBUSY): the moves
// start again.
func TestJoinMemoryCgroupRetriesAfterAFork(t *testing.T) {
	f := newFakeCgroups(t, unit, "/system.slice", "+"+unit)
	f.spawn(unit, 100)
	f.onMove = func() { f.spawn(unit, 102) }
	t.Setenv("SUPERVISOR_PROCESS_NAME", "daemon-a-b")
	if err := JoinMemoryCgroup("daemon-a-b", 64); err != nil {
		t.Fatal(err)
	}
	if leaf := f.cgs[unit+"/supervisor"]; leaf == nil || !slices.Equal(leaf.procs, []int{100, 102}) {
		t.Errorf("the supervisor leaf should hold supervisord and the process it forked meanwhile:\n%s", f)
	}
}

// Without delegation (no systemd, or supervisord's unit not restarted since
// the drop-in) nothing is written in a cgroup systemd owns: the daemon's
// cgroup stays below the root, as before.
func TestJoinMemoryCgroupWithoutDelegation(t *testing.T) {
	f := newFakeCgroups(t, unit, "/system.slice", unit)
	f.spawn(unit, 100)
	t.Setenv("SUPERVISOR_PROCESS_NAME", "daemon-a-b")
	if err := JoinMemoryCgroup("daemon-a-b", 64); err != nil {
		t.Fatal(err)
	}
	checkTree(t, f, `
		/ subtree=[memory]
		/drover subtree=[memory]
		/drover/daemon-a-b procs=[self] memory.max=67108864 memory.swap.max=0
		/system.slice subtree=[memory]
		/system.slice/supervisor.service procs=[100]
	`)
}

// A delegated cgroup above supervisord's own unit is another manager's
// (here systemd --user's): nothing is made or moved in it.
func TestJoinMemoryCgroupLeavesAnotherManagersSubtree(t *testing.T) {
	user := "/user.slice/user-0.slice/user@0.service"
	f := newFakeCgroups(t, user+"/app.slice/supervisor.service", "/user.slice", "/user.slice/user-0.slice", "+"+user, user+"/app.slice/supervisor.service")
	f.cgs[user].subtree = []string{"memory"}
	f.cgs[user+"/app.slice"].subtree = []string{"memory"}
	f.spawn(user+"/app.slice/supervisor.service", 100)
	t.Setenv("SUPERVISOR_PROCESS_NAME", "daemon-a-b")
	if err := JoinMemoryCgroup("daemon-a-b", 64); err != nil {
		t.Fatal(err)
	}
	checkTree(t, f, `
		/ subtree=[memory]
		/drover subtree=[memory]
		/drover/daemon-a-b procs=[self] memory.max=67108864 memory.swap.max=0
		/user.slice subtree=[memory]
		/user.slice/user-0.slice subtree=[memory]
		/user.slice/user-0.slice/user@0.service delegated subtree=[memory]
		/user.slice/user-0.slice/user@0.service/app.slice subtree=[memory]
		/user.slice/user-0.slice/user@0.service/app.slice/supervisor.service procs=[100]
	`)
}

// A unit delegated without the memory controller refuses the start with a
// message naming the cgroup and the fix.
func TestJoinMemoryCgroupNeedsTheMemoryController(t *testing.T) {
	f := newFakeCgroups(t, unit, "/system.slice", "+"+unit)
	f.cgs["/system.slice"].subtree = nil
	t.Setenv("SUPERVISOR_PROCESS_NAME", "daemon-a-b")
	err := JoinMemoryCgroup("daemon-a-b", 64)
	if err == nil || !strings.Contains(err.Error(), "supervisord's delegated cgroup /sys/fs/cgroup"+unit) || !strings.Contains(err.Error(), "Delegate=yes") {
		t.Errorf("err = %v", err)
	}
}

// The agent runs in a unit of its own: it finds the daemons' cgroups below
// supervisord's delegated cgroup and, from before the delegation, below
// the root; it counts OOM kills in both and removes both.
func TestAgentFindsDaemonCgroups(t *testing.T) {
	f := newFakeCgroups(t, "/system.slice/drover.service", "/system.slice", "/system.slice/drover.service", "+"+unit,
		unit+"/supervisor", unit+"/drover/daemon-a-b", unit+"/drover/daemon-a-b_01", unit+"/drover/daemon-a-bc",
		"/drover/daemon-a-b")
	f.cgs[unit].subtree = []string{"memory"}
	f.cgs[unit+"/drover"].subtree = []string{"memory"}
	f.cgs["/drover"].subtree = []string{"memory"}
	f.cgs[unit+"/drover/daemon-a-b"].files = map[string]string{"memory.events": "low 0\noom 2\noom_kill 2\n"}
	f.cgs["/drover/daemon-a-b"].files = map[string]string{"memory.events": "oom_kill 1\n"}
	if n := OOMKills("daemon-a-b"); n != 3 {
		t.Errorf("OOMKills = %d, want 3 (2 below supervisor.service, 1 below the root)", n)
	}
	if n := OOMKills("daemon-x"); n != 0 {
		t.Errorf("OOMKills of a process without a cgroup = %d", n)
	}
	RemoveMemoryCgroups("daemon-a-b")
	checkTree(t, f, `
		/ subtree=[memory]
		/drover subtree=[memory]
		/system.slice subtree=[memory]
		/system.slice/drover.service procs=[self]
		/system.slice/supervisor.service delegated subtree=[memory]
		/system.slice/supervisor.service/drover subtree=[memory]
		/system.slice/supervisor.service/drover/daemon-a-bc
		/system.slice/supervisor.service/supervisor
	`)
}

// BenchmarkMemoryParents is the agent's search for the daemons' cgroups
// (OOMKills without its cache) on a host with 150 units of 30 control
// files each and 3,000 daemon cgroups below supervisord's delegated cgroup,
// on the real file system (a directory tree in place of cgroupfs).
func BenchmarkMemoryParents(b *testing.B) {
	root := b.TempDir()
	mk := func(dir string, files int) {
		if err := os.MkdirAll(filepath.Join(root, dir), 0o755); err != nil {
			b.Fatal(err)
		}
		for i := range files {
			if err := os.WriteFile(filepath.Join(root, dir, fmt.Sprintf("control.%d", i)), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	mk("", 30)
	if err := os.WriteFile(filepath.Join(root, "cgroup.controllers"), []byte("memory\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	for i := range 150 {
		mk(fmt.Sprintf("system.slice/unit-%d.service", i), 30)
	}
	mk(unit+"/supervisor", 30)
	for i := range 3000 {
		mk(fmt.Sprintf("%s/drover/daemon-%d", unit, i), 0)
	}
	if err := syscall.Setxattr(filepath.Join(root, unit), "user.delegate", []byte("1"), 0); err != nil {
		if err := syscall.Setxattr(filepath.Join(root, unit), "trusted.delegate", []byte("1"), 0); err != nil {
			b.Fatalf("mark the delegated cgroup: %v", err)
		}
	}
	old := CgroupRoot
	CgroupRoot = root
	b.Cleanup(func() { CgroupRoot = old })
	if got := memoryParents(); !slices.Equal(got, []string{root + "/drover", root + unit + "/drover"}) {
		b.Fatalf("memoryParents = %v", got)
	}
	for b.Loop() {
		memoryParents()
	}
}
