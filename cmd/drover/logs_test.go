package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

// logsNode is a node whose daemon acme/main/web has two processes writing
// to stdout; its Logs answers as the agent does, by offset.
type logsNode struct {
	statusNode
	mu  sync.Mutex
	out map[string]string // by process
}

func (n *logsNode) Logs(_ context.Context, key string, q localapi.LogQuery) (localapi.Logs, bool, error) {
	if key != "acme/main/web" {
		return localapi.Logs{}, false, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	l := localapi.Logs{Key: key, Stream: q.Stream}
	for _, p := range []string{"web_00", "web_01"} {
		log := n.out[p]
		if q.Stream == "stderr" {
			log = "err " + p + "\n"
		}
		from, ok := q.From[p]
		if !ok {
			from = max(len(log)-q.Bytes, 0)
		}
		l.Procs = append(l.Procs, localapi.ProcessLog{Process: p, Data: log[from:], Offset: len(log)})
	}
	return l, true, nil
}

func (n *logsNode) write(proc, s string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.out[proc] += s
}

// safeBuffer is a strings.Builder a follower writes while the test reads.
type safeBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// drover logs prints the last -n lines of each process, prefixed, the
// tenant's control characters escaped; -f prints a new line when it is
// finished, and stops when interrupted.
func TestLogs(t *testing.T) {
	n := &logsNode{statusNode: statusNode{st: localapi.Status{Node: "web-1a"}},
		out: map[string]string{"web_00": "a\nb\nc\n", "web_01": "x\x1b[2J\u202ey\npart"}}
	c := serveNode(t, n)
	var out, errOut strings.Builder
	env := &cmdEnv{stdout: &out, stderr: &errOut}
	if err := runLogs(context.Background(), env, c, "acme/main/web", logsOptions{lines: 2}); err != nil {
		t.Fatal(err)
	}
	want := "[web_00] b\n[web_00] c\n[web_01] x\\x1b[2J\\u202ey\n[web_01] part\n"
	if out.String() != want {
		t.Errorf("drover logs -n 2 printed\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if err := runLogs(context.Background(), env, c, "acme/main/web", logsOptions{lines: 1, stderr: true}); err != nil || out.String() != "[web_00] err web_00\n[web_01] err web_01\n" {
		t.Errorf("drover logs --stderr: %v\n%s", err, out.String())
	}
	if err := runLogs(context.Background(), env, c, "acme/main/nope", logsOptions{lines: 1}); !localapi.IsNotFound(err) {
		t.Errorf("drover logs of a daemon elsewhere: %v", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	var follow safeBuffer
	done := make(chan error)
	go func() {
		done <- runLogs(ctx, &cmdEnv{stdout: &follow, stderr: &errOut}, c, "acme/main/web", logsOptions{lines: 1, follow: true, poll: 10 * time.Millisecond})
	}()
	wait := func(want string) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline) && follow.String() != want; time.Sleep(10 * time.Millisecond) {
		}
		if follow.String() != want {
			t.Fatalf("drover logs -f printed\n%s\nwant\n%s", follow.String(), want)
		}
	}
	wait("[web_00] c\n[web_01] x\\x1b[2J\\u202ey\n") // "part" waits for its end
	n.write("web_00", "d\n")
	n.write("web_01", "ial\n")
	wait("[web_00] c\n[web_01] x\\x1b[2J\\u202ey\n[web_00] d\n[web_01] partial\n")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("drover logs -f, interrupted: %v", err)
	}
}

func TestSafeText(t *testing.T) {
	for in, want := range map[string]string{
		"plain\ttab ünï":      "plain\ttab ünï",
		"\x1b]0;pwned\x07":    `\x1b]0;pwned\x07`,
		"cr\rover":            `cr\x0dover`,
		"bad\xffutf8":         `bad\xffutf8`,
		"rtl\u202eevil\u2066": `rtl\u202eevil\u2066`,
		"c1\u009b31m":         `c1\u009b31m`,
	} {
		if got := safeText(in); got != want {
			t.Errorf("safeText(%q) = %q, want %q", in, got, want)
		}
	}
}
