// Package regular opens files that must be regular files: the config
// repository's (spec.OpenRegular), installed files read back, and the exec
// spec drover exec trusts. It imports only low standard library packages,
// so drover exec can use it before the rest of drover is initialised.
package regular

import (
	"fmt"
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
