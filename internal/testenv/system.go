package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// AddUser creates a system account for a tenant with the given uid and home
// (not created) and removes it when the test ends. The name gets a test
// prefix so it cannot clash with a real account.
func AddUser(t testing.TB, name string, uid int, home string) string {
	t.Helper()
	RequireRoot(t)
	RequireTools(t, "useradd", "userdel")
	if out, err := exec.Command("getent", "passwd", fmt.Sprint(uid)).Output(); err == nil && len(out) > 0 {
		t.Fatalf("uid %d already exists on this machine (another test run, or one that was killed: userdel it): %s", uid, out)
	}
	Run(t, "useradd", "--uid", fmt.Sprint(uid), "--user-group", "--no-create-home", "--home-dir", home, "--shell", "/bin/bash", name)
	t.Cleanup(func() { _ = exec.Command("userdel", name).Run() })
	return name
}

// NewNetns creates a network namespace with lo up, and deletes it (and so
// everything inside it) when the test ends.
func NewNetns(t testing.TB, name string) string {
	t.Helper()
	RequireRoot(t)
	RequireTools(t, "ip")
	_ = exec.Command("ip", "netns", "del", name).Run() // left over from a killed run
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	Run(t, "ip", "-n", name, "link", "set", "lo", "up")
	return name
}

// InNetns runs a command inside a network namespace and returns its output
// and error.
func InNetns(netns string, name string, args ...string) (string, error) {
	out, err := exec.Command("ip", append([]string{"netns", "exec", netns, name}, args...)...).CombinedOutput()
	return strings.TrimSpace(string(out)), err
}

// PrivateDir is a new directory in the test's temporary directory that
// only its owner may enter or write (mode 0700), as root-only state
// directories are.
func PrivateDir(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "private")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}
