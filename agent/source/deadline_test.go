package source

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The source's deadline: every Head and Fetch returns within
// Options.Timeout whatever the server does, says so, and leaves the cache
// usable.

const testTimeout = time.Second

// cutMargin is how long past the timeout a cut operation may take: the
// point is that it returns, not how fast.
const cutMargin = 10 * time.Second

// remote is a working server for one transport behind a gate.
type remote struct {
	opts  Options // URL through the gate and credentials
	shown string  // the URL as errors show it
	gate  *gate
}

// remotes starts an ssh server, git http-backend and a git daemon serving
// the repositories below root, each behind a gate and writing through st,
// and returns how to reach repo through each.
func remotes(t *testing.T, root, repo string, st *staller) map[string]remote {
	t.Helper()
	dir := t.TempDir()
	out := map[string]remote{}

	key, pub := writeKey(t, dir, "id_ed25519")
	srv := newSSHGitServer(t, root, pub, st.wrap)
	g := newGate(t, srv.addr)
	known := writeKnownHosts(t, dir, "known_hosts", g.addr, srv.hostKey.PublicKey())
	host, port, _ := net.SplitHostPort(g.addr)
	for name, url := range map[string]string{
		"ssh":       "ssh://git@" + g.addr + "/" + repo,
		"scp-style": "git@" + host + ":" + port + ":" + repo,
	} {
		out[name] = remote{Options{URL: url, SSHKeyFile: key, KnownHostsFile: known}, url, g}
	}

	const token = "tok-deadline"
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(token), 0o600); err != nil {
		t.Fatal(err)
	}
	hs := gitHTTPServerWrap(t, root, "deploy", token, st.wrapHTTP)
	g = newGate(t, hs.Listener.Addr().String())
	out["http"] = remote{Options{URL: "http://deploy@" + g.addr + "/" + repo, TokenFile: tokenFile, AllowInsecureTransport: true},
		"http://xxxxx@" + g.addr + "/" + repo, g}

	g = newGate(t, gitDaemon(t, root, st.wrap))
	url := "git://" + g.addr + "/" + repo
	out["git"] = remote{Options{URL: url, AllowInsecureTransport: true}, url, g}

	t.Cleanup(st.disarm) // before the servers stop
	return out
}

// within fails the test unless f returns within d.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not return within %s", what, d)
	}
}

// noClientLeft fails the test if, shortly after a cut operation returned,
// a goroutine still runs go-git or the source's client code: nothing may
// go on touching the cache behind the caller's back.
func noClientLeft(t *testing.T) {
	t.Helper()
	var stuck string
	for end := time.Now().Add(cutMargin); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		buf := make([]byte, 1<<20)
		stuck = ""
		for _, g := range strings.Split(string(buf[:runtime.Stack(buf, true)]), "\n\n") {
			if strings.Contains(g, "github.com/go-git/go-git") || strings.Contains(g, "agent/source.(*session)") ||
				strings.Contains(g, "agent/source.(*Source)") {
				stuck = g
			}
		}
		if stuck == "" {
			return
		}
	}
	t.Errorf("a goroutine outlived the cut operation:\n%s", stuck)
}

// checkCut checks the error of an operation cut by the deadline.
func checkCut(t *testing.T, err error, want string) {
	t.Helper()
	want += fmt.Sprintf(" timed out after %s", testTimeout)
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v; want %q", err, want)
	}
	noClientLeft(t)
}

// A server that accepts connections and never answers.
func TestDeadlineSilentServer(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	r.commit("first", baseFiles)
	bare := r.bare()
	var st staller
	for _, name := range []string{"ssh", "scp-style", "http", "git"} {
		t.Run(name, func(t *testing.T) {
			rem := remotes(t, filepath.Dir(bare), filepath.Base(bare), &st)[name]
			o := rem.opts
			o.CacheDir, o.Timeout = t.TempDir(), testTimeout
			s := mustNew(t, o)
			rev1, _ := poll(t, s)
			rev2 := r.commit("next "+name, map[string]string{"top.hcl": "top = \"" + name + "\"\n"})
			r.git("push", "-q", "origin", "main")

			rem.gate.close()
			var herr, ferr error
			within(t, testTimeout+cutMargin, "Head", func() { _, herr = s.Head(ctx) })
			checkCut(t, herr, "head of "+rem.shown)
			within(t, testTimeout+cutMargin, "Fetch", func() { _, ferr = s.Fetch(ctx, rev2) })
			checkCut(t, ferr, "fetch from "+rem.shown)

			rem.gate.open()
			if head, res := poll(t, s); head != rev2 || res != (FetchResult{Previous: rev1}) {
				t.Errorf("poll after the server came back: %s %+v, want %s after %s", head, res, rev2, rev1)
			}
			if _, err := s.Files(ctx, rev2, "hosting"); err != nil {
				t.Errorf("Files after a cut fetch: %v", err)
			}
		})
	}
}

// A server that sends the refs and the start of the pack, then stalls.
func TestDeadlineStalledPack(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	r.commit("first", baseFiles)
	bare := r.bare()
	var st staller
	for _, name := range []string{"ssh", "http", "git"} {
		t.Run(name, func(t *testing.T) {
			rem := remotes(t, filepath.Dir(bare), filepath.Base(bare), &st)[name]
			o := rem.opts
			o.CacheDir, o.Timeout = t.TempDir(), testTimeout
			s := mustNew(t, o)
			rev1, _ := poll(t, s)
			rev2 := r.commit("next "+name, map[string]string{"top.hcl": "top = \"" + name + "\"\n"})
			r.git("push", "-q", "origin", "main")

			st.arm()
			var ferr error
			within(t, testTimeout+cutMargin, "Fetch", func() { _, ferr = s.Fetch(ctx, rev2) })
			checkCut(t, ferr, "fetch from "+rem.shown)
			packs, _ := os.ReadDir(filepath.Join(o.CacheDir, cacheName, "objects", "pack"))
			for _, p := range packs {
				if !strings.HasPrefix(p.Name(), "pack-") {
					t.Errorf("the cut fetch left %s in the cache", p.Name())
				}
			}

			st.disarm()
			if head, res := poll(t, s); head != rev2 || res != (FetchResult{Previous: rev1}) {
				t.Errorf("poll after the stall: %s %+v, want %s after %s", head, res, rev2, rev1)
			}
			if _, err := s.Files(ctx, rev2, "hosting"); err != nil {
				t.Errorf("Files after a cut fetch: %v", err)
			}
		})
	}
}

// A host that drops the connection attempts.
func TestDeadlineConnectHangs(t *testing.T) {
	addr := blackhole(t)
	dir := t.TempDir()
	key, _ := writeKey(t, dir, "id_ed25519")
	known := writeKnownHosts(t, dir, "known_hosts", addr, newSigner(t).PublicKey())
	for _, o := range []Options{
		{URL: "ssh://git@" + addr + "/config.git", SSHKeyFile: key, KnownHostsFile: known},
		{URL: "https://" + addr + "/config.git"},
		{URL: "git://" + addr + "/config.git", AllowInsecureTransport: true},
	} {
		o.CacheDir, o.Timeout = t.TempDir(), testTimeout
		s := mustNew(t, o)
		var herr, ferr error
		within(t, testTimeout+cutMargin, "Head of "+o.URL, func() { _, herr = s.Head(context.Background()) })
		checkCut(t, herr, "head of "+o.URL)
		within(t, testTimeout+cutMargin, "Fetch from "+o.URL, func() { _, ferr = s.Fetch(context.Background(), strings.Repeat("12", 20)) })
		checkCut(t, ferr, "fetch from "+o.URL)
	}
}

// An https server that accepts and never completes the TLS handshake.
func TestDeadlineSilentTLS(t *testing.T) {
	g := newGate(t, "")
	url := "https://" + g.addr + "/config.git"
	s := mustNew(t, Options{URL: url, CacheDir: t.TempDir(), Timeout: testTimeout})
	var herr, ferr error
	within(t, testTimeout+cutMargin, "Head", func() { _, herr = s.Head(context.Background()) })
	checkCut(t, herr, "head of "+url)
	within(t, testTimeout+cutMargin, "Fetch", func() { _, ferr = s.Fetch(context.Background(), strings.Repeat("12", 20)) })
	checkCut(t, ferr, "fetch from "+url)
}

// A local git-upload-pack that hangs, with a child holding its pipes, is
// killed with its child.
func TestDeadlineLocalUploadPack(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	rev1 := r.commit("first", baseFiles)
	cache := t.TempDir()
	s := mustNew(t, Options{URL: "file://" + r.dir, CacheDir: cache, Timeout: testTimeout})
	poll(t, s)
	rev2 := r.commit("second", map[string]string{"top.hcl": "top = 2\n"})

	bin := t.TempDir()
	pidFile := filepath.Join(bin, "child.pid")
	script := "#!/bin/sh\nsleep 300 &\necho $! >" + pidFile + "\nwait\n"
	if err := os.WriteFile(filepath.Join(bin, "git-upload-pack"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	path := os.Getenv("PATH")
	t.Setenv("PATH", bin+string(os.PathListSeparator)+path)
	var ferr error
	within(t, testTimeout+cutMargin, "Fetch", func() { _, ferr = s.Fetch(ctx, rev2) })
	checkCut(t, ferr, "fetch from file://"+r.dir)
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatalf("the fake git-upload-pack did not run: %v", err)
	}
	var pid int
	fmt.Sscan(string(b), &pid)
	deadline := time.Now().Add(cutMargin)
	for alive(pid) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("git-upload-pack's child %d outlived the cut fetch", pid)
	}

	os.Setenv("PATH", path)
	if head, res := poll(t, s); head != rev2 || res != (FetchResult{Previous: rev1}) {
		t.Errorf("poll with the real git-upload-pack: %s %+v", head, res)
	}
}

// alive reports whether pid runs (a zombie does not).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	_, after, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(after, "Z")
}
