package source

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshGitServer is an SSH server on 127.0.0.1 that accepts one public key for
// user git and runs git-upload-pack for exec requests, serving the
// repositories below root. wrapOut, when not nil, wraps what
// git-upload-pack writes to the client.
type sshGitServer struct {
	t       *testing.T
	root    string
	wrapOut func(io.Writer) io.Writer
	addr    string
	hostKey ssh.Signer
	cfg     *ssh.ServerConfig
	wg      sync.WaitGroup
}

func newSSHGitServer(t *testing.T, root string, client ssh.PublicKey, wrapOut func(io.Writer) io.Writer) *sshGitServer {
	t.Helper()
	if _, err := exec.LookPath("git-upload-pack"); err != nil {
		t.Skipf("git-upload-pack not available: %v", err)
	}
	if wrapOut == nil {
		wrapOut = func(w io.Writer) io.Writer { return w }
	}
	srv := &sshGitServer{t: t, root: root, wrapOut: wrapOut, hostKey: newSigner(t)}
	srv.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == "git" && bytes.Equal(k.Marshal(), client.Marshal()) {
				return nil, nil
			}
			return nil, fmt.Errorf("key not accepted for %s", c.User())
		},
	}
	srv.cfg.AddHostKey(srv.hostKey)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.addr = ln.Addr().String()
	srv.wg.Add(1)
	go func() {
		defer srv.wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			srv.wg.Add(1)
			go func() {
				defer srv.wg.Done()
				srv.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		srv.wg.Wait()
	})
	return srv
}

func (srv *sshGitServer) serve(conn net.Conn) {
	defer conn.Close()
	sc, chans, reqs, err := ssh.NewServerConn(conn, srv.cfg)
	if err != nil {
		return // a refused client key or host key
	}
	defer sc.Close()
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		srv.session(ch, creqs)
	}
}

// session runs the exec request of one channel; other requests (env,
// pty-req) are refused.
func (srv *sshGitServer) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	for req := range reqs {
		if req.Type != "exec" {
			if req.WantReply {
				req.Reply(false, nil)
			}
			continue
		}
		var p struct{ Command string }
		if err := ssh.Unmarshal(req.Payload, &p); err != nil {
			req.Reply(false, nil)
			return
		}
		name, arg, _ := strings.Cut(p.Command, " ")
		repo, ok := unquote(arg)
		if name != "git-upload-pack" || !ok {
			srv.t.Errorf("ssh server: unexpected command %q", p.Command)
			req.Reply(false, nil)
			return
		}
		req.Reply(true, nil)
		cmd := exec.Command("git-upload-pack", filepath.Join(srv.root, filepath.FromSlash(strings.TrimPrefix(repo, "/"))))
		cmd.Stdout = srv.wrapOut(ch)
		cmd.Stderr = ch.Stderr()
		stdin, err := cmd.StdinPipe()
		if err == nil {
			err = cmd.Start()
		}
		if err == nil {
			go func() {
				io.Copy(stdin, ch)
				stdin.Close()
			}()
			err = cmd.Wait()
		}
		status := uint32(0)
		if err != nil {
			status = 1
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				status = uint32(exit.ExitCode())
			}
		}
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{status}))
		return
	}
}

// unquote undoes the single quoting go-git applies to the repository path.
func unquote(s string) (string, bool) {
	if len(s) < 2 || s[0] != '\'' || s[len(s)-1] != '\'' {
		return "", false
	}
	return strings.ReplaceAll(s[1:len(s)-1], `'\''`, `'`), true
}

func newSigner(t *testing.T) ssh.Signer {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// writeKey writes a new ed25519 private key in OpenSSH format and returns
// its path and public key.
func writeKey(t *testing.T, dir, name string) (string, ssh.PublicKey) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "drover test")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	sshPub, err := ssh.NewPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return path, sshPub
}

// writeKnownHosts writes a known_hosts file with one line for addr.
func writeKnownHosts(t *testing.T, dir, name, addr string, key ssh.PublicKey) string {
	t.Helper()
	path := filepath.Join(dir, name)
	line := knownhosts.Line([]string{knownhosts.Normalize(addr)}, key) + "\n"
	if err := os.WriteFile(path, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestSSHKey(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	rev1 := r.commit("first", baseFiles)
	bare := r.bare()
	dir := t.TempDir()
	key, pub := writeKey(t, dir, "id_ed25519")
	srv := newSSHGitServer(t, filepath.Dir(bare), pub, nil)
	known := writeKnownHosts(t, dir, "known_hosts", srv.addr, srv.hostKey.PublicKey())
	host, port, _ := net.SplitHostPort(srv.addr)

	urls := map[string]string{
		"ssh url":   "ssh://git@" + srv.addr + "/" + filepath.Base(bare),
		"scp style": "git@" + host + ":" + port + ":" + filepath.Base(bare),
	}
	for name, url := range urls {
		t.Run(name, func(t *testing.T) {
			cache := t.TempDir()
			s := mustNew(t, Options{URL: url, SSHKeyFile: key, KnownHostsFile: known, CacheDir: cache})
			if _, ok := s.Local(); ok {
				t.Error("an ssh source is local")
			}
			head, err := s.Head(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(cache, cacheName)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("Head touched the cache: %v", err)
			}
			res, err := s.Fetch(ctx, head)
			if err != nil {
				t.Fatal(err)
			}
			if head != r.git("rev-parse", "main") || res.Forced {
				t.Fatalf("fetch: %s, %+v", head, res)
			}
			if n, shallow := cacheCommits(t, cache); n != 1 || len(shallow) != 1 {
				t.Errorf("cache has %d commits, shallow %v; want a depth-1 clone", n, shallow)
			}
			files, err := s.Files(ctx, head, "hosting/tenants")
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(files); strings.Join(got, ",") != "acme.hcl,beta/site.hcl" {
				t.Errorf("files = %v", got)
			}
		})
	}

	// Incremental fetch and force push over ssh.
	s := mustNew(t, Options{URL: urls["ssh url"], SSHKeyFile: key, KnownHostsFile: known, CacheDir: t.TempDir()})
	if head, _ := poll(t, s); head != rev1 {
		t.Fatalf("head %s, want %s", head, rev1)
	}
	rev2 := r.commit("second", map[string]string{"top.hcl": "top = 2\n"})
	r.git("push", "-q", "origin", "main")
	if head, res := poll(t, s); head != rev2 || res != (FetchResult{Previous: rev1}) {
		t.Errorf("incremental fetch: %s, %+v", head, res)
	}
	r.git("reset", "-q", "--hard", "HEAD~1")
	rev3 := r.commit("rewritten", map[string]string{"top.hcl": "top = 3\n"})
	r.git("push", "-q", "-f", "origin", "main")
	if head, res := poll(t, s); head != rev3 || res != (FetchResult{Forced: true, Previous: rev2}) {
		t.Errorf("fetch after force push: %s, %+v", head, res)
	}

	// A wrong host key is refused.
	wrongHost := writeKnownHosts(t, dir, "wrong_host", srv.addr, newSigner(t).PublicKey())
	w := mustNew(t, Options{URL: urls["ssh url"], SSHKeyFile: key, KnownHostsFile: wrongHost, CacheDir: t.TempDir()})
	for _, err := range []error{headErr(w), fetchErr(w, rev3)} {
		if !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "does not match known_hosts_file "+wrongHost) ||
			!strings.Contains(err.Error(), urls["ssh url"]) {
			t.Errorf("wrong host key: %v", err)
		}
	}
	// So is a host missing from known_hosts.
	otherHost := writeKnownHosts(t, dir, "other_host", "127.0.0.2:22", srv.hostKey.PublicKey())
	o := mustNew(t, Options{URL: urls["scp style"], SSHKeyFile: key, KnownHostsFile: otherHost, CacheDir: t.TempDir()})
	if err := headErr(o); !errors.Is(err, ErrHostKey) || !strings.Contains(err.Error(), "is not in known_hosts_file") {
		t.Errorf("unknown host: %v", err)
	}
	// A key the server does not accept.
	otherKey, _ := writeKey(t, dir, "other_key")
	k := mustNew(t, Options{URL: urls["ssh url"], SSHKeyFile: otherKey, KnownHostsFile: known, CacheDir: t.TempDir()})
	if err := headErr(k); !errors.Is(err, ErrAuth) || !strings.Contains(err.Error(), "ssh_key_file "+otherKey) {
		t.Errorf("wrong client key: %v", err)
	}
	// A repository the server does not have.
	m := mustNew(t, Options{URL: urls["ssh url"] + "-missing", SSHKeyFile: key, KnownHostsFile: known, CacheDir: t.TempDir()})
	if err := headErr(m); !errors.Is(err, ErrUnreachable) {
		t.Errorf("missing repository: %v", err)
	}
	// Nobody listening.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	c := mustNew(t, Options{URL: "ssh://git@" + closed + "/x.git", SSHKeyFile: key, KnownHostsFile: known, CacheDir: t.TempDir()})
	if err := headErr(c); !errors.Is(err, ErrUnreachable) || !strings.Contains(err.Error(), closed) {
		t.Errorf("closed port: %v", err)
	}
}

func headErr(s *Source) error {
	_, err := s.Head(context.Background())
	return err
}

func fetchErr(s *Source, rev string) error {
	_, err := s.Fetch(context.Background(), rev)
	return err
}
