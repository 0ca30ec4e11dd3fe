package source

import (
	"context"
	"fmt"
	"io"
	"net"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/go-git/go-git/v5/plumbing/protocol/packp"
	"github.com/go-git/go-git/v5/plumbing/transport"
	"golang.org/x/crypto/ssh"
)

// The openers of streamTransport, one per scheme.

// uploadPackProgram is what a local source runs; `git upload-pack` when
// it is not in PATH.
const uploadPackProgram = "git-upload-pack"

// pipeWaitDelay bounds the wait for a local git-upload-pack's pipes once it
// has exited: a child it left behind may still hold them.
const pipeWaitDelay = time.Second

// openLocal runs git-upload-pack on the repository at ep.Path, in a process
// group of its own, which abort kills whole.
func openLocal(_ context.Context, ep *transport.Endpoint, _ transport.AuthMethod) (*stream, error) {
	name, args := uploadPackProgram, []string{ep.Path}
	if _, err := exec.LookPath(name); err != nil {
		name, args = "git", []string{"upload-pack", ep.Path}
	}
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.WaitDelay = pipeWaitDelay
	stderr := &capWriter{}
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("running %s: %w", name, err)
	}
	var mu sync.Mutex
	reaped := false
	wait := sync.OnceValue(func() error {
		err := cmd.Wait()
		mu.Lock()
		reaped = true
		mu.Unlock()
		return err
	})
	return &stream{
		in:     in,
		out:    out,
		stderr: stderr.String,
		close: func() error {
			in.Close()
			wait() // its exit status tells nothing the protocol did not
			return nil
		},
		abort: func() {
			mu.Lock()
			if !reaped { // else the group id may be someone else's
				syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			}
			mu.Unlock()
			// Unblock reads and writes even if something outside the
			// group holds the other ends.
			in.Close()
			out.Close()
		},
	}, nil
}

// openSSH connects to the ssh server of ep and runs git-upload-pack there.
// The connection is closed when ctx is done, which cuts the handshake, the
// opening of the session and every later read and write.
func openSSH(ctx context.Context, ep *transport.Endpoint, auth transport.AuthMethod) (*stream, error) {
	a, ok := auth.(*sshAuth)
	if !ok {
		return nil, transport.ErrInvalidAuthMethod
	}
	cfg, err := a.ClientConfig()
	if err != nil {
		return nil, err
	}
	port := ep.Port
	if port <= 0 {
		port = 22
	}
	addr := net.JoinHostPort(strings.Trim(ep.Host, "[]"), strconv.Itoa(port))
	conn, stop, err := dialContext(ctx, addr)
	if err != nil {
		return nil, err
	}
	fail := func(err error) (*stream, error) {
		stop()
		conn.Close()
		return nil, err
	}
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	if err != nil {
		return fail(err)
	}
	client := ssh.NewClient(c, chans, reqs)
	sess, err := client.NewSession()
	if err != nil {
		return fail(err)
	}
	stderr := &capWriter{}
	sess.Stderr = stderr
	in, err := sess.StdinPipe()
	if err != nil {
		return fail(err)
	}
	out, err := sess.StdoutPipe()
	if err != nil {
		return fail(err)
	}
	if err := sess.Start(transport.UploadPackServiceName + " " + shellQuote(ep.Path)); err != nil {
		return fail(err)
	}
	return &stream{
		in:     in,
		out:    out,
		stderr: stderr.String,
		close: func() error {
			in.Close()
			sess.Wait() // for the exit status and all of stderr
			stop()
			client.Close() // fails when already aborted
			return nil
		},
		abort: func() { conn.Close() },
	}, nil
}

// openGitProto connects to the git daemon of ep and asks for
// git-upload-pack.
func openGitProto(ctx context.Context, ep *transport.Endpoint, auth transport.AuthMethod) (*stream, error) {
	if auth != nil {
		return nil, transport.ErrInvalidAuthMethod
	}
	const defaultPort = 9418
	port := ep.Port
	if port <= 0 {
		port = defaultPort
	}
	conn, stop, err := dialContext(ctx, net.JoinHostPort(ep.Host, strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	req := packp.GitProtoRequest{RequestCommand: transport.UploadPackServiceName, Pathname: ep.Path, Host: ep.Host}
	if port != defaultPort {
		req.Host = net.JoinHostPort(ep.Host, strconv.Itoa(port))
	}
	if err := req.Encode(conn); err != nil {
		stop()
		conn.Close()
		return nil, err
	}
	return &stream{
		in:     nopWriteCloser{conn}, // half-closing would end the conversation
		out:    conn,
		stderr: func() string { return "" },
		close: func() error {
			stop()
			return conn.Close()
		},
		abort: func() { conn.Close() },
	}, nil
}

// dialContext connects to addr and closes the connection when ctx is done,
// until stop is called.
func dialContext(ctx context.Context, addr string) (net.Conn, func() bool, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	return conn, stop, nil
}

// shellQuote quotes a repository path for the remote shell, as go-git and
// git do.
func shellQuote(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\'' || c == '!' {
			b.WriteString(`'\`)
			b.WriteByte(c)
			b.WriteByte('\'')
			continue
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('\'')
	return b.String()
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
