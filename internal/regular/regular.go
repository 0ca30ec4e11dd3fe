// Package regular opens files that must be regular files: the config
// repository's (spec.OpenRegular), installed files read back, and the exec
// spec drover exec trusts. It imports only low standard library packages,
// so drover exec can use it before the rest of drover is initialised.
package regular

import (
	"fmt"
	"io"
	"os"
	"syscall"
)

// Open opens a regular file for reading without following a link in its
// last element and without blocking on a FIFO or device put in its place:
// anything but a regular file is an error. The caller closes it.
func Open(path string) (*os.File, os.FileInfo, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, nil, err
	}
	st, err := f.Stat()
	if err == nil && !st.Mode().IsRegular() {
		err = fmt.Errorf("%s is not a regular file", path)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, st, nil
}

// ReadRootOnly reads a private file root keeps (a key): a regular file, not
// a link, owned by root, readable and writable by root alone (mode 0600 or
// stricter), of at most max bytes. Errors say what is wrong, never what
// the file holds.
func ReadRootOnly(path string, max int64) ([]byte, error) {
	f, st, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Uid != 0 {
		return nil, fmt.Errorf("owned by uid %d, not root", sys.Uid)
	}
	if perm := st.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("mode %04o lets other users read it; it must be 0600 or stricter", perm)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		clear(data)
		return nil, fmt.Errorf("larger than %d bytes", max)
	}
	return data, nil
}
