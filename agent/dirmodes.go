package agent

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/install"
)

// The agent runs as root and writes files that root programs act on
// (supervisord program files, nginx configuration, exec specs), and it keeps
// every tenant's environment in its state directory. This file holds the
// checks it makes at start, before it reads or writes any of them.

// CheckDirs refuses to start when someone other than root could change a
// directory drover installs into, or any directory above it up to /, as
// sshd's StrictModes does: such a user could replace drover's files with
// their own, which supervisord and nginx would load as root. The directories
// are state_dir, supervisor.conf_dir, nginx.conf_dir and those drover
// creates in them. A directory must be owned by root (or the user running
// the agent) and writable by its owner only. A root-owned sticky directory
// writable by everyone (/tmp) is accepted above an existing directory, which
// nobody else can rename or remove there, but not as the place drover would
// create one: someone could create it first.
func CheckDirs(cfg *config.Config) error {
	dirs := []struct{ key, path string }{
		{"state_dir", cfg.StateDir},
		{"supervisor.conf_dir", cfg.Supervisor.ConfDir},
		{"nginx.conf_dir", cfg.Nginx.ConfDir},
		// Whoever can write the socket's directory can put a socket of
		// their own there and answer drover's CLI.
		{"api.socket's directory", filepath.Dir(cfg.API.Socket)},
	}
	for _, d := range install.LayoutOf(cfg.RenderOptions()).Dirs() {
		dirs = append(dirs, struct{ key, path string }{"directory", d})
	}
	var errs []error
	// seen holds the directories checked so far, so each problem is
	// reported once.
	seen := map[string]bool{}
	for _, d := range dirs {
		if err := checkDirChain(d.key, d.path, seen); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// checkDirChain checks dir (or, while it does not exist, the directory it
// would be created in) and every directory above it, both as written and
// with symlinks resolved. seen holds the directories already checked.
func checkDirChain(key, dir string, seen map[string]bool) error {
	dir = filepath.Clean(dir)
	existing, missing := dir, false
	for {
		st, err := os.Stat(existing)
		if err == nil {
			if !st.IsDir() {
				return fmt.Errorf("%s %s: %s is not a directory", key, dir, existing)
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) || existing == "/" {
			return fmt.Errorf("%s %s: %w", key, dir, err)
		}
		existing, missing = filepath.Dir(existing), true
	}
	real, err := filepath.EvalSymlinks(existing)
	if err != nil {
		return fmt.Errorf("%s %s: %w", key, dir, err)
	}
	for _, start := range []string{existing, real} {
		for p := start; ; p = filepath.Dir(p) {
			// The nearest existing directory is where drover writes (or
			// creates dir); those above only have to keep it in place.
			nearest := p == existing || p == real
			if err := checkDir(key, dir, p, nearest, missing && nearest, seen); err != nil {
				return err
			}
			if p == "/" {
				break
			}
		}
	}
	return nil
}

// checkDir checks one directory on the way from dir up to /. nearest is set
// for the directory drover writes into, creating dir in it when missing.
func checkDir(key, dir, p string, nearest, missing bool, seen map[string]bool) error {
	id := fmt.Sprintf("%s|%v", p, nearest)
	if seen[id] {
		return nil
	}
	seen[id] = true
	st, err := os.Lstat(p)
	if err != nil {
		return fmt.Errorf("%s %s: %w", key, dir, err)
	}
	if st.Mode()&fs.ModeSymlink != 0 {
		return nil // its target is checked on the resolved path; the link itself cannot change
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s %s: no owner for %s", key, dir, p)
	}
	mode := st.Mode()
	fix := "make it owned by root and writable by root only (chown root " + p + "; chmod go-w " + p + ")"
	refuse := func(why string) error {
		return fmt.Errorf("refusing %s %s: %s %s, so someone other than root could replace the files drover installs and root loads; %s, or choose another directory",
			key, dir, p, why, fix)
	}
	switch {
	case sys.Uid != 0 && int(sys.Uid) != os.Geteuid():
		return refuse(fmt.Sprintf("is owned by uid %d", sys.Uid))
	case mode&0o002 != 0 && mode&fs.ModeSticky != 0 && sys.Uid == 0 && !nearest:
		// Like /tmp: nobody else can rename or remove what is below.
	case mode&0o002 != 0 && mode&fs.ModeSticky != 0 && missing:
		fix = fmt.Sprintf("create %s first, owned by root with mode 0755", dir)
		return refuse("is writable by everyone")
	case mode&0o002 != 0:
		return refuse(fmt.Sprintf("is writable by everyone (mode %04o)", mode.Perm()))
	case mode&0o020 != 0:
		return refuse(fmt.Sprintf("is writable by group %d (mode %04o)", sys.Gid, mode.Perm()))
	}
	return nil
}

// SecureStateDir makes state_dir root-only: the directory itself mode 0700,
// so nothing below it is reachable by other users whatever mode a library
// gives the files it writes there (go-git makes its objects 0444 and its
// directories 0755), and every file and directory below without group or
// other permission bits, so an older, readable tree is not left behind. It
// creates the directory when missing and returns how many modes it changed.
// Symlinks are not followed.
func SecureStateDir(dir string) (int, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, fmt.Errorf("create state_dir %s: %w", dir, err)
	}
	fixed := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		mode := info.Mode().Perm()
		want := mode &^ 0o077
		if p == dir {
			want = 0o700
		}
		if mode == want {
			return nil
		}
		if err := os.Chmod(p, want); err != nil {
			return err
		}
		fixed++
		return nil
	})
	if err != nil {
		return fixed, fmt.Errorf("make state_dir %s root-only: %w", dir, err)
	}
	return fixed, nil
}
