package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/supervisor"
)

// nodeWatch samples a node while something happens to it: every process's
// state and PID in supervisord, and how long `drover status`'s API takes to
// answer.
type nodeWatch struct {
	stop chan struct{}
	done chan struct{}

	mu        sync.Mutex
	pid       map[string]int
	pidSeen   map[string]int // PID changes per process
	downSince map[string]time.Time
	worstDown time.Duration
	worstName string
	statusN   int
	statusMax time.Duration
	statusErr error
	errs      int
}

var watches sync.Map // *testscript.TestScript → *nodeWatch

// cmdWatchNode samples the node of node-world every 100 ms:
//
//	watch-node start
//	watch-node stop MAXDOWN MAXSTATUS
//
// stop prints how many processes changed PID once, more than once and never,
// the longest time a process was not RUNNING and the slowest status answer,
// and fails when those exceed MAXDOWN or MAXSTATUS seconds or a status
// request failed.
func cmdWatchNode(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 || (args[0] == "start") != (len(args) == 1) || (args[0] == "stop") != (len(args) == 3) {
		ts.Fatalf("usage: watch-node start | watch-node stop MAXDOWN MAXSTATUS")
	}
	if args[0] == "start" {
		w := &nodeWatch{stop: make(chan struct{}), done: make(chan struct{}),
			pid: map[string]int{}, pidSeen: map[string]int{}, downSince: map[string]time.Time{}}
		sup := supervisor.New(filepath.Join(ts.Getenv("WORK"), "supervisor.sock"))
		c := statusClient(ts)
		w.sample(sup, c) // the baseline
		go w.run(sup, c)
		watches.Store(ts, w)
		ts.Defer(func() { w.halt() })
		return
	}
	v, ok := watches.LoadAndDelete(ts)
	if !ok {
		ts.Fatalf("watch-node stop without watch-node start")
	}
	w := v.(*nodeWatch)
	w.halt()
	maxDown, err1 := strconv.ParseFloat(args[1], 64)
	maxStatus, err2 := strconv.ParseFloat(args[2], 64)
	if err1 != nil || err2 != nil {
		ts.Fatalf("watch-node stop: MAXDOWN and MAXSTATUS are seconds")
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	once, more, never := 0, 0, 0
	for name := range w.pid {
		switch n := w.pidSeen[name]; {
		case n == 0:
			never++
		case n == 1:
			once++
		default:
			more++
		}
	}
	for name, since := range w.downSince { // still down at the end
		if d := time.Since(since); d > w.worstDown {
			w.worstDown, w.worstName = d, name
		}
	}
	fmt.Fprintf(ts.Stdout(), "processes %d: new pid once %d, more than once %d, never %d\n", len(w.pid), once, more, never)
	fmt.Fprintf(ts.Stdout(), "longest down %.1fs (%s)\n", w.worstDown.Seconds(), w.worstName)
	fmt.Fprintf(ts.Stdout(), "status answered %d times, slowest %dms\n", w.statusN, w.statusMax.Milliseconds())
	if w.errs > 0 {
		ts.Fatalf("%d samples of supervisord failed", w.errs)
	}
	if w.statusErr != nil {
		ts.Fatalf("drover status failed: %v", w.statusErr)
	}
	if w.worstDown.Seconds() > maxDown {
		ts.Fatalf("%s was not running for %.1fs, more than %gs", w.worstName, w.worstDown.Seconds(), maxDown)
	}
	if w.statusMax.Seconds() > maxStatus {
		ts.Fatalf("drover status took %s, more than %gs", w.statusMax, maxStatus)
	}
}

// cmdStatusWithin asks the agent of node-world for its status and fails
// unless the answer (200) comes within the duration: status-within 100ms.
func cmdStatusWithin(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: status-within DURATION")
	}
	limit, err := time.ParseDuration(args[0])
	if err != nil {
		ts.Fatalf("status-within: %v", err)
	}
	start := time.Now()
	_, err = statusClient(ts).Status(context.Background())
	took := time.Since(start)
	if err != nil {
		ts.Fatalf("drover status: %v", err)
	}
	ts.Logf("status answered in %s", took.Round(time.Millisecond))
	if took > limit {
		ts.Fatalf("drover status took %s, more than %s", took, limit)
	}
}

func (w *nodeWatch) halt() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// statusClient is a client of node-world's agent whose status calls give up
// after 10 s.
func statusClient(ts *testscript.TestScript) *localapi.Client {
	c := localapi.NewClient(ts.Getenv("SOCK"))
	c.QueryTimeout = 10 * time.Second
	return c
}

func (w *nodeWatch) run(sup *supervisor.Client, c *localapi.Client) {
	defer close(w.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-w.stop:
			return
		case <-t.C:
			w.sample(sup, c)
		}
	}
}

// sample reads every process once and asks the agent for its status.
func (w *nodeWatch) sample(sup *supervisor.Client, c *localapi.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	infos, err := sup.AllProcessInfo(ctx)
	now := time.Now()
	start := time.Now()
	_, serr := c.Status(context.Background())
	took := time.Since(start)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.statusN++
	w.statusMax = max(w.statusMax, took)
	if serr != nil && w.statusErr == nil {
		w.statusErr = serr
	}
	if err != nil {
		w.errs++
		return
	}
	for _, p := range infos {
		if p.Group == "drover-events" {
			continue
		}
		name := p.Group + ":" + p.Name
		if old, ok := w.pid[name]; ok && p.PID != 0 && p.PID != old {
			w.pidSeen[name]++
		}
		if p.PID != 0 || w.pid[name] == 0 {
			w.pid[name] = p.PID
		}
		if p.State == "RUNNING" {
			if since, ok := w.downSince[name]; ok {
				if d := now.Sub(since); d > w.worstDown {
					w.worstDown, w.worstName = d, name
				}
				delete(w.downSince, name)
			}
		} else if _, ok := w.downSince[name]; !ok {
			w.downSince[name] = now
		}
	}
}
