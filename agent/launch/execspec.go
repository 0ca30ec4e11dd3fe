package launch

import (
	"errors"
	"fmt"
	"math"
	"path"
	"strings"

	"github.com/drover-sh/drover/execspec"
	"github.com/drover-sh/drover/internal/regular"
)

// maxMemoryMB is the largest limit whose byte count fits cgroup files (an
// int64).
const maxMemoryMB = math.MaxInt64 >> 20

// maxSpecBytes bounds an exec spec: one daemon's command and environment,
// which the kernel bounds far below this at the exec.
const maxSpecBytes = 4 << 20

// ReadSpec reads an exec spec, refusing one that anyone but root could have
// written (the wrapper runs as root and trusts the file completely) and one
// it could not honour exactly (see checkSpec).
func ReadSpec(path string) (*execspec.Spec, error) {
	data, st, err := regular.Read(path, false, maxSpecBytes) // not a link, not a FIFO to wait on
	if errors.Is(err, regular.ErrTooLarge) {
		return nil, fmt.Errorf("exec spec %s is larger than %d MiB; refusing it", path, maxSpecBytes>>20)
	}
	if err != nil {
		return nil, err
	}
	if st.Uid != 0 {
		return nil, fmt.Errorf("exec spec %s is owned by uid %d, not root; refusing it", path, st.Uid)
	}
	if perm := st.Mode & 0o777; perm&0o022 != 0 {
		return nil, fmt.Errorf("exec spec %s is writable by group or others (mode %04o); refusing it", path, perm)
	}
	s, err := execspec.Decode(data)
	if err != nil {
		return nil, fmt.Errorf("read exec spec %s: %w", path, err)
	}
	if err := checkSpec(&s); err != nil {
		return nil, fmt.Errorf("exec spec %s: %w", path, err)
	}
	return &s, nil
}

// checkSpec refuses a spec drover exec could not honour exactly: a system
// or invalid uid, a name or path that is not plain, bytes the kernel cannot
// pass (NUL), an environment name that would read back differently or a
// limit out of range.
func checkSpec(s *execspec.Spec) error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.UID < minUID || s.UID > maxUID {
		fail("uid %d is not a tenant's: daemons run as uid %d..%d", s.UID, minUID, uint32(maxUID))
	}
	if !safeName(s.Program) {
		fail("program %q is not a plain name ([a-z0-9_-])", s.Program)
	}
	if !safeName(s.User) {
		fail("user %q is not a plain name ([a-z0-9_-])", s.User)
	}
	if s.Command == "" || strings.IndexByte(s.Command, 0) >= 0 {
		fail("the command is empty or holds a NUL byte")
	}
	if !cleanAbs(s.Home) || !cleanAbs(s.Dir) || !strings.HasPrefix(s.Dir, s.Home+"/") {
		fail("dir %q must be a clean absolute path below the tenant's directory %q", s.Dir, s.Home)
	}
	for k, v := range s.Env {
		if k == "" || strings.ContainsAny(k, "=\x00") || strings.IndexByte(v, 0) >= 0 {
			fail("environment variable %q cannot be passed exactly (empty name, '=' or NUL)", k)
		}
		if strings.HasPrefix(v, execspec.SealedPrefix) {
			fail("environment variable %q is still encrypted: only the agent decrypts it, into the exec spec it installs", k)
		}
	}
	if s.EnvFile != "" && !cleanRel(s.EnvFile) {
		fail("env_file %q must be a clean relative path inside the webroot", s.EnvFile)
	}
	if s.MaxMemoryMB < 0 || int64(s.MaxMemoryMB) > maxMemoryMB {
		fail("max_memory_mb %d is out of range 0..%d", s.MaxMemoryMB, int64(maxMemoryMB))
	}
	if n := s.MaxOpenFiles; n != 0 && (n < minMaxOpenFiles || n > maxMaxOpenFiles) {
		fail("max_open_files %d is out of range %d..%d (0: inherited)", n, minMaxOpenFiles, maxMaxOpenFiles)
	}
	return errors.Join(errs...)
}

func cleanAbs(p string) bool {
	return path.IsAbs(p) && path.Clean(p) == p && p != "/" && !strings.ContainsAny(p, "\x00\n")
}
