package launch

import (
	"errors"
	"fmt"
	"os"
	"path"
	"strconv"
	"strings"
)

// CgroupRoot is where cgroup file systems are mounted.
var CgroupRoot = "/sys/fs/cgroup"

// MemoryCgroupDir is the cgroup directory of a daemon process: one per
// process (memoryCgroup, which validation keeps unique), so num_procs
// workers each get the full limit; on v2 directly below CgroupRoot, on v1
// below its memory hierarchy.
func MemoryCgroupDir(process string) (dir string, v2 bool) {
	if _, err := os.Stat(path.Join(CgroupRoot, "cgroup.controllers")); err == nil {
		return path.Join(CgroupRoot, memoryCgroup(process)), true
	}
	return path.Join(CgroupRoot, "memory", memoryCgroup(process)), false
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
		// root and of drover's parent cgroup.
		if err := enableMemoryController(CgroupRoot); err != nil {
			return err
		}
		if err := os.MkdirAll(path.Dir(dir), 0o755); err != nil {
			return err
		}
		if err := enableMemoryController(path.Dir(dir)); err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := writeCgroup(dir, "memory.max", limit); err != nil {
			return err
		}
		if err := writeOptional(dir, "memory.swap.max", "0"); err != nil {
			return err
		}
	} else {
		if err := os.MkdirAll(dir, 0o755); err != nil {
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

func enableMemoryController(dir string) error {
	err := writeCgroup(dir, "cgroup.subtree_control", "+memory")
	if err != nil && errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func writeCgroup(dir, file, value string) error {
	if err := os.WriteFile(path.Join(dir, file), []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, path.Join(dir, file), err)
	}
	return nil
}

// writeOptional writes a control file the kernel may not have (swap
// accounting is often disabled).
func writeOptional(dir, file, value string) error {
	if _, err := os.Stat(path.Join(dir, file)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return writeCgroup(dir, file, value)
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
// program's own and "{program}_NN", see spec.ProcessNames), once supervisord has removed it. A
// cgroup still holding a process stays; missing ones are fine.
func RemoveMemoryCgroups(program string) {
	dir, _ := MemoryCgroupDir(program)
	parent := path.Dir(dir)
	entries, _ := os.ReadDir(parent)
	for _, e := range entries {
		if n := e.Name(); n == program || isProcessOf(n, program) {
			_ = os.Remove(path.Join(parent, n))
		}
	}
}

// OOMKills is how many of the process's runs the kernel's OOM killer ended
// in its memory cgroup (oom_kill in memory.events on v2, memory.oom_control
// on v1); 0 when the process has no memory cgroup. The count survives
// restarts: the cgroup is the process's, not the run's.
func OOMKills(process string) int {
	dir, v2 := MemoryCgroupDir(process)
	file := "memory.oom_control"
	if v2 {
		file = "memory.events"
	}
	b, err := os.ReadFile(path.Join(dir, file))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "oom_kill "); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			return n
		}
	}
	return 0
}
