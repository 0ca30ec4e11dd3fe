// Package lease is the singleton lease file: the agent writes it while its
// node holds quorum, saying until when (on CLOCK_BOOTTIME) the node may run
// which singleton programs, and `drover guard`, living next to the daemons
// under supervisord, stops those programs when it expires. The file is the
// only thing the two share, so the guard works while the agent is dead.
package lease

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Lease is what the file says.
type Lease struct {
	// Expires is when the lease ends, in CLOCK_BOOTTIME nanoseconds (see
	// Now): a clock every process of the machine shares, that never jumps
	// and keeps counting through a suspend.
	Expires int64 `json:"expires_boottime_ns"`
	// QuorumSince is since when the writing agent had held quorum
	// (CLOCK_BOOTTIME ns; 0: not said), so that an agent restarted while
	// the lease is valid carries its quorum on.
	QuorumSince int64 `json:"quorum_since_boottime_ns,omitempty"`
	// Programs are the supervisord programs (groups) the guard stops once
	// the lease has expired.
	Programs []string `json:"programs"`
}

// MaxBytes bounds a lease file: a few hundred program names fit in a few
// kilobytes, and a reader that trusts a size reads no more than this.
const MaxBytes = 1 << 20

// programRe is a program name drover writes for a daemon,
// "daemon-{tenant}-{daemon}" (spec.ProgramName): lower-case letters,
// digits, '_' and '-', nothing supervisord would read as a group:process
// pair or a pattern.
var programRe = regexp.MustCompile(`^daemon-[a-z0-9_-]{1,120}$`)

// Now reads CLOCK_BOOTTIME in nanoseconds.
func Now() int64 {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		panic(fmt.Sprintf("clock_gettime(CLOCK_BOOTTIME): %v", err)) // Linux has had it since 2.6.39
	}
	return ts.Nano()
}

// ExpiresIn is Now()+d, saturating instead of overflowing (a lease for
// pool.Forever is a lease that never expires).
func ExpiresIn(d time.Duration) int64 {
	now := Now()
	if d > 0 && int64(d) > math.MaxInt64-now {
		return math.MaxInt64
	}
	return now + int64(d)
}

// Time is the CLOCK_BOOTTIME instant boot as a time of this process's
// clock (whose monotonic reading advances with CLOCK_BOOTTIME but for a
// suspend).
func Time(boot int64) time.Time {
	now, nowBoot := time.Now(), Now()
	return now.Add(time.Duration(boot - nowBoot))
}

// Valid reports whether the lease still holds at now (CLOCK_BOOTTIME ns):
// it holds strictly before Expires.
func (l Lease) Valid(now int64) bool { return now < l.Expires }

// Validate checks the program names.
func (l Lease) Validate() error {
	for _, p := range l.Programs {
		if !programRe.MatchString(p) {
			return fmt.Errorf("program %q is not a name drover gives a daemon (daemon-TENANT-DAEMON: a-z, 0-9, '_', '-')", p)
		}
	}
	return nil
}

// Write replaces the lease file at path: a temporary file in the same
// directory, mode 0600, renamed over it, so a reader sees the old lease or
// the new one, never part of one. It is not synced: the lease lives in
// /run, a tmpfs that a crash empties anyway; on a disk, a crash could leave
// an empty file, which readers take as an expired lease. The directory must
// exist, be owned by root (the user running, in tests) and writable by its
// owner only: whoever could write there could hand the guard a lease of
// their own.
func Write(path string, l Lease) error {
	if err := l.Validate(); err != nil {
		return fmt.Errorf("write lease %s: %w", path, err)
	}
	dir := filepath.Dir(path)
	if err := checkDir(dir); err != nil {
		return fmt.Errorf("write lease %s: %w", path, err)
	}
	data, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("write lease %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, ".lease-*")
	if err != nil {
		return fmt.Errorf("write lease %s: %w", path, err)
	}
	_, err = f.Write(append(data, '\n'))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path) // CreateTemp made it 0600
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write lease %s: %w", path, err)
	}
	return nil
}

// checkDir refuses a lease directory someone else could write.
func checkDir(dir string) error {
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if err := checkOwner(dir, fi); err != nil {
		return err
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("directory %s has mode %04o: others could replace the lease; chmod 700 %s", dir, fi.Mode().Perm(), dir)
	}
	return nil
}

// checkOwner refuses a file or directory owned by someone other than root
// or the user running.
func checkOwner(path string, fi os.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fmt.Errorf("%s: no owner", path)
	}
	if st.Uid != 0 && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not root: chown root %s", path, st.Uid, path)
	}
	return nil
}

// ErrNoLease is Read's error when there is no lease file.
var ErrNoLease = errors.New("no lease file")

// Read reads the lease at path. A missing file is ErrNoLease; a file that is
// not regular, not root's (or the running user's), writable by others,
// larger than MaxBytes, not a lease, or naming a program drover would not
// write, is an error.
func Read(path string) (Lease, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return Lease{}, fmt.Errorf("read lease %s: %w", path, ErrNoLease)
	}
	if err != nil {
		return Lease{}, fmt.Errorf("read lease: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Lease{}, fmt.Errorf("read lease: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Lease{}, fmt.Errorf("read lease %s: not a regular file", path)
	}
	if err := checkOwner(path, fi); err != nil {
		return Lease{}, fmt.Errorf("read lease: %w", err)
	}
	if fi.Mode().Perm()&0o022 != 0 {
		return Lease{}, fmt.Errorf("read lease %s: mode %04o lets others write it", path, fi.Mode().Perm())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxBytes+1))
	if err != nil {
		return Lease{}, fmt.Errorf("read lease: %w", err)
	}
	if len(data) > MaxBytes {
		return Lease{}, fmt.Errorf("read lease %s: larger than %d bytes", path, MaxBytes)
	}
	var l Lease
	if err := json.Unmarshal(data, &l); err != nil {
		return Lease{}, fmt.Errorf("read lease %s: %w", path, err)
	}
	if err := l.Validate(); err != nil {
		return Lease{}, fmt.Errorf("read lease %s: %w", path, err)
	}
	return l, nil
}
