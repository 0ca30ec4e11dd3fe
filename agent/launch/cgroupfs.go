package launch

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path"
	"syscall"
)

// cgroupFS is the part of the cgroup file system drover uses, by absolute
// path: the kernel's (kernelCgroups), or a model of cgroup v2's rules in
// tests.
type cgroupFS interface {
	// read returns a control file's content.
	read(file string) ([]byte, error)
	// write writes value to a control file that must exist.
	write(file, value string) error
	// exists reports whether a cgroup or a control file exists.
	exists(name string) bool
	// mkdirAll creates a cgroup and the ones above it.
	mkdirAll(dir string) error
	// remove removes an empty cgroup.
	remove(dir string) error
	// children lists the names of a cgroup's child cgroups.
	children(dir string) []string
	// delegated reports whether systemd delegated the cgroup (Delegate=
	// on its unit): it marks such a cgroup with the extended attribute
	// trusted.delegate (and user.delegate) set to "1".
	delegated(dir string) bool
	// own is the calling process's cgroup v2 path ("/system.slice/x.service"),
	// from /proc/self/cgroup; "" when it has none.
	own() string
}

// cgroups is the cgroup file system drover works on.
var cgroups cgroupFS = kernelCgroups{}

// kernelCgroups is the kernel's cgroup file system.
type kernelCgroups struct{}

func (kernelCgroups) read(file string) ([]byte, error) { return os.ReadFile(file) }

func (kernelCgroups) write(file, value string) error {
	if err := os.WriteFile(file, []byte(value), 0o644); err != nil {
		return fmt.Errorf("write %q to %s: %w", value, file, err)
	}
	return nil
}

func (kernelCgroups) exists(name string) bool {
	_, err := os.Stat(name)
	return err == nil
}

func (kernelCgroups) mkdirAll(dir string) error { return os.MkdirAll(dir, 0o755) }

func (kernelCgroups) remove(dir string) error { return os.Remove(dir) }

func (kernelCgroups) children(dir string) []string {
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			names = append(names, e.Name())
		}
	}
	return names
}

func (kernelCgroups) delegated(dir string) bool {
	for _, attr := range []string{"trusted.delegate", "user.delegate"} {
		buf := make([]byte, 8)
		if n, err := syscall.Getxattr(dir, attr, buf); err == nil && string(buf[:n]) == "1" {
			return true
		}
	}
	return false
}

func (kernelCgroups) own() string {
	b, err := os.ReadFile("/proc/self/cgroup")
	if err != nil {
		return ""
	}
	for line := range bytes.Lines(b) {
		if rest, ok := bytes.CutPrefix(line, []byte("0::")); ok {
			return path.Clean(string(bytes.TrimSpace(rest)))
		}
	}
	return ""
}

// writeCgroup writes a control file of the cgroup dir.
func writeCgroup(dir, file, value string) error {
	return cgroups.write(path.Join(dir, file), value)
}

// writeOptional writes a control file the kernel may not have (swap
// accounting is often disabled).
func writeOptional(dir, file, value string) error {
	if !cgroups.exists(path.Join(dir, file)) {
		return nil
	}
	return writeCgroup(dir, file, value)
}

// enableMemoryController enables the memory controller for the children
// of dir; where the control file is missing there is nothing to enable.
// The kernel answers ENOENT, too, when dir itself lacks the controller.
func enableMemoryController(dir string) error {
	file := path.Join(dir, "cgroup.subtree_control")
	err := writeCgroup(dir, "cgroup.subtree_control", "+memory")
	if err != nil && errors.Is(err, os.ErrNotExist) && !cgroups.exists(file) {
		return nil
	}
	return err
}

var _ cgroupFS = kernelCgroups{}
