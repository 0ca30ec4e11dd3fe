package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drover-sh/drover/agent/localapi"
)

// The commands below let the failover scripts (testscripts/failover_*.txtar)
// kill a node of a shard-world, watch where a daemon's processes run while
// the pool moves it, and time what happens.

// cmdKillTree kills, with SIGKILL, the process named in each pid file and
// every process below it: kill-tree PIDFILE... (a node's supervisord with
// its programs, nginx with its workers). A missing or stale pid file is an
// error: the script expects the process to be there.
func cmdKillTree(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: kill-tree PIDFILE...")
	}
	parents := processParents()
	for _, file := range args {
		b, err := os.ReadFile(ts.MkAbs(file))
		ts.Check(err)
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 1 {
			ts.Fatalf("kill-tree: %s holds no pid", file)
		}
		if _, ok := parents[pid]; !ok {
			ts.Fatalf("kill-tree: process %d of %s is not running", pid, file)
		}
		tree := descendants(parents, pid)
		// The root first, so it starts nothing again meanwhile.
		for _, p := range tree {
			_ = syscall.Kill(p, syscall.SIGKILL)
		}
		ts.Logf("killed %s: pids %v", file, tree)
	}
}

// processParents maps every process to its parent, from /proc.
func processParents() map[int]int {
	parents := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		s := string(b)
		i := strings.LastIndexByte(s, ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(s[i+1:])
		if len(f) < 2 {
			continue
		}
		if ppid, err := strconv.Atoi(f[1]); err == nil {
			parents[pid] = ppid
		}
	}
	return parents
}

// descendants is root and every process below it, root first.
func descendants(parents map[int]int, root int) []int {
	out := []int{root}
	for i := 0; i < len(out); i++ {
		for pid, ppid := range parents {
			if ppid == out[i] {
				out = append(out, pid)
			}
		}
	}
	return out
}

// stopwatches hold each script's start mark.
var stopwatches sync.Map // WORK → time.Time

// cmdStopwatch times a script's events:
//
//	stopwatch start                 mark now
//	stopwatch lap LABEL [MIN MAX]   print "LABEL: N.NNs" (seconds since the mark); fail outside MIN..MAX
//	stopwatch member SOCKET NODE    print "SOCKET's pool: NODE STATE since +N.NNs" (its since, from GET /v1/status)
//
// Lines go to stdout.
func cmdStopwatch(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) == 0 {
		ts.Fatalf("usage: stopwatch start | lap LABEL [MIN MAX] | member SOCKET NODE")
	}
	work := ts.Getenv("WORK")
	if args[0] == "start" && len(args) == 1 {
		stopwatches.Store(work, time.Now())
		return
	}
	v, ok := stopwatches.Load(work)
	if !ok {
		ts.Fatalf("stopwatch: not started")
	}
	start := v.(time.Time)
	var line string
	switch {
	case args[0] == "lap" && (len(args) == 2 || len(args) == 4):
		took := time.Since(start).Seconds()
		line = fmt.Sprintf("%s: %.2fs", args[1], took)
		if len(args) == 4 {
			lo, err1 := strconv.ParseFloat(args[2], 64)
			hi, err2 := strconv.ParseFloat(args[3], 64)
			if err1 != nil || err2 != nil {
				ts.Fatalf("stopwatch: %q and %q are not numbers of seconds", args[2], args[3])
			}
			if took < lo || took > hi {
				ts.Fatalf("%s, not within %s..%ss", line, args[2], args[3])
			}
		}
	case args[0] == "member" && len(args) == 3:
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		st, err := localapi.NewClient(args[1]).Status(ctx)
		ts.Check(err)
		if st.Pool == nil {
			ts.Fatalf("stopwatch: %s shows no pool", args[1])
		}
		i := slices.IndexFunc(st.Pool.Members, func(m localapi.PoolMember) bool { return m.Name == args[2] })
		if i < 0 {
			ts.Fatalf("stopwatch: %s's pool has no member %s", args[1], args[2])
		}
		m := st.Pool.Members[i]
		line = fmt.Sprintf("%s's pool: %s %s since %+.2fs", st.Node, m.Name, m.State, m.Since.Sub(start).Seconds())
	default:
		ts.Fatalf("usage: stopwatch start | lap LABEL [MIN MAX] | member SOCKET NODE")
	}
	_, _ = ts.Stdout().Write([]byte(line + "\n"))
}

// cmdPoolUntil waits until an agent's pool shows the given states, for at
// most SECONDS: pool-until SECONDS SOCKET NODE=STATE... (quorum=true and
// quorum=false check the quorum). It polls GET /v1/status every 100 ms and
// prints the last view when it gives up.
func cmdPoolUntil(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 3 {
		ts.Fatalf("usage: pool-until SECONDS SOCKET NODE=STATE...")
	}
	secs, err := strconv.ParseFloat(args[0], 64)
	if err != nil {
		ts.Fatalf("pool-until: %q is not a number of seconds", args[0])
	}
	start := time.Now()
	deadline := start.Add(time.Duration(secs * float64(time.Second)))
	c := localapi.NewClient(args[1])
	for {
		view, err := poolView(c)
		if err == nil && poolMatches(view, args[2:]) {
			ts.Logf("pool-until: %s after %.2fs", strings.Join(args[2:], " "), time.Since(start).Seconds())
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("pool-until: %s not seen within %ss; last view: %v (err %v)", strings.Join(args[2:], " "), args[0], view, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// poolView is an agent's pool as NODE=STATE entries and quorum=BOOL.
func poolView(c *localapi.Client) (map[string]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.Status(ctx)
	if err != nil {
		return nil, err
	}
	if st.Pool == nil {
		return nil, fmt.Errorf("no pool")
	}
	view := map[string]string{"quorum": strconv.FormatBool(st.Pool.Quorum)}
	for _, m := range st.Pool.Members {
		view[m.Name] = m.State
	}
	return view, nil
}

func poolMatches(view map[string]string, want []string) bool {
	for _, w := range want {
		k, v, _ := strings.Cut(w, "=")
		if view[k] != v {
			return false
		}
	}
	return true
}

// cmdShardPool gives every node of a shard-world a pool: shard-pool FILE.
// It writes one random key to $WORK/nI/pool.key on every node (root's,
// 0600), creates the lease directory $WORK/nI/run (0700) and appends FILE,
// a pool block, to each $WORK/nI/agent.hcl with @DIR@ replaced by $WORK/nI.
func cmdShardPool(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: shard-pool FILE")
	}
	block, err := os.ReadFile(ts.MkAbs(args[0]))
	ts.Check(err)
	key := make([]byte, 32)
	_, err = rand.Read(key)
	ts.Check(err)
	for i := 1; ts.Getenv("NS"+strconv.Itoa(i)) != ""; i++ {
		dir := filepath.Join(ts.Getenv("WORK"), "n"+strconv.Itoa(i))
		ts.Check(os.WriteFile(filepath.Join(dir, "pool.key"), key, 0o600))
		ts.Check(os.Mkdir(filepath.Join(dir, "run"), 0o700))
		f, err := os.OpenFile(filepath.Join(dir, "agent.hcl"), os.O_APPEND|os.O_WRONLY, 0)
		ts.Check(err)
		_, err = f.WriteString(strings.ReplaceAll(string(block), "@DIR@", dir))
		ts.Check(errors.Join(err, f.Close()))
	}
}
