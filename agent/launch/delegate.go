package launch

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"
)

// On a systemd host with cgroup v2, the daemons' memory cgroups live in the
// subtree systemd delegates to supervisord's unit (the package's drop-in
// sets Delegate=yes on supervisor.service), so stopping the unit, its
// accounting and systemd-cgls see every daemon:
//
//	system.slice/supervisor.service/             delegated: holds no process
//	├── supervisor/                              supervisord, the agent's programs, daemons without a limit
//	└── drover/daemon-acme-ws_00/                one memory cgroup per process
//
// Without a delegated cgroup (no systemd, or supervisord's unit not yet
// restarted with the drop-in) they stay directly below the root, as on v1.

// supervisorLeaf is the child of a delegated cgroup that supervisord moves
// to (makeInner).
const supervisorLeaf = "supervisor"

// maxWalkDepth bounds the search for delegated cgroups (memoryParents):
// systemd's slices nest a few levels (user.slice/user-0.slice/user@0.service).
const maxWalkDepth = 6

// delegatedBase is the cgroup systemd delegated to supervisord's unit, or
// CgroupRoot when there is none. The calling process is drover exec,
// supervisord's child, so it is in that cgroup itself or, once makeInner
// moved supervisord, in its supervisor leaf. A delegated cgroup further up
// belongs to another manager (systemd --user's user@.service, a container
// runtime's scope), whose subtree is not drover's to change.
func delegatedBase() string {
	own := cgroups.own()
	if own == "" || own == "/" {
		return CgroupRoot
	}
	dir := path.Join(CgroupRoot, own)
	if path.Base(dir) == supervisorLeaf && cgroups.delegated(path.Dir(dir)) {
		return path.Dir(dir)
	}
	if cgroups.delegated(dir) {
		return dir
	}
	return CgroupRoot
}

// makeInner readies base for drover's cgroups below it by enabling the
// memory controller for its children. cgroup v2 lets a cgroup other than
// the root hold no process once its children use a controller, so first
// every process of the delegated base (supervisord, and what it started
// outside a memory cgroup, this process included) moves to its supervisor
// leaf; what supervisord forks afterwards starts there. A process forked
// while they move lands in base and makes the kernel refuse the controller
// (EBUSY); then the moves start again.
func makeInner(base string) error {
	if base == CgroupRoot {
		return enableMemoryController(base)
	}
	var err error
	for range 10 {
		if err = moveProcesses(base, path.Join(base, supervisorLeaf)); err != nil {
			return err
		}
		if err = enableMemoryController(base); err == nil || !errors.Is(err, syscall.EBUSY) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("enable the memory controller below supervisord's delegated cgroup %s (its unit needs Delegate=yes, which drover's package sets): %w", base, err)
	}
	return nil
}

// moveProcesses moves every process of the cgroup from to the cgroup to,
// created when needed. A process that exits meanwhile is fine.
func moveProcesses(from, to string) error {
	b, err := cgroups.read(path.Join(from, "cgroup.procs"))
	if err != nil {
		return fmt.Errorf("list the processes of cgroup %s: %w", from, err)
	}
	pids := strings.Fields(string(bytes.TrimSpace(b)))
	if len(pids) == 0 {
		return nil
	}
	if err := cgroups.mkdirAll(to); err != nil {
		return fmt.Errorf("create cgroup %s: %w", to, err)
	}
	for _, pid := range pids {
		if err := writeCgroup(to, "cgroup.procs", pid); err != nil && !errors.Is(err, syscall.ESRCH) {
			return err
		}
	}
	return nil
}

// memoryParents lists the directories the daemons' memory cgroups may be
// in, as seen from any process of the node (the agent runs in a unit of
// its own): on v1 the memory hierarchy's drover/; on v2 the root's drover/
// and the drover/ of every delegated cgroup that has one. A walk of the
// node's cgroups outside drover's own, which are few: systemd's slices
// and units.
func memoryParents() []string {
	if !cgroupV2() {
		return []string{path.Join(CgroupRoot, "memory", "drover")}
	}
	parents := []string{path.Join(CgroupRoot, "drover")}
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		for _, name := range cgroups.children(dir) {
			if name == "drover" || name == supervisorLeaf {
				continue
			}
			child := path.Join(dir, name)
			if cgroups.delegated(child) && cgroups.exists(path.Join(child, "drover")) {
				parents = append(parents, path.Join(child, "drover"))
			}
			if depth < maxWalkDepth {
				walk(child, depth+1)
			}
		}
	}
	walk(CgroupRoot, 1)
	return parents
}

// parentsTTL is how long cachedMemoryParents reuses a walk.
const parentsTTL = 10 * time.Second

// parentsCache keeps memoryParents' answer for OOMKills, which the agent
// asks at every failed run of a daemon with a limit: the walk costs 5 to
// 9 ms on a host with 150 units and 3,000 daemon cgroups
// (BenchmarkMemoryParents), and its answer changes only when supervisord's
// unit is first given a delegated cgroup.
var parentsCache struct {
	sync.Mutex
	fs      cgroupFS
	root    string
	at      time.Time
	parents []string
}

// cachedMemoryParents is memoryParents, walked at most once per parentsTTL.
func cachedMemoryParents() []string {
	c := &parentsCache
	c.Lock()
	defer c.Unlock()
	if c.fs != cgroups || c.root != CgroupRoot || time.Since(c.at) > parentsTTL {
		c.fs, c.root, c.at, c.parents = cgroups, CgroupRoot, time.Now(), memoryParents()
	}
	return slices.Clone(c.parents)
}
