//go:build linux && !(386 || arm)

package launch

import "syscall"

// The system calls that set a thread's groups and ids, 32-bit ids.
const (
	sysSetgroups = syscall.SYS_SETGROUPS
	sysSetresgid = syscall.SYS_SETRESGID
	sysSetresuid = syscall.SYS_SETRESUID
)
