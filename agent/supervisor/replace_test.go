package supervisor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// requestCounter counts the requests a Rollout sends to remove and add
// groups (each Batch or Replace is one request to supervisord here).
type requestCounter struct {
	*Fake
	mu       sync.Mutex
	requests []string
}

func (c *requestCounter) note(what string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = append(c.requests, what)
}

func (c *requestCounter) Batch(ctx context.Context, op Op, groups []string) []error {
	if len(groups) > 0 && (op == OpRemove || op == OpAdd) {
		c.note(string(op))
	}
	return c.Fake.Batch(ctx, op, groups)
}

func (c *requestCounter) Replace(ctx context.Context, groups []string) (removeErrs, addErrs []error) {
	if len(groups) > 0 {
		c.note("replace")
	}
	return c.Fake.Replace(ctx, groups)
}

// TestRolloutReplacesInOneRequest: a restart's remove and add go to
// supervisord in one request (each request waits for a turn of its main
// loop, tens of milliseconds with thousands of processes, on the way from
// a commit to the new process); a removed group is removed alone.
func TestRolloutReplacesInOneRequest(t *testing.T) {
	ctx := context.Background()
	f := booted(t, manyProgs(3))
	before := pids(f)
	f.SetFiles(confFiles(prog("p000", "stopwaitsecs=3"), prog("p001")))
	_, changed, removed, err := f.ReloadConfig(ctx)
	if err != nil || len(changed) != 1 || len(removed) != 1 {
		t.Fatalf("ReloadConfig: changed %v, removed %v, %v", changed, removed, err)
	}
	c := &requestCounter{Fake: f}
	r, run := startRollout(t, c, RolloutOptions{Check: 5 * time.Millisecond})
	jobs := replaceJobs(changed)
	jobs = append(jobs, Job{Group: "p002", Kind: Remove, Stop: []string{"p002:p002"}, StopWait: time.Second, Fresh: true})
	r.Submit(jobs)
	waitIdle(t, r)
	for _, d := range run.finished() {
		if d.Err != nil {
			t.Errorf("%s: %v", d.Group, d.Err)
		}
	}
	after := pids(f)
	if len(after) != 2 || after["p000:p000"] == before["p000:p000"] || after["p001:p001"] != before["p001:p001"] {
		t.Errorf("processes %v after the rollout (before %v): want p000 restarted, p001 kept, p002 gone\n%s", after, before, f.Snapshot())
	}
	want := fmt.Sprint([]string{string(OpRemove), "replace"})
	if got := fmt.Sprint(c.requests); got != want {
		t.Errorf("requests %s, want %s: the restart's remove and add in one", got, want)
	}
}

// TestClientReplaceOneMulticall: Client.Replace sends each group's remove
// and add, in that order, in one system.multicall, and hands back each
// call's fault at the group's index.
func TestClientReplaceOneMulticall(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu       sync.Mutex
		requests []string
		callRE   = regexp.MustCompile(`<string>supervisor\.(\w+)</string>.*?<string>(g\d+)</string>`)
	)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var calls []string
		var out strings.Builder
		out.WriteString("<?xml version='1.0'?><methodResponse><params><param><value><array><data>")
		for _, m := range callRE.FindAllStringSubmatch(string(body), -1) {
			calls = append(calls, m[1]+" "+m[2])
			switch {
			case m[1] == "removeProcessGroup" && m[2] == "g1":
				out.WriteString(faultXML(FaultStillRunning, "STILL_RUNNING: g1"))
			case m[1] == "addProcessGroup" && m[2] == "g1":
				out.WriteString(faultXML(FaultAlreadyAdded, "ALREADY_ADDED: g1"))
			case m[1] == "addProcessGroup" && m[2] == "g2":
				out.WriteString(faultXML(FaultBadName, "BAD_NAME: g2"))
			default:
				out.WriteString("<value><boolean>1</boolean></value>")
			}
		}
		out.WriteString("</data></array></value></param></params></methodResponse>")
		mu.Lock()
		requests = append(requests, strings.Join(calls, ", "))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, out.String())
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	removeErrs, addErrs := New(socket).Replace(context.Background(), []string{"g0", "g1", "g2"})
	want := "removeProcessGroup g0, addProcessGroup g0, removeProcessGroup g1, addProcessGroup g1, removeProcessGroup g2, addProcessGroup g2"
	if len(requests) != 1 || requests[0] != want {
		t.Fatalf("requests %q, want one: %s", requests, want)
	}
	if removeErrs[0] != nil || addErrs[0] != nil || !IsFault(removeErrs[1], FaultStillRunning) || removeErrs[2] != nil ||
		!IsFault(addErrs[2], FaultBadName) {
		t.Errorf("remove errors %v, add errors %v", removeErrs, addErrs)
	}
}
