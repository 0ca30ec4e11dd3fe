package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// lockHelperEnv makes the test binary a lock holder (see TestMain): it
// locks the state_dir named in the variable, prints "locked", and unlocks
// and exits when its stdin closes.
const lockHelperEnv = "DROVER_STORE_TEST_LOCK_HOLDER"

func TestMain(m *testing.M) {
	if dir := os.Getenv(lockHelperEnv); dir != "" {
		unlock, err := Lock(dir)
		if err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
		if err := unlock(); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// startHolder runs a process that holds Lock(dir) until its stdin closes.
func startHolder(t *testing.T, dir string) (*exec.Cmd, io.WriteCloser) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), lockHelperEnv+"="+dir)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("lock holder said %q, %v", line, err)
	}
	return cmd, stdin
}

func wantLocked(t *testing.T, dir string, pid int) {
	t.Helper()
	unlock, err := Lock(dir)
	if err == nil {
		_ = unlock()
		t.Fatal("Lock succeeded while another holder has it")
	}
	want := fmt.Sprintf("another drover agent (pid %d) is running with state_dir %s; stop it first", pid, dir)
	if err.Error() != want {
		t.Errorf("Lock error = %q, want %q", err, want)
	}
	var le *LockedError
	if !errors.As(err, &le) || le.PID != pid {
		t.Errorf("Lock error %#v is not a *LockedError with PID %d", err, pid)
	}
}

func mustLock(t *testing.T, dir string) func() error {
	t.Helper()
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	return unlock
}

func TestLockSameProcess(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state") // missing: Lock creates it
	unlock := mustLock(t, dir)
	if info, err := os.Stat(dir); err != nil || info.Mode().Perm() != 0o700 {
		t.Errorf("state_dir: %v, %v; want a 0700 directory", info.Mode(), err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, LockFile)); strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid %d", b, os.Getpid())
	}
	wantLocked(t, dir, os.Getpid())

	if err := unlock(); err != nil {
		t.Fatal(err)
	}
	if err := unlock(); err != nil {
		t.Errorf("second unlock: %v", err)
	}
	if err := mustLock(t, dir)(); err != nil {
		t.Fatal(err)
	}
}

func TestLockOtherProcess(t *testing.T) {
	dir := t.TempDir()
	holder, stdin := startHolder(t, dir)
	wantLocked(t, dir, holder.Process.Pid)

	// The holder unlocks and exits: the lock is free.
	_ = stdin.Close()
	if err := holder.Wait(); err != nil {
		t.Fatalf("lock holder: %v", err)
	}
	if err := mustLock(t, dir)(); err != nil {
		t.Fatal(err)
	}
}

func TestLockReleasedWhenHolderIsKilled(t *testing.T) {
	dir := t.TempDir()
	holder, _ := startHolder(t, dir)
	wantLocked(t, dir, holder.Process.Pid)

	if err := holder.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = holder.Wait()
	// The killed holder's PID is still in the file; the lock is not.
	unlock := mustLock(t, dir)
	defer unlock()
	if b, _ := os.ReadFile(filepath.Join(dir, LockFile)); strings.TrimSpace(string(b)) != fmt.Sprint(os.Getpid()) {
		t.Errorf("lock file holds %q, want our pid %d", b, os.Getpid())
	}
}

// TestLockHolderWithoutPID covers a holder that has not written its PID
// (or is not a drover agent): the message still names the state_dir.
func TestLockHolderWithoutPID(t *testing.T) {
	dir := t.TempDir()
	f, err := os.OpenFile(filepath.Join(dir, LockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = Lock(dir)
	want := "another drover agent (pid unknown) is running with state_dir " + dir + "; stop it first"
	if err == nil || err.Error() != want {
		t.Errorf("Lock error = %v, want %q", err, want)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Lock took %s", d)
	}
}
