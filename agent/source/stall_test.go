package source

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
)

// Hung servers for the deadline tests, all on 127.0.0.1.

// gate fronts a server: open, it relays connections to it; shut, it
// accepts them and never answers, like a hung server.
type gate struct {
	addr string
	shut atomic.Bool

	mu    sync.Mutex
	conns []net.Conn
}

// newGate starts an open gate to backend; with backend "" it is shut for
// good.
func newGate(t *testing.T, backend string) *gate {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{addr: ln.Addr().String()}
	g.shut.Store(backend == "")
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			g.track(c)
			if g.shut.Load() {
				continue // held open and never read
			}
			b, err := net.Dial("tcp", backend)
			if err != nil {
				c.Close()
				continue
			}
			g.track(b)
			wg.Add(2)
			go func() { defer wg.Done(); relay(b, c) }()
			go func() { defer wg.Done(); relay(c, b) }()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		g.closeAll()
		wg.Wait()
	})
	return g
}

func relay(dst, src net.Conn) {
	io.Copy(dst, src)
	dst.(*net.TCPConn).CloseWrite()
}

func (g *gate) track(c net.Conn) {
	g.mu.Lock()
	g.conns = append(g.conns, c)
	g.mu.Unlock()
}

func (g *gate) closeAll() {
	g.mu.Lock()
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
	g.mu.Unlock()
}

// close shuts the gate and drops the connections it relays (an http
// client would otherwise reuse one).
func (g *gate) close() {
	g.shut.Store(true)
	g.closeAll()
}

func (g *gate) open() { g.shut.Store(false) }

// blackhole returns the address of a listener whose accept queue is full:
// the kernel drops further SYNs, so connecting hangs, as it does to a
// firewalled host.
func blackhole(t *testing.T) string {
	t.Helper()
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Close(fd) })
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		t.Fatal(err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(sa.(*syscall.SockaddrInet4).Port))
	c, err := net.Dial("tcp", addr) // fills the queue of one
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return addr
}

// staller makes servers stall in the middle of a pack: a writer wrapped
// while it is armed passes the output up to the pack header, then blocks
// until the staller is disarmed. The zero value is disarmed. Servers wait
// for their writers when they stop: disarm it in a cleanup registered
// after theirs.
type staller struct {
	mu      sync.Mutex
	release chan struct{} // nil when disarmed
}

func (s *staller) arm() {
	s.mu.Lock()
	s.release = make(chan struct{})
	s.mu.Unlock()
}

// disarm releases the writers that stall.
func (s *staller) disarm() {
	s.mu.Lock()
	if s.release != nil {
		close(s.release)
		s.release = nil
	}
	s.mu.Unlock()
}

func (s *staller) wrap(w io.Writer) io.Writer {
	s.mu.Lock()
	release := s.release
	s.mu.Unlock()
	if release == nil {
		return w
	}
	return &stallWriter{w: w, release: release}
}

// wrapHTTP wraps a response, flushing what passes so the client gets it.
func (s *staller) wrapHTTP(w http.ResponseWriter) http.ResponseWriter {
	return stallResponse{w, s.wrap(flushWriter{w})}
}

var errStalled = errors.New("stalled")

type stallWriter struct {
	w       io.Writer
	release <-chan struct{}
	tail    []byte // the last bytes written, to find "PACK" across writes
	stalled bool
}

// packHeader is "PACK", the version and the object count.
const packHeader = 12

func (s *stallWriter) Write(p []byte) (int, error) {
	if s.stalled {
		<-s.release
		return 0, errStalled
	}
	buf := append(s.tail, p...)
	i := bytes.Index(buf, []byte("PACK"))
	if i < 0 {
		s.tail = append([]byte(nil), buf[max(0, len(buf)-3):]...)
		return s.w.Write(p)
	}
	end := min(max(i+packHeader-len(s.tail), 0), len(p))
	n, _ := s.w.Write(p[:end])
	s.stalled = true
	<-s.release
	return n, errStalled
}

type stallResponse struct {
	http.ResponseWriter
	out io.Writer
}

func (r stallResponse) Write(p []byte) (int, error) { return r.out.Write(p) }

type flushWriter struct{ w http.ResponseWriter }

func (f flushWriter) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.w.(http.Flusher).Flush()
	return n, err
}

// gitDaemon serves git:// on 127.0.0.1 from the repositories below root,
// running git-upload-pack for each connection; what it writes to the
// client goes through wrapOut.
func gitDaemon(t *testing.T, root string, wrapOut func(io.Writer) io.Writer) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				path, ok := readGitProtoRequest(c)
				if !ok {
					t.Errorf("git daemon: bad request")
					return
				}
				cmd := exec.Command("git-upload-pack", "--strict", filepath.Join(root, filepath.FromSlash(path)))
				cmd.Stdin = c
				cmd.Stdout = wrapOut(c)
				cmd.Run()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// readGitProtoRequest reads "git-upload-pack /path\0host=...\0" in one
// pkt-line and returns the path.
func readGitProtoRequest(r io.Reader) (string, bool) {
	var size [4]byte
	if _, err := io.ReadFull(r, size[:]); err != nil {
		return "", false
	}
	n, err := strconv.ParseUint(string(size[:]), 16, 16)
	if err != nil || n < 4 {
		return "", false
	}
	line := make([]byte, n-4)
	if _, err := io.ReadFull(r, line); err != nil {
		return "", false
	}
	cmd, rest, _ := strings.Cut(string(line), " ")
	path, _, _ := strings.Cut(rest, "\x00")
	return strings.TrimPrefix(path, "/"), cmd == "git-upload-pack"
}
