package launch

import (
	"os"
	"path"
	"strconv"
	"strings"
)

// CgroupRoot is where cgroup file systems are mounted.
var CgroupRoot = "/sys/fs/cgroup"

// cgroupV2 reports whether CgroupRoot is the unified (v2) hierarchy.
func cgroupV2() bool { return cgroups.exists(path.Join(CgroupRoot, "cgroup.controllers")) }

// MemoryCgroupDir is the cgroup directory of a daemon process started by
// the calling process: one per process (memoryCgroup, which validation
// keeps unique), so num_procs workers each get the full limit. On v1 below
// the memory hierarchy; on v2 below the cgroup systemd delegated to the
// caller's unit (supervisor.service with drover's drop-in; delegatedBase),
// or directly below CgroupRoot where there is none.
func MemoryCgroupDir(process string) (dir string, v2 bool) {
	if !cgroupV2() {
		return path.Join(CgroupRoot, "memory", memoryCgroup(process)), false
	}
	return path.Join(delegatedBase(), memoryCgroup(process)), true
}

// JoinMemoryCgroup moves the calling process into its own memory cgroup
// limited to mb megabytes, swap included where the kernel accounts it, so a
// daemon over its limit is killed by the kernel (and started again by the
// agent, which names the OOM kill: OOMKills) instead of pushing its
// neighbours into swap. The process name comes from supervisord
// (SUPERVISOR_PROCESS_NAME) and falls back to the program name.
func JoinMemoryCgroup(program string, mb int) error {
	process := os.Getenv("SUPERVISOR_PROCESS_NAME")
	if process == "" || !safeName(process) {
		process = program
	}
	dir, v2 := MemoryCgroupDir(process)
	limit := strconv.FormatInt(int64(mb)<<20, 10)
	if v2 {
		// The memory controller must be enabled for the children of the
		// base (the delegated cgroup or the root) and of drover's cgroup
		// below it.
		if err := makeInner(path.Dir(path.Dir(dir))); err != nil {
			return err
		}
		if err := cgroups.mkdirAll(path.Dir(dir)); err != nil {
			return err
		}
		if err := enableMemoryController(path.Dir(dir)); err != nil {
			return err
		}
		if err := cgroups.mkdirAll(dir); err != nil {
			return err
		}
		if err := writeCgroup(dir, "memory.max", limit); err != nil {
			return err
		}
		if err := writeOptional(dir, "memory.swap.max", "0"); err != nil {
			return err
		}
	} else {
		if err := cgroups.mkdirAll(dir); err != nil {
			return err
		}
		// The kernel wants limit_in_bytes <= memsw.limit_in_bytes at every
		// step: when raising an existing limit, memsw must go first.
		if err := writeCgroup(dir, "memory.limit_in_bytes", limit); err != nil {
			if err2 := writeOptional(dir, "memory.memsw.limit_in_bytes", limit); err2 != nil {
				return err
			}
			if err := writeCgroup(dir, "memory.limit_in_bytes", limit); err != nil {
				return err
			}
		}
		if err := writeOptional(dir, "memory.memsw.limit_in_bytes", limit); err != nil {
			return err
		}
	}
	return writeCgroup(dir, "cgroup.procs", strconv.Itoa(os.Getpid()))
}

// isProcessOf reports whether name is "{program}_NN".
func isProcessOf(name, program string) bool {
	n, ok := strings.CutPrefix(name, program+"_")
	return ok && len(n) == 2 && n[0] >= '0' && n[0] <= '9' && n[1] >= '0' && n[1] <= '9'
}

func safeName(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return s != ""
}

// RemoveMemoryCgroups removes the cgroups of a program's processes (the
// program's own and "{program}_NN", see spec.ProcessNames), once
// supervisord has removed it, wherever they are (memoryParents: the agent
// is not supervisord's child). A cgroup still holding a process stays;
// missing ones are fine.
func RemoveMemoryCgroups(program string) {
	for _, parent := range memoryParents() {
		for _, n := range cgroups.children(parent) {
			if n == program || isProcessOf(n, program) {
				_ = cgroups.remove(path.Join(parent, n))
			}
		}
	}
}

// OOMKills is how many of the process's runs the kernel's OOM killer ended
// in its memory cgroup (oom_kill in memory.events on v2, memory.oom_control
// on v1); 0 when the process has no memory cgroup. The count survives
// restarts: the cgroup is the process's, not the run's (on v2 below a
// delegated cgroup, until supervisord's unit stops: systemd then removes
// its cgroups). A process with cgroups in two places (the cgroup root
// before supervisord was delegated its cgroup, and below it since) counts
// both; a place that appeared in the last parentsTTL may be missed.
func OOMKills(process string) int {
	file := "memory.oom_control"
	if cgroupV2() {
		file = "memory.events"
	}
	total := 0
	for _, parent := range cachedMemoryParents() {
		b, err := cgroups.read(path.Join(parent, process, file))
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "oom_kill "); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(rest))
				total += n
			}
		}
	}
	return total
}
