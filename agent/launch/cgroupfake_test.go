package launch

import (
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// fakeCgroups models the cgroup v2 rules drover meets, on a tree below
// CgroupRoot: a process is in one cgroup at a time; a controller can be
// enabled for a cgroup's children only where the cgroup has it, and, below
// the root, only while the cgroup holds no process; a process cannot join
// a cgroup (other than the root) whose children use a controller; memory.*
// files exist only in a cgroup whose parent enabled memory for it; a
// cgroup holding processes or children cannot be removed.
type fakeCgroups struct {
	t   *testing.T
	cgs map[string]*fakeCgroup // by path below CgroupRoot, "/" the root
	// self is the calling process's PID.
	self int
	// onMove, when set, runs before the first move of a process, as a
	// process forked then would.
	onMove func()
}

type fakeCgroup struct {
	procs     []int
	subtree   []string // controllers enabled for the children
	delegated bool
	files     map[string]string // memory.* control files written or set up
}

// newFakeCgroups installs a tree with the root and the given cgroups
// (delegated when marked "+"), with memory enabled for the children of the
// root and of slices as systemd does, and the calling process in cgroup
// own.
func newFakeCgroups(t *testing.T, own string, dirs ...string) *fakeCgroups {
	f := &fakeCgroups{t: t, cgs: map[string]*fakeCgroup{"/": {subtree: []string{"memory"}}}, self: os.Getpid()}
	for _, d := range dirs {
		delegated := strings.HasPrefix(d, "+")
		d = strings.TrimPrefix(d, "+")
		f.mkdir(d)
		f.cgs[d].delegated = delegated
		if strings.HasSuffix(d, ".slice") {
			f.cgs[d].subtree = []string{"memory"}
		}
	}
	f.cgs[own].procs = []int{f.self}
	oldFS, oldRoot := cgroups, CgroupRoot
	cgroups, CgroupRoot = f, "/sys/fs/cgroup"
	t.Cleanup(func() { cgroups, CgroupRoot = oldFS, oldRoot })
	return f
}

func (f *fakeCgroups) mkdir(rel string) {
	if _, ok := f.cgs[rel]; ok || rel == "/" {
		return
	}
	f.mkdir(path.Dir(rel))
	cg := &fakeCgroup{files: map[string]string{}}
	if slices.Contains(f.cgs[path.Dir(rel)].subtree, "memory") {
		cg.files = map[string]string{"memory.max": "max", "memory.swap.max": "max", "memory.events": "oom_kill 0\n"}
	}
	f.cgs[rel] = cg
}

// split turns an absolute control file path into its cgroup and file.
func (f *fakeCgroups) split(name string) (*fakeCgroup, string, string) {
	rel, ok := strings.CutPrefix(name, CgroupRoot)
	if !ok {
		f.t.Fatalf("cgroup path %s outside %s", name, CgroupRoot)
	}
	dir, file := path.Split(rel)
	dir = path.Clean("/" + dir)
	return f.cgs[dir], dir, file
}

func pathErr(op, name string, err error) error { return &fs.PathError{Op: op, Path: name, Err: err} }

func (f *fakeCgroups) read(name string) ([]byte, error) {
	cg, dir, file := f.split(name)
	if cg == nil {
		return nil, pathErr("open", name, syscall.ENOENT)
	}
	switch file {
	case "cgroup.procs":
		var b strings.Builder
		for _, p := range cg.procs {
			fmt.Fprintln(&b, p)
		}
		return []byte(b.String()), nil
	case "cgroup.subtree_control":
		return []byte(strings.Join(cg.subtree, " ") + "\n"), nil
	case "cgroup.controllers":
		return []byte(strings.Join(f.controllers(dir), " ") + "\n"), nil
	}
	if v, ok := cg.files[file]; ok {
		return []byte(v), nil
	}
	return nil, pathErr("open", name, syscall.ENOENT)
}

// controllers is what a cgroup may enable for its children.
func (f *fakeCgroups) controllers(dir string) []string {
	if dir == "/" {
		return []string{"memory"}
	}
	return f.cgs[path.Dir(dir)].subtree
}

func (f *fakeCgroups) write(name, value string) error {
	cg, dir, file := f.split(name)
	if cg == nil {
		return pathErr("open", name, syscall.ENOENT)
	}
	fail := func(err error) error {
		return fmt.Errorf("write %q to %s: %w", value, name, pathErr("write", name, err))
	}
	switch file {
	case "cgroup.procs":
		pid, err := strconv.Atoi(value)
		if err != nil {
			return fail(syscall.EINVAL)
		}
		if dir != "/" && len(cg.subtree) > 0 {
			return fail(syscall.EBUSY)
		}
		if f.onMove != nil {
			on := f.onMove
			f.onMove = nil
			on()
		}
		for _, other := range f.cgs {
			if i := slices.Index(other.procs, pid); i >= 0 {
				other.procs = slices.Delete(other.procs, i, i+1)
				cg.procs = append(cg.procs, pid)
				return nil
			}
		}
		return fail(syscall.ESRCH)
	case "cgroup.subtree_control":
		ctrl, ok := strings.CutPrefix(value, "+")
		switch {
		case !ok:
			return fail(syscall.EINVAL)
		case !slices.Contains(f.controllers(dir), ctrl):
			return fail(syscall.ENOENT)
		case dir != "/" && len(cg.procs) > 0:
			return fail(syscall.EBUSY)
		}
		if !slices.Contains(cg.subtree, ctrl) {
			cg.subtree = append(cg.subtree, ctrl)
			for rel, child := range f.cgs {
				if rel != "/" && path.Dir(rel) == dir {
					child.files = map[string]string{"memory.max": "max", "memory.swap.max": "max", "memory.events": "oom_kill 0\n"}
				}
			}
		}
		return nil
	}
	if _, ok := cg.files[file]; !ok {
		return fail(syscall.EACCES) // cgroupfs creates no files
	}
	cg.files[file] = value
	return nil
}

func (f *fakeCgroups) exists(name string) bool {
	if rel, _ := strings.CutPrefix(name, CgroupRoot); f.cgs[path.Clean("/"+rel)] != nil {
		return true
	}
	_, err := f.read(name)
	return err == nil
}

func (f *fakeCgroups) mkdirAll(dir string) error {
	rel, _ := strings.CutPrefix(dir, CgroupRoot)
	f.mkdir(path.Clean("/" + rel))
	return nil
}

func (f *fakeCgroups) remove(dir string) error {
	rel, _ := strings.CutPrefix(dir, CgroupRoot)
	cg := f.cgs[rel]
	if cg == nil {
		return pathErr("remove", dir, syscall.ENOENT)
	}
	if len(cg.procs) > 0 || len(f.children(dir)) > 0 {
		return pathErr("remove", dir, syscall.EBUSY)
	}
	delete(f.cgs, rel)
	return nil
}

func (f *fakeCgroups) children(dir string) []string {
	rel, _ := strings.CutPrefix(dir, CgroupRoot)
	rel = path.Clean("/" + rel)
	var names []string
	for c := range f.cgs {
		if c != "/" && path.Dir(c) == rel {
			names = append(names, path.Base(c))
		}
	}
	slices.Sort(names)
	return names
}

func (f *fakeCgroups) delegated(dir string) bool {
	rel, _ := strings.CutPrefix(dir, CgroupRoot)
	cg := f.cgs[rel]
	return cg != nil && cg.delegated
}

func (f *fakeCgroups) own() string {
	for rel, cg := range f.cgs {
		if slices.Contains(cg.procs, f.self) {
			return rel
		}
	}
	return ""
}

// spawn puts a new process in cgroup rel, as supervisord forking would.
func (f *fakeCgroups) spawn(rel string, pid int) { f.cgs[rel].procs = append(f.cgs[rel].procs, pid) }

// String is the tree, one cgroup a line, sorted: its processes (the
// calling one as "self"), the controllers it enables for its children, the memory files set.
func (f *fakeCgroups) String() string {
	var b strings.Builder
	for _, rel := range slices.Sorted(maps.Keys(f.cgs)) {
		cg := f.cgs[rel]
		fmt.Fprintf(&b, "%s", rel)
		if cg.delegated {
			b.WriteString(" delegated")
		}
		if len(cg.procs) > 0 {
			var procs []string
			for _, p := range cg.procs {
				if p == f.self {
					procs = append(procs, "self")
				} else {
					procs = append(procs, strconv.Itoa(p))
				}
			}
			fmt.Fprintf(&b, " procs=%v", procs)
		}
		if len(cg.subtree) > 0 {
			fmt.Fprintf(&b, " subtree=%v", cg.subtree)
		}
		for _, k := range []string{"memory.max", "memory.swap.max"} {
			if v, ok := cg.files[k]; ok && v != "max" {
				fmt.Fprintf(&b, " %s=%s", k, v)
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

var _ cgroupFS = (*fakeCgroups)(nil)
