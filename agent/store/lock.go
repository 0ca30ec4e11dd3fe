package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// LockFile is the file in state_dir that Lock holds.
const LockFile = "agent.lock"

// LockedError is returned by Lock when another agent holds state_dir.
type LockedError struct {
	StateDir string
	PID      int // 0 if the holder has not written its PID yet
}

func (e *LockedError) Error() string {
	pid := "unknown"
	if e.PID > 0 {
		pid = strconv.Itoa(e.PID)
	}
	return fmt.Sprintf("another drover agent (pid %s) is running with state_dir %s; stop it first", pid, e.StateDir)
}

// Lock makes this process the only agent using stateDir (created 0700 if
// missing): it takes an exclusive, non-blocking flock on
// {stateDir}/agent.lock and writes its PID there. If another process — or
// another Lock in this one — holds it, the error is a *LockedError naming
// the holder's PID.
//
// The kernel drops the lock when the holder exits, however it exits, so a
// killed agent never leaves a stale lock; the file itself stays (removing
// it would let two agents lock two different files).
func Lock(stateDir string) (unlock func() error, err error) {
	if err := os.MkdirAll(stateDir, 0o700); err != nil {
		return nil, fmt.Errorf("create state_dir %s: %w", stateDir, err)
	}
	path := filepath.Join(stateDir, LockFile)
	// No O_TRUNC: until we hold the lock, the PID in it is the holder's.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := flock(f, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &LockedError{StateDir: stateDir, PID: holderPID(path)}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := writePID(f); err != nil {
		_ = f.Close()
		return nil, fmt.Errorf("write pid to %s: %w", path, err)
	}
	var once sync.Once
	var unlockErr error
	return func() error {
		once.Do(func() {
			_ = f.Truncate(0) // best effort: the PID is no longer running an agent
			if err := flock(f, syscall.LOCK_UN); err != nil {
				unlockErr = fmt.Errorf("unlock %s: %w", path, err)
			}
			if err := f.Close(); err != nil && unlockErr == nil {
				unlockErr = fmt.Errorf("close %s: %w", path, err)
			}
		})
		return unlockErr
	}, nil
}

func flock(f *os.File, how int) error {
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

func writePID(f *os.File) error {
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0); err != nil {
		return err
	}
	return f.Sync()
}

// holderPID reads the PID the lock holder wrote. The holder writes it just
// after locking, so an empty file gets a few short retries; 0 if none.
func holderPID(path string) int {
	for range 5 {
		b, err := os.ReadFile(path)
		if err != nil {
			return 0
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 0 {
			return pid
		}
		time.Sleep(20 * time.Millisecond)
	}
	return 0
}
