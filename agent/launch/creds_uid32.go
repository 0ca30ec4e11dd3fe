//go:build linux && (386 || arm)

package launch

import "syscall"

// The system calls that take 32-bit ids; on these architectures the calls
// without the suffix take 16-bit ones.
const (
	sysSetgroups = syscall.SYS_SETGROUPS32
	sysSetresgid = syscall.SYS_SETRESGID32
	sysSetresuid = syscall.SYS_SETRESUID32
)
