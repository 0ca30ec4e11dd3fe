package store

import (
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
	"golang.org/x/sys/unix"
)

// ReleasePages drops the store's pages from the process's memory. bbolt
// reads through a shared, read-only mapping of the file: every page a
// read touched stays counted in the agent's resident memory (RssFile)
// until the kernel needs it, and reading every resource's contents (a
// restore at start) touches the whole file — some 140 MB on a node of
// 100,000 daemons. The pages stay in the page cache; a later read maps
// them again. The mapping does not move while a read transaction is open,
// so the advice is given inside one. A closed store has nothing mapped.
func (s *Store) ReleasePages() error {
	err := s.db.View(func(tx *bolt.Tx) error {
		info := s.db.Info()
		// The mapping is at least the file's size, tx.Size(); the
		// mapping's address comes from bbolt as a number, hence the raw
		// call rather than unix.Madvise's slice.
		if _, _, errno := unix.Syscall(unix.SYS_MADVISE, info.Data, uintptr(tx.Size()), unix.MADV_DONTNEED); errno != 0 {
			return fmt.Errorf("release the agent store's pages: %w", errno)
		}
		return nil
	})
	if errors.Is(err, berrors.ErrDatabaseNotOpen) {
		return nil
	}
	return err
}
