package main

import (
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
)

// sampleEvery is the pace of the copies sampler.
const sampleEvery = 100 * time.Millisecond

// sampler scans /proc every sampleEvery for the command lines a script
// watches, and notes on which nodes of the world each runs. One per
// script: a scan serves every watch.
type sampler struct {
	nodes map[string]string // "net:[ino]" → node
	stop  chan struct{}
	done  chan struct{}

	mu      sync.Mutex
	watches map[string]*copyWatch // by name
}

// copyWatch is what a sampler saw of one command line.
type copyWatch struct {
	cmdline string
	start   time.Time
	// changes are the samples whose nodes differed from the sample before.
	changes []copyChange
	max     int
	samples int
	// last is when it was last sampled; gap the longest time between two
	// samples.
	last time.Time
	gap  time.Duration
}

type copyChange struct {
	at    time.Duration // since start
	nodes []string      // sorted, one entry per process
}

var samplers sync.Map // WORK → *sampler

// cmdCopies watches where a daemon's processes run:
//
//	copies start NAME CMDLINE   sample every 100 ms the nodes running a tenant's process whose command line is CMDLINE
//	copies stop NAME            stop; print every change ("+1.20s n1 n3", "-" for none), the samples and "max copies: N"
//
// A process's node is told by its network namespace ($NS1...$NS9).
func cmdCopies(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: copies start NAME CMDLINE | copies stop NAME")
	}
	s := scriptSampler(ts)
	name := args[1]
	switch {
	case args[0] == "start" && len(args) == 3:
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.watches[name] != nil {
			ts.Fatalf("copies: %s is watched already", name)
		}
		s.watches[name] = &copyWatch{cmdline: args[2], start: time.Now()}
	case args[0] == "stop" && len(args) == 2:
		s.mu.Lock()
		w := s.watches[name]
		delete(s.watches, name)
		s.mu.Unlock()
		if w == nil {
			ts.Fatalf("copies: %s is not watched", name)
		}
		var b strings.Builder
		for _, c := range w.changes {
			nodes := "-"
			if len(c.nodes) > 0 {
				nodes = strings.Join(c.nodes, " ")
			}
			fmt.Fprintf(&b, "+%.2fs %s\n", c.at.Seconds(), nodes)
		}
		fmt.Fprintf(&b, "samples: %d in %.1fs, at most %d ms apart\nmax copies: %d\n", w.samples, w.last.Sub(w.start).Seconds(), w.gap.Milliseconds(), w.max)
		_, _ = ts.Stdout().Write([]byte(b.String()))
	default:
		ts.Fatalf("usage: copies start NAME CMDLINE | copies stop NAME")
	}
}

// scriptSampler is the script's sampler, started at its first use and
// stopped when the script ends.
func scriptSampler(ts *testscript.TestScript) *sampler {
	work := ts.Getenv("WORK")
	if v, ok := samplers.Load(work); ok {
		return v.(*sampler)
	}
	s := &sampler{nodes: map[string]string{}, stop: make(chan struct{}), done: make(chan struct{}), watches: map[string]*copyWatch{}}
	for i := 1; i <= 9; i++ {
		ns := ts.Getenv("NS" + strconv.Itoa(i))
		if ns == "" {
			continue
		}
		var st syscall.Stat_t
		ts.Check(syscall.Stat("/run/netns/"+ns, &st))
		s.nodes[fmt.Sprintf("net:[%d]", st.Ino)] = "n" + strconv.Itoa(i)
	}
	samplers.Store(work, s)
	go s.run()
	ts.Defer(func() {
		close(s.stop)
		<-s.done
		samplers.Delete(work)
	})
	return s
}

func (s *sampler) run() {
	defer close(s.done)
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		s.mu.Lock()
		want := map[string]bool{}
		for _, w := range s.watches {
			want[w.cmdline] = true
		}
		s.mu.Unlock()
		if len(want) == 0 {
			continue
		}
		running := s.scan(want)
		now := time.Now()
		s.mu.Lock()
		for _, w := range s.watches {
			nodes := running[w.cmdline]
			slices.Sort(nodes)
			if w.samples == 0 || !slices.Equal(nodes, w.changes[len(w.changes)-1].nodes) {
				w.changes = append(w.changes, copyChange{now.Sub(w.start), nodes})
			}
			if w.samples > 0 {
				w.gap = max(w.gap, now.Sub(w.last))
			}
			w.samples++
			w.last = now
			w.max = max(w.max, len(nodes))
		}
		s.mu.Unlock()
	}
}

// scan reads the command line of every tenant process (uids of
// scriptTenants) once and returns, for each wanted one, the nodes of the
// processes running it; processes outside the world's namespaces are
// ignored.
func (s *sampler) scan(want map[string]bool) map[string][]string {
	out := map[string][]string{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		// Tenants' processes only: a stat is cheaper than reading the
		// command line of every process of a busy machine.
		var st syscall.Stat_t
		if syscall.Stat(filepath.Join("/proc", e.Name()), &st) != nil || st.Uid < scriptUIDMin || st.Uid > scriptUIDMax {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		cmdline := strings.TrimRight(strings.ReplaceAll(string(b), "\x00", " "), " ")
		if !want[cmdline] {
			continue
		}
		ns, err := os.Readlink(filepath.Join("/proc", e.Name(), "ns", "net"))
		if err != nil {
			continue
		}
		if n, ok := s.nodes[ns]; ok {
			out[cmdline] = append(out[cmdline], n)
		}
	}
	return out
}
