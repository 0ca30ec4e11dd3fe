// Package launch is the exec wrapper supervisord starts for every daemon
// (`drover exec SPEC`). Running as root, it reads the daemon's exec spec,
// checks that the uid is the tenant's own account, joins the memory cgroup,
// drops to the tenant's user and group, enters the webroot as the tenant
// (refusing one that leads outside the tenant's directory), sets
// no_new_privs and replaces itself with /bin/sh -c running the command
// (Argv: exec'd when it is one simple command; a command of plain words
// runs without the shell, execDirect), with only stdin, stdout and
// stderr open, so the command and environment reach the process byte for
// byte. It fails closed: a spec it cannot honour exactly starts nothing.
package launch

import (
	"cmp"
	"fmt"
	"io"
	"runtime"
	"sort"
	"syscall"

	"github.com/drover-sh/drover/execspec"
)

// StandardPath is the PATH every daemon starts with, unless its environment
// sets PATH itself.
const StandardPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Shell runs every daemon's command.
const Shell = "/bin/sh"

// Environ is the daemon's complete environment, sorted: PATH, HOME, USER,
// LOGNAME and SHELL from the tenant's account (HOME the tenant's directory
// and SHELL /bin/sh where the account leaves them empty), then the
// variables of its env_file (fileEnv), then the spec's environment (the
// HCL environment, HOST and PORT): each layer overrides the ones before.
func Environ(s *execspec.Spec, a Account, fileEnv map[string]string) []string {
	env := map[string]string{
		"PATH":    StandardPath,
		"HOME":    cmp.Or(a.Home, s.Home),
		"USER":    a.Name,
		"LOGNAME": a.Name,
		"SHELL":   cmp.Or(a.LoginShell, Shell),
	}
	for k, v := range fileEnv {
		env[k] = v
	}
	for k, v := range s.Env {
		env[k] = v
	}
	out := make([]string, 0, len(env))
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}

// Command is `drover exec SPEC`: it starts the daemon (Run) and returns only
// if it could not, with the exit status, after saying why on stderr.
func Command(path string, stderr io.Writer) int {
	err := Run(path)
	fmt.Fprintf(stderr, "drover exec: %v\n", err)
	return 1
}

// Run starts the daemon described by the spec at path. It returns only on
// error; on success the process image is replaced.
func Run(path string) error {
	// no_new_privs is per thread: set it on the thread that execs.
	runtime.LockOSThread()
	if err := closeInherited(); err != nil {
		return err
	}
	s, err := ReadSpec(path)
	if err != nil {
		return err
	}
	if err := start(s); err != nil {
		return fmt.Errorf("refusing to start %s: %w", s.Program, err)
	}
	return nil
}

// start runs the daemon of a checked spec, in this order: identity (as
// root), memory cgroup and open-file limit (as root), privileges dropped,
// webroot entered and env_file read as the tenant, no_new_privs, exec.
func start(s *execspec.Spec) error {
	pw, err := ReadPasswdOf(PasswdFile, s.UID)
	if err != nil {
		return err
	}
	a, err := CheckTenant(pw, s.User, s.UID)
	if err != nil {
		return err
	}
	if a.GID == 0 {
		return fmt.Errorf("user %s has the root group as its primary group", a.Name)
	}
	if s.MaxMemoryMB > 0 {
		if err := JoinMemoryCgroup(s.Program, s.MaxMemoryMB); err != nil {
			return fmt.Errorf("limit memory: %w", err)
		}
	}
	if s.MaxOpenFiles > 0 {
		if err := limitOpenFiles(s.MaxOpenFiles); err != nil {
			return err
		}
	}
	if err := dropPrivileges(a); err != nil {
		return err
	}
	if err := enterWebroot(s.Dir, s.Home); err != nil {
		return err
	}
	var fileEnv map[string]string
	if s.EnvFile != "" {
		if fileEnv, err = readEnvFile(s.EnvFile); err != nil {
			return fmt.Errorf("env_file %s: %w", s.EnvFile, err)
		}
	}
	if err := noNewPrivs(); err != nil {
		return err
	}
	env := Environ(s, a, fileEnv)
	execDirect(s.Command, env) // returns only if it did not exec
	argv := Argv(s)
	if err := syscall.Exec(argv[0], argv, env); err != nil {
		return fmt.Errorf("exec %s: %w", argv[0], err)
	}
	return nil
}

// limitOpenFiles sets RLIMIT_NOFILE, soft and hard, to n. It runs as root,
// which may raise the hard limit up to fs.nr_open. Without it the daemon
// keeps the limit supervisord passes on: Go raises its own soft limit at
// start and syscall.Exec puts it back unless Setrlimit was called.
func limitOpenFiles(n int) error {
	lim := syscall.Rlimit{Cur: uint64(n), Max: uint64(n)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("limit open files to %d: %w", n, err)
	}
	return nil
}
