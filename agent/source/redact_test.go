package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestRedactURL(t *testing.T) {
	for raw, want := range map[string]string{
		"ssh://git:hunter2@example.test/config.git":   "ssh://git:xxxxx@example.test/config.git",
		"ssh://git@example.test/config.git":           "ssh://git@example.test/config.git",
		"git:hunter2@example.test:config.git":         "git:xxxxx@example.test:config.git",
		"git@example.test:ops/config.git":             "git@example.test:ops/config.git",
		"https://bob:hunter2@example.test/config.git": "https://bob:xxxxx@example.test/config.git",
		"https://ghp_hunter2@example.test/c.git":      "https://xxxxx@example.test/c.git",
		"HTTP://ghp_hunter2@example.test/c.git":       "HTTP://xxxxx@example.test/c.git",
		"https://example.test/a@b/config.git":         "https://example.test/a@b/config.git",
		"/srv/config@2":                               "/srv/config@2",
		"file:///srv/config":                          "file:///srv/config",
	} {
		if got := RedactURL(raw); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", raw, got, want)
		}
	}
}

// A password in the URL is refused for every transport, and the error names
// the URL without it.
func TestURLPasswordNeverEchoed(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "id")
	os.WriteFile(key, []byte("not a key"), 0o600)
	for _, c := range []struct {
		o    Options
		want string
	}{
		{Options{URL: "ssh://git:hunter2@example.test/config.git", SSHKeyFile: key}, "must not contain a password"},
		{Options{URL: "git:hunter2@example.test:ops/config.git", SSHKeyFile: key}, "must not contain a password"},
		{Options{URL: "git:hunter2@example.test:22:ops/config.git", SSHKeyFile: key}, "must not contain a password"},
		{Options{URL: "https://bob:hunter2@example.test/config.git"}, "must not contain a password"},
		{Options{URL: "https://bob:hunter%32@example.test/config.git"}, "must not contain a password"},
		{Options{URL: "ssh://git:hunter2@example.test:port/config.git", SSHKeyFile: key}, "invalid port"},
		{Options{URL: "https://bob:hunter2@exa mple.test/config.git"}, "white space"},
	} {
		c.o.CacheDir = dir
		_, err := New(c.o)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("New(%q): %v, want an error containing %q", c.o.URL, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "hunter") {
			t.Errorf("New(%q): error leaks the password: %v", c.o.URL, err)
		}
		if !strings.Contains(err.Error(), "xxxxx@") {
			t.Errorf("New(%q): error does not name the redacted url: %v", c.o.URL, err)
		}
	}
}

// A token given as the user of an https URL stays out of the errors of a
// real failed Head (here a TLS server whose certificate is not trusted).
func TestHTTPSUserTokenNeverEchoed(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	url := strings.Replace(srv.URL, "https://", "https://ghp_hunter2@", 1) + "/config.git"
	s := mustNew(t, Options{URL: url, CacheDir: t.TempDir()})
	_, herr := s.Head(context.Background())
	_, ferr := s.Fetch(context.Background(), strings.Repeat("12", 20))
	for _, err := range []error{herr, ferr} {
		if err == nil || strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "https://xxxxx@127.0.0.1") {
			t.Errorf("error %v: want one naming the url without the token", err)
		}
	}
	if strings.Contains(s.String(), "hunter2") {
		t.Errorf("String() = %q leaks the token", s.String())
	}
}

// git:// works only with the opt-in; with it, against a real git daemon on
// loopback, a poll fetches the branch.
func TestGitProtocolNeedsOptIn(t *testing.T) {
	r := newRepo(t)
	rev := r.commit("first", baseFiles)
	bare := r.bare()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	daemon := exec.Command("git", "daemon", "--reuseaddr", "--export-all", "--base-path="+filepath.Dir(bare),
		"--listen=127.0.0.1", fmt.Sprintf("--port=%d", port), filepath.Dir(bare))
	if err := daemon.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { daemon.Process.Kill(); daemon.Wait() })
	url := fmt.Sprintf("git://127.0.0.1:%d/%s", port, filepath.Base(bare))

	if _, err := New(Options{URL: url, CacheDir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "allow_insecure_transport = true") {
		t.Fatalf("git:// without the opt-in: %v", err)
	}
	s := mustNew(t, Options{URL: url, CacheDir: t.TempDir(), AllowInsecureTransport: true})
	deadline := time.Now().Add(10 * time.Second)
	for _, err := s.Head(context.Background()); errors.Is(err, ErrUnreachable) && time.Now().Before(deadline); _, err = s.Head(context.Background()) {
		time.Sleep(50 * time.Millisecond) // the daemon is still starting
	}
	if head, res := poll(t, s); head != rev || res != (FetchResult{}) {
		t.Errorf("poll over git://: %s %+v, want %s", head, res, rev)
	}
}
