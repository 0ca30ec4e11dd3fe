package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// These tests drive the webhook listener as anyone on the network can: over
// real loopback TCP, before any signature is checked.

const hookSecret = "0123456789abcdef-listener"

// hookServer serves the webhook with lim on a loopback listener that counts
// the bytes the server reads from its clients.
type hookServer struct {
	addr  string
	read  *atomic.Int64
	wakes *wakes
}

func startHook(t *testing.T, lim Limits) *hookServer {
	t.Helper()
	hook, w := testHook(t, hookSecret)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingListener{Listener: ln, read: new(atomic.Int64)}
	srv, limited, err := on(counted, hook, lim)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(limited)
	t.Cleanup(func() { srv.Close() })
	return &hookServer{addr: ln.Addr().String(), read: counted.read, wakes: w}
}

// push sends a signed push to the agent's branch and returns the status.
func (s *hookServer) push(t *testing.T, timeout time.Duration) (int, error) {
	body := `{"ref":"refs/heads/main"}`
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write([]byte(body))
	req, _ := http.NewRequest("POST", "http://"+s.addr+"/webhook", strings.NewReader(body))
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := (&http.Client{Timeout: timeout}).Do(req)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

// triggered reports (and clears) whether a reconcile was asked for.
func (s *hookServer) triggered() bool { return s.wakes.take() }

// dial opens a raw connection and sends text.
func (s *hookServer) dial(t *testing.T, text string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := io.WriteString(c, text); err != nil {
		t.Fatal(err)
	}
	return c
}

// untilClosed reads c until the server closes it and returns what it read
// and how long that took; it fails the test after limit.
func untilClosed(t *testing.T, c net.Conn, limit time.Duration) (string, time.Duration) {
	t.Helper()
	start := time.Now()
	c.SetReadDeadline(start.Add(limit))
	b, err := io.ReadAll(c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the server kept the connection open for %s (read %q)", limit, b)
	}
	return string(b), time.Since(start)
}

type countingListener struct {
	net.Listener
	read *atomic.Int64
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, read: l.read}, nil
}

type countingConn struct {
	net.Conn
	read *atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	return n, err
}

// An unsigned request is answered 401 at once and its connection closed:
// the server reads none of the body the client keeps sending, whether it
// announces the largest body accepted or 25 MB.
func TestWebhookUnsignedBodyNotRead(t *testing.T) {
	for _, announced := range []int64{Defaults.MaxBody, 25 << 20} {
		t.Run(fmt.Sprint(announced), func(t *testing.T) {
			s := startHook(t, Defaults)
			c := s.dial(t, fmt.Sprintf("POST /webhook HTTP/1.1\r\nHost: drover\r\nContent-Length: %d\r\n\r\n", announced))
			sent := make(chan int64)
			go func() {
				n, _ := io.Copy(c, io.LimitReader(zeros{}, announced))
				sent <- n
			}()
			resp, _ := untilClosed(t, c, 5*time.Second)
			n := <-sent
			if !strings.HasPrefix(resp, "HTTP/1.1 401") {
				t.Errorf("unsigned request answered %.60q, want 401", resp)
			}
			if got := s.read.Load(); got > 64<<10 {
				t.Errorf("the server read %d bytes of an unsigned request (the client wrote %d)", got, n)
			}
			t.Logf("client wrote %d bytes, server read %d", n, s.read.Load())
			if s.triggered() {
				t.Error("an unsigned request triggered a reconcile")
			}
		})
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// Bodies over MaxBody are refused with 413, announced or not.
func TestWebhookOversizedBody(t *testing.T) {
	s := startHook(t, Defaults)
	big := `{"ref":"refs/heads/main","pad":"` + strings.Repeat("x", 2<<20) + `"}`
	mac := hmac.New(sha256.New, []byte(hookSecret))
	mac.Write([]byte(big))
	for _, chunked := range []bool{false, true} {
		var body io.Reader = strings.NewReader(big)
		if chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
		req, _ := http.NewRequest("POST", "http://"+s.addr+"/webhook", body)
		req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
		if err != nil {
			t.Fatalf("chunked %v: %v", chunked, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || s.triggered() {
			t.Errorf("chunked %v: %d for a %d-byte body, want 413", chunked, resp.StatusCode, len(big))
		}
	}
	if code, err := s.push(t, 5*time.Second); code != http.StatusAccepted || err != nil || !s.triggered() {
		t.Errorf("a signed push after them: %d %v", code, err)
	}
}

// A client sending its headers, or its body, a byte at a time is cut
// after the timeout.
func TestWebhookSlowClientsCut(t *testing.T) {
	for _, c := range []struct {
		name, head                 string
		headerTimeout, readTimeout time.Duration
	}{
		{"headers", "POST /webhook HTTP/1.1\r\nHost: drover\r\n", 300 * time.Millisecond, time.Minute},
		{"body", "POST /webhook HTTP/1.1\r\nHost: drover\r\nX-Gitea-Signature: 00\r\nContent-Length: 1000\r\n\r\n", 300 * time.Millisecond, 600 * time.Millisecond},
	} {
		t.Run(c.name, func(t *testing.T) {
			lim := Defaults
			lim.HeaderTimeout, lim.ReadTimeout = c.headerTimeout, c.readTimeout
			s := startHook(t, lim)
			conn := s.dial(t, c.head)
			stop := make(chan struct{})
			defer close(stop)
			go func() { // one byte every 50 ms, until the server hangs up
				for {
					select {
					case <-stop:
						return
					case <-time.After(50 * time.Millisecond):
						if _, err := conn.Write([]byte("X")); err != nil {
							return
						}
					}
				}
			}()
			_, took := untilClosed(t, conn, 5*time.Second)
			if took > 3*time.Second {
				t.Errorf("a slow client was served for %s", took)
			}
			t.Logf("cut after %s", took)
		})
	}
}

// With MaxConns connections held open, the next client waits until one
// goes away; then its push is served and triggers a reconcile.
func TestWebhookConnectionCap(t *testing.T) {
	lim := Defaults
	lim.MaxConns = 2
	s := startHook(t, lim)
	var held []net.Conn
	for range lim.MaxConns {
		held = append(held, s.dial(t, "POST /webhook HTTP/1.1\r\n"))
	}
	// Make sure both are accepted (and so hold their slots): a request on
	// each gets as far as reading headers.
	time.Sleep(200 * time.Millisecond)
	done := make(chan int, 1)
	go func() {
		code, err := s.push(t, 10*time.Second)
		if err != nil {
			t.Error(err)
		}
		done <- code
	}()
	select {
	case code := <-done:
		t.Fatalf("a client beyond the cap was served at once (%d)", code)
	case <-time.After(500 * time.Millisecond):
	}
	held[0].Close()
	select {
	case code := <-done:
		if code != http.StatusAccepted || !s.triggered() {
			t.Errorf("push after a slot freed: %d, triggered %v", code, s.triggered())
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the waiting client was not served after a slot freed")
	}
}
