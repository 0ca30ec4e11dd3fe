package health

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// target is a probe of path on srv's address, with host as Host.
func target(t *testing.T, addr, path, host string, timeout time.Duration) Target {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return Target{Key: "acme/main/web", Addr: ap, Host: host, Check: Check{Path: path, Interval: 10 * time.Second, Timeout: timeout, Failures: 3}}
}

func probe(t *testing.T, tg Target) (Result, time.Duration) {
	t.Helper()
	p := &Prober{}
	start := time.Now()
	r := p.Probe(context.Background(), tg)
	return r, time.Since(start)
}

// TestProbeAnswers: 2xx and 3xx are healthy, others not, with the status
// and the start of the body (cleaned) as the reason; the request carries
// the path as written and the server name as Host.
func TestProbeAnswers(t *testing.T) {
	var gotHost, gotURI atomic.Value
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotHost.Store(r.Host)
		gotURI.Store(r.RequestURI)
		switch r.URL.Path {
		case "/ok":
			w.WriteHeader(204)
		case "/moved":
			w.WriteHeader(304)
		case "/down":
			w.WriteHeader(503)
			_, _ = w.Write([]byte("database down\x1b[31m\r\nX-Injected: yes\n"))
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	addr := srv.Listener.Addr().String()
	for _, c := range []struct {
		path, host string
		kind       string
		reason     string
	}{
		{"/ok?full=1", "acme.example.com", ResultHealthy, ""},
		{"/moved", "", ResultHealthy, ""},
		{"/down", "", ResultStatus, "HTTP 503: database down [31m X-Injected: yes"},
		{"/nothing", "", ResultStatus, "HTTP 404"},
	} {
		r, _ := probe(t, target(t, addr, c.path, c.host, time.Second))
		if r.Kind != c.kind || r.Reason != c.reason {
			t.Errorf("%s: %s %q, want %s %q", c.path, r.Kind, r.Reason, c.kind, c.reason)
		}
		if got := gotURI.Load(); got != c.path {
			t.Errorf("%s: the daemon got %q", c.path, got)
		}
		want := c.host
		if want == "" {
			want = addr
		}
		if got := gotHost.Load(); got != want {
			t.Errorf("%s: Host %q, want %q", c.path, got, want)
		}
	}
}

// TestProbeNeverFollowsRedirects: a redirect is an answer (healthy); the
// place it names is never asked, not even another daemon of the node.
func TestProbeNeverFollowsRedirects(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { elsewhere.Add(1) }))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/admin/delete", http.StatusFound)
	}))
	defer srv.Close()
	r, _ := probe(t, target(t, srv.Listener.Addr().String(), "/healthz", "", time.Second))
	if r.Kind != ResultHealthy {
		t.Errorf("a 302: %s %q, want healthy", r.Kind, r.Reason)
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// rawServer answers every connection with handle, on loopback.
func rawServer(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c) }()
		}
	}()
	return ln.Addr().String()
}

// TestProbeBoundsTheAnswer: endless headers or a huge body are read only
// up to MaxAnswer, at once, not until the timeout; the reason keeps at
// most MaxReason bytes.
func TestProbeBoundsTheAnswer(t *testing.T) {
	var written atomic.Int64
	endless := rawServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n"))
		line := []byte("X-Padding: " + strings.Repeat("a", 1000) + "\r\n")
		for {
			n, err := c.Write(line)
			written.Add(int64(n))
			if err != nil {
				return
			}
		}
	})
	r, took := probe(t, target(t, endless, "/", "", 5*time.Second))
	if r.Kind != ResultError || !strings.Contains(r.Reason, "no complete HTTP answer in its first 4096 bytes") {
		t.Errorf("endless headers: %s %q", r.Kind, r.Reason)
	}
	if took > 2*time.Second {
		t.Errorf("endless headers took %s: the answer is not bounded", took)
	}

	huge := rawServer(t, func(c net.Conn) {
		buf := make([]byte, 4096)
		_, _ = c.Read(buf)
		_, _ = c.Write([]byte("HTTP/1.1 500 Oops\r\nContent-Length: 100000000\r\n\r\n"))
		chunk := []byte(strings.Repeat("é", 4096))
		for {
			if _, err := c.Write(chunk); err != nil {
				return
			}
		}
	})
	r, took = probe(t, target(t, huge, "/", "", 5*time.Second))
	if r.Kind != ResultStatus || len(r.Reason) > MaxReason || !strings.HasPrefix(r.Reason, "HTTP 500: éé") {
		t.Errorf("a huge body: %s %q (%d bytes)", r.Kind, r.Reason, len(r.Reason))
	}
	if took > 2*time.Second {
		t.Errorf("a huge body took %s", took)
	}
}

// TestProbeTimeout: a daemon that accepts and never answers fails the
// probe at its timeout.
func TestProbeTimeout(t *testing.T) {
	silent := rawServer(t, func(c net.Conn) { time.Sleep(10 * time.Second) })
	r, took := probe(t, target(t, silent, "/", "", 300*time.Millisecond))
	if r.Kind != ResultTimeout || r.Reason != "no answer within 300ms" {
		t.Errorf("silent daemon: %s %q", r.Kind, r.Reason)
	}
	if took < 250*time.Millisecond || took > 2*time.Second {
		t.Errorf("the probe took %s, want its timeout (300ms)", took)
	}
}

// TestProbeRefused: nothing listens.
func TestProbeRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	r, _ := probe(t, target(t, addr, "/", "", time.Second))
	if r.Kind != ResultRefused || !strings.Contains(r.Reason, "connection refused") {
		t.Errorf("nothing listening: %s %q", r.Kind, r.Reason)
	}
}

// TestProbeRefusesUnsafeRequest: a path or host that would split the
// request (spec refuses both) is not sent at all.
func TestProbeRefusesUnsafeRequest(t *testing.T) {
	var asked atomic.Int32
	addr := rawServer(t, func(c net.Conn) { asked.Add(1) })
	for _, tg := range []Target{
		target(t, addr, "/x HTTP/1.1\r\nHost: evil", "", time.Second),
		target(t, addr, "/x", "a.example\r\nX-Evil: 1", time.Second),
	} {
		if r, _ := probe(t, tg); r.Kind != ResultError || !strings.Contains(r.Reason, "not fit for a request") {
			t.Errorf("%q %q: %s %q", tg.Check.Path, tg.Host, r.Kind, r.Reason)
		}
	}
	time.Sleep(50 * time.Millisecond)
	if n := asked.Load(); n != 0 {
		t.Errorf("%d connections made for unsafe requests", n)
	}
}

func TestClean(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                    "plain",
		"  a\r\n\tb  ":             "a b",
		"\x1b]0;pwned\x07title":    "]0;pwned title",
		"bad\xffutf8":              "bad?utf8",
		"c1\u0085control":          "c1 control",
		strings.Repeat("x", 1000):  strings.Repeat("x", MaxReason-len("…")) + "…",
		strings.Repeat("é", 1000):  strings.Repeat("é", (MaxReason-len("…"))/2) + "…",
		"\u202eright-to-left text": "\u202eright-to-left text", // drover status escapes it
	} {
		if got := Clean(in); got != want {
			t.Errorf("Clean(%q) = %q, want %q", in, got, want)
		}
		if got := Clean(in); len(got) > MaxReason {
			t.Errorf("Clean(%q) is %d bytes", in, len(got))
		}
	}
}
