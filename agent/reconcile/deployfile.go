package reconcile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// MaxDeployFile bounds the file a restart_on_change names: a revision or
// a release id, not the code itself. A larger one is not read (and the
// daemon not restarted), with a warning.
const MaxDeployFile = 64 << 10

// errNoDeployFile is a restart_on_change file (or its directory) that does
// not exist: nothing to compare yet.
var errNoDeployFile = errors.New("does not exist")

// hashDeployFile returns the sha256 of the file rel inside the webroot
// (tenant/webroots/NAME below root, the storage root), read as root but
// never through a symbolic link below root to the webroot nor out of the
// webroot below it, never a FIFO, device or directory (opened without
// blocking and checked before reading) and never more than MaxDeployFile
// bytes. A file with several links must belong to uid: a tenant cannot
// hard-link another user's file into its webroot to watch it change.
func hashDeployFile(root, webroot, rel string, uid uint32) (string, error) {
	rootFD, err := unix.Open(root, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return "", fmt.Errorf("open storage root %s: %w", root, err)
	}
	defer unix.Close(rootFD)
	dirFD, err := unix.Openat2(rootFD, webroot, &unix.OpenHow{
		Flags:   unix.O_PATH | unix.O_DIRECTORY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		if errors.Is(err, unix.ENOENT) {
			return "", errNoDeployFile
		}
		return "", fmt.Errorf("open webroot %s: %w", webroot, err)
	}
	defer unix.Close(dirFD)
	// Symbolic links inside the webroot (a deploy's current → releases/N)
	// are followed while they stay inside it.
	fd, err := unix.Openat2(dirFD, rel, &unix.OpenHow{
		Flags:   unix.O_RDONLY | unix.O_NONBLOCK | unix.O_NOCTTY | unix.O_CLOEXEC,
		Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_MAGICLINKS,
	})
	if err != nil {
		switch {
		case errors.Is(err, unix.ENOENT):
			return "", errNoDeployFile
		case errors.Is(err, unix.EXDEV):
			return "", fmt.Errorf("open %s: a symbolic link leads out of the webroot", rel)
		}
		return "", fmt.Errorf("open %s: %w", rel, err)
	}
	f := os.NewFile(uintptr(fd), rel)
	defer f.Close()
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		return "", fmt.Errorf("stat %s: %w", rel, err)
	}
	switch {
	case st.Mode&unix.S_IFMT != unix.S_IFREG:
		return "", fmt.Errorf("%s is not a regular file", rel)
	case st.Nlink > 1 && st.Uid != uid:
		return "", fmt.Errorf("%s has %d links and belongs to uid %d, not the tenant", rel, st.Nlink, st.Uid)
	case st.Size > MaxDeployFile:
		return "", fmt.Errorf("%s is larger than %d KiB", rel, MaxDeployFile>>10)
	}
	h := sha256.New()
	n, err := io.Copy(h, io.LimitReader(f, MaxDeployFile+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", rel, err)
	}
	if n > MaxDeployFile {
		return "", fmt.Errorf("%s is larger than %d KiB", rel, MaxDeployFile>>10)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
