// Package launch is the exec wrapper supervisord starts for every daemon
// (`drover exec SPEC`, SPEC §5). Running as root, it reads the daemon's exec
// spec, builds a clean environment, enters the webroot, drops to the tenant's
// user and group and replaces itself with /bin/sh -c "exec COMMAND", so the
// command and environment reach the process byte for byte and stop signals
// reach the program itself.
package launch

import (
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"sort"
	"strconv"
	"syscall"

	"github.com/drover-sh/drover/render"
)

// StandardPath is the PATH every daemon starts with, unless its environment
// sets PATH itself.
const StandardPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// Shell runs every daemon's command.
const Shell = "/bin/sh"

// minUID is the smallest uid a daemon may run as; lower ones are system users.
const minUID = 1000

// Identity is the user a daemon runs as.
type Identity struct {
	UID, GID   int
	Name, Home string
	LoginShell string
	FromPasswd bool
}

// ReadSpec reads an exec spec, refusing one that anyone but root could have
// written: the wrapper runs as root and trusts the file completely.
func ReadSpec(path string) (*render.ExecSpec, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
		return nil, fmt.Errorf("exec spec %s is owned by uid %d, not root; refusing it", path, sys.Uid)
	}
	if st.Mode().Perm()&0o022 != 0 {
		return nil, fmt.Errorf("exec spec %s is writable by group or others (mode %04o); refusing it", path, st.Mode().Perm())
	}
	var s render.ExecSpec
	dec := json.NewDecoder(f)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("read exec spec %s: %w", path, err)
	}
	if s.UID < minUID {
		return nil, fmt.Errorf("exec spec %s: uid %d is a system user; daemons run as tenants (uid >= %d)", path, s.UID, minUID)
	}
	if s.Command == "" || s.Dir == "" {
		return nil, fmt.Errorf("exec spec %s: command and dir are required", path)
	}
	return &s, nil
}

// LookupIdentity finds the daemon's user by uid. A uid without a passwd
// entry still runs, with the tenant name, the spec's home, gid = uid and
// /bin/sh as its shell.
func LookupIdentity(s *render.ExecSpec) Identity {
	id := Identity{UID: s.UID, GID: s.UID, Name: s.User, Home: s.Home, LoginShell: Shell}
	u, err := user.LookupId(strconv.Itoa(s.UID))
	if err != nil {
		return id
	}
	id.FromPasswd = true
	id.Name = u.Username
	if u.HomeDir != "" {
		id.Home = u.HomeDir
	}
	if gid, err := strconv.Atoi(u.Gid); err == nil {
		id.GID = gid
	}
	if sh := loginShell(u.Username); sh != "" {
		id.LoginShell = sh
	}
	return id
}

// Environ is the daemon's complete environment, sorted: PATH, HOME, USER,
// LOGNAME and SHELL, then the spec's environment, which may override them.
func Environ(s *render.ExecSpec, id Identity) []string {
	env := map[string]string{
		"PATH":    StandardPath,
		"HOME":    id.Home,
		"USER":    id.Name,
		"LOGNAME": id.Name,
		"SHELL":   id.LoginShell,
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

// Argv is the shell command line: the command is handed to the shell as one
// argument, never pasted into a file, so its bytes arrive unchanged. "exec"
// makes the program replace the shell, so stop signals reach it; "unset PWD"
// drops the variable dash adds on start, so the environment holds exactly
// what Environ built.
func Argv(s *render.ExecSpec) []string {
	return []string{Shell, "-c", "unset PWD; exec " + s.Command}
}

// Run starts the daemon described by the spec at path. It returns only on
// error; on success the process image is replaced.
func Run(path string) error {
	s, err := ReadSpec(path)
	if err != nil {
		return err
	}
	id := LookupIdentity(s)
	if s.MaxMemoryMB > 0 {
		if err := JoinMemoryCgroup(s.Program, s.MaxMemoryMB); err != nil {
			return fmt.Errorf("limit memory of %s: %w", s.Program, err)
		}
	}
	if err := os.Chdir(s.Dir); err != nil {
		return fmt.Errorf("enter webroot of %s: %w", s.Program, err)
	}
	if err := syscall.Setgroups([]int{id.GID}); err != nil {
		return fmt.Errorf("set groups of %s: %w", s.Program, err)
	}
	if err := syscall.Setgid(id.GID); err != nil {
		return fmt.Errorf("set gid %d for %s: %w", id.GID, s.Program, err)
	}
	if err := syscall.Setuid(id.UID); err != nil {
		return fmt.Errorf("set uid %d for %s: %w", id.UID, s.Program, err)
	}
	argv := Argv(s)
	if err := syscall.Exec(argv[0], argv, Environ(s, id)); err != nil {
		return fmt.Errorf("exec %s for %s: %w", argv[0], s.Program, err)
	}
	return nil
}
