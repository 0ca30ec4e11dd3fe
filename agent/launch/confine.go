package launch

import (
	"fmt"
	"math"
	"os"
	"path"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

// Linux's numbers drover exec needs that the syscall package does not
// name (launch must not import golang.org/x/sys/unix: see bounds.go).
const (
	sysCloseRange     = 436 // close_range(2): one number on every architecture
	closeRangeCloexec = 1 << 2
	prSetNoNewPrivs   = 38
)

// closeInherited marks every descriptor above 2 close-on-exec, so the daemon
// starts with stdin, stdout and stderr only. supervisord closes its own
// descriptors in the child only below its minfds (1024 by default); on a
// node with thousands of programs the pipes of other daemons are above it.
// It runs as root: once the uid changes, /proc/self/fd is root's.
func closeInherited() error {
	if _, _, e := syscall.Syscall(sysCloseRange, 3, math.MaxUint32, closeRangeCloexec); e == 0 {
		return nil
	}
	// Kernels before 5.11 lack CLOSE_RANGE_CLOEXEC.
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list inherited descriptors: %w", err)
	}
	for _, e := range entries {
		fd, err := strconv.Atoi(e.Name())
		if err != nil || fd <= 2 {
			continue
		}
		if _, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_SETFD, syscall.FD_CLOEXEC); e != 0 && e != syscall.EBADF {
			return fmt.Errorf("close inherited descriptor %d: %w", fd, e)
		}
	}
	return nil
}

// dropPrivileges makes the calling thread the tenant's: groups reduced to
// its primary group, then gid and uid (real, effective and saved). Linux
// keeps credentials per thread; unlike syscall.Setuid, which signals every
// thread of the process to change them all, these calls change the calling
// thread alone — the one the caller holds (runtime.LockOSThread), which
// enters the webroot, reads the env_file and execs. The runtime's other
// threads run no drover code and end at the exec. (Signalling them cost a
// fifth of drover exec's own CPU.)
func dropPrivileges(a Account) error {
	gid := []uint32{a.GID}
	if _, _, e := syscall.RawSyscall(sysSetgroups, 1, uintptr(unsafe.Pointer(&gid[0])), 0); e != 0 {
		return fmt.Errorf("set groups to %d: %w", a.GID, e)
	}
	if _, _, e := syscall.RawSyscall(sysSetresgid, uintptr(a.GID), uintptr(a.GID), uintptr(a.GID)); e != 0 {
		return fmt.Errorf("set gid %d: %w", a.GID, e)
	}
	if _, _, e := syscall.RawSyscall(sysSetresuid, uintptr(a.UID), uintptr(a.UID), uintptr(a.UID)); e != 0 {
		return fmt.Errorf("set uid %d: %w", a.UID, e)
	}
	if uid, euid := syscall.Getuid(), syscall.Geteuid(); uid != int(a.UID) || euid != int(a.UID) {
		return fmt.Errorf("set uid %d: still uid %d, euid %d", a.UID, uid, euid)
	}
	return nil
}

// noNewPrivs sets no_new_privs: neither the daemon nor anything it runs can
// gain privileges through setuid binaries or file capabilities. The flag is
// per thread: the caller must hold its OS thread until it execs.
func noNewPrivs() error {
	if _, _, e := syscall.RawSyscall(syscall.SYS_PRCTL, prSetNoNewPrivs, 1, 0); e != 0 {
		return fmt.Errorf("set no_new_privs: %w", e)
	}
	return nil
}

// enterWebroot enters dir with the tenant's rights (privileges are dropped
// already, so the kernel checks every directory on the way as the tenant)
// and refuses a working directory outside tenantDir: a tenant who replaces
// its webroot, or a directory on the way, by a symlink must not get a
// daemon whose /proc/PID/cwd leads elsewhere. Only the storage root above
// the tenant directory (root's) is resolved through symlinks; the tenant
// directory itself must be a directory, not a link. The check reads the
// working directory back from the kernel after entering it, so nothing
// renamed before or after can fool it.
func enterWebroot(dir, tenantDir string) error {
	storage, err := resolve(path.Dir(tenantDir))
	if err != nil {
		return fmt.Errorf("resolve the storage root of %s: %w", tenantDir, err)
	}
	root := path.Join(storage, path.Base(tenantDir))
	if st, err := os.Lstat(root); err != nil || !st.IsDir() {
		return fmt.Errorf("tenant directory %s is not a directory (a symlink?), so webroot %s cannot be checked; refusing it", tenantDir, dir)
	}
	if err := os.Chdir(dir); err != nil {
		return fmt.Errorf("enter the webroot as the tenant: %w", err)
	}
	cwd, err := syscall.Getwd()
	if err != nil {
		return fmt.Errorf("read the working directory in webroot %s: %w", dir, err)
	}
	if cwd != root && !strings.HasPrefix(cwd, root+"/") {
		return fmt.Errorf("webroot %s resolves to %s, outside the tenant directory %s (a symlink?); refusing it", dir, cwd, root)
	}
	return nil
}

// resolve returns dir with every symlink resolved, as the kernel reads it
// back after entering dir (the caller enters its own directory next).
func resolve(dir string) (string, error) {
	if err := os.Chdir(dir); err != nil {
		return "", err
	}
	return syscall.Getwd()
}
