package regular

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
)

// ErrTooLarge is returned by Read for a file longer than its bound.
var ErrTooLarge = errors.New("file too large")

// Read reads a whole regular file of at most max bytes with plain system
// calls, following a link in the last element only if follow is set, and
// returns its contents and status (the status of the file read). It is for
// drover exec, which reads a few small files before it replaces itself: an
// os.File starts the runtime's network poller (an epoll instance, an event
// descriptor, their registrations), which this never does. Errors are those
// of Open (an *fs.PathError from the system call, "is not a regular file")
// and ErrTooLarge.
func Read(path string, follow bool, max int) ([]byte, syscall.Stat_t, error) {
	flags := syscall.O_RDONLY | syscall.O_CLOEXEC | syscall.O_NONBLOCK
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	var st syscall.Stat_t
	fd, err := openRetry(path, flags)
	if err != nil {
		return nil, st, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, st, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, st, fmt.Errorf("%s is not a regular file", path)
	}
	if st.Size > int64(max) {
		return nil, st, ErrTooLarge
	}
	// The size is a hint: the file may grow or shrink while it is read.
	buf := make([]byte, 0, st.Size+1)
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, st, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n == 0 {
			return buf, st, nil
		}
		if buf = buf[:len(buf)+n]; len(buf) > max {
			clear(buf)
			return nil, st, ErrTooLarge
		}
	}
}

func openRetry(path string, flags int) (int, error) {
	for {
		fd, err := syscall.Open(path, flags, 0)
		if err != syscall.EINTR {
			return fd, err
		}
	}
}
