package health

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"
)

// The bounds of one probe's answer. The tenant controls it: the agent
// reads at most MaxAnswer bytes of it (status line, headers and the start
// of the body together), and keeps at most MaxReason bytes of text from it.
const (
	MaxAnswer = 4 << 10
	MaxReason = 160
	// bodyPeek is how much of a failing answer's body the reason quotes.
	bodyPeek = 120
)

// Target is one daemon to probe.
type Target struct {
	// Key is the daemon's key.
	Key string
	// Addr is the daemon's $HOST:$PORT.
	Addr netip.AddrPort
	// Host is the request's Host header: the webroot's first server
	// name, or "" for the address.
	Host  string
	Check Check
}

// Prober sends probes: one HTTP/1.1 GET on a new connection, closed
// after the status line (and, for a failure, a little of the body) is
// read. Redirects are an answer like any other (3xx is healthy), never
// followed; every probe ends by its deadline.
type Prober struct {
	// Dialer dials the daemon; nil is a net.Dialer without keep-alive.
	Dialer *net.Dialer
}

// Probe probes t once, within its timeout (and ctx).
func (p *Prober) Probe(ctx context.Context, t Target) Result {
	ctx, cancel := context.WithTimeout(ctx, t.Check.Timeout)
	defer cancel()
	res, err := p.probe(ctx, t)
	if err != nil {
		return failure(err, t.Check.Timeout)
	}
	return res
}

func (p *Prober) probe(ctx context.Context, t Target) (Result, error) {
	host := t.Host
	if host == "" {
		host = t.Addr.String()
	}
	// spec allows neither; a request line or header is never split.
	if !wireSafe(t.Check.Path) || !wireSafe(host) {
		return Result{Kind: ResultError, Reason: "the health path or host name is not fit for a request"}, nil
	}
	d := p.Dialer
	if d == nil {
		// No TCP keep-alive: the connection lives for one request, and
		// setting it up is system calls on every probe.
		d = &net.Dialer{KeepAlive: -1}
	}
	conn, err := d.DialContext(ctx, "tcp", t.Addr.String())
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	if err := conn.SetDeadline(deadline); err != nil {
		return Result{}, err
	}
	// The context's end closes the connection too (a reader blocked
	// past a deadline the kernel missed, or the agent stopping).
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	req := "GET " + t.Check.Path + " HTTP/1.1\r\nHost: " + host +
		"\r\nUser-Agent: drover-health\r\nAccept: */*\r\nConnection: close\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return Result{}, err
	}
	br := bufio.NewReaderSize(io.LimitReader(conn, MaxAnswer), 1024)
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodGet})
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, ctx.Err()
		}
		if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) || errors.Is(err, bufio.ErrBufferFull) {
			return Result{Kind: ResultError, Reason: fmt.Sprintf("no complete HTTP answer in its first %d bytes", MaxAnswer)}, nil
		}
		return Result{}, err
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 200 && resp.StatusCode < 400 {
		return Result{Kind: ResultHealthy}, nil
	}
	reason := fmt.Sprintf("HTTP %d", resp.StatusCode)
	peek := make([]byte, bodyPeek)
	n, _ := io.ReadFull(resp.Body, peek)
	if n > 0 {
		reason += ": " + string(peek[:n])
	}
	return Result{Kind: ResultStatus, Reason: Clean(reason)}, nil
}

// failure is the result of a probe that got no answer.
func failure(err error, timeout time.Duration) Result {
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne) && ne.Timeout():
		return Result{Kind: ResultTimeout, Reason: fmt.Sprintf("no answer within %s", timeout)}
	case errors.Is(err, syscall.ECONNREFUSED):
		return Result{Kind: ResultRefused, Reason: "connection refused: nothing listens on $HOST:$PORT"}
	case errors.Is(err, context.Canceled):
		return Result{Kind: ResultError, Reason: "the agent is stopping"}
	}
	return Result{Kind: ResultError, Reason: Clean(err.Error())}
}

// wireSafe reports whether s may go into a request line or header: no
// space, control character or byte beyond ASCII.
func wireSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// Clean is text from a tenant's answer as a reason may hold it: valid
// UTF-8, runs of control characters and spaces as one space, at most
// MaxReason bytes ("…" marking a cut). drover status escapes what is left
// for the terminal.
func Clean(s string) string {
	s = strings.ToValidUTF8(s, "?")
	var b strings.Builder
	space := false
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == ' ' || r >= 0x80 && r < 0xa0 {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		if b.Len()+utf8.RuneLen(r) > MaxReason-len("…") {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
	}
	return b.String()
}
