package supervisor

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// The Fake's exits: a process that ends on its own stays EXITED with its
// exit status, as supervisord leaves it with autorestart=false, until it
// is started again.

// Exit makes a running process ("group:name") end on its own with status
// (-1: killed by a signal, as supervisord reports it) and stderr as the end
// of its stderr log.
func (f *Fake) Exit(name string, status int, stderr string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	p := f.proc(name)
	if p == nil || !running(p.state) {
		panic(fmt.Sprintf("supervisor.Fake.Exit: %s is not running", name))
	}
	if !p.due.IsZero() {
		p.due = time.Time{}
		f.move(-1)
	}
	p.state, p.pid, p.stop, p.exitStatus = "EXITED", 0, time.Now(), status
	p.stderr += stderr
}

// StartProcesses starts each process without waiting, with supervisord's
// faults.
func (f *Fake) StartProcesses(ctx context.Context, names []string) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	errs := make([]error, len(names))
	for i, name := range names {
		f.count("StartProcess")
		gname, pname, _ := strings.Cut(name, ":")
		p := f.proc(name)
		switch {
		case p == nil:
			errs[i] = badName(name)
		case running(p.state):
			errs[i] = &Fault{Code: FaultAlreadyStarted, String: "ALREADY_STARTED: " + name}
		default:
			f.start(f.active[gname], pname, false)
		}
	}
	return errs
}

// StderrTails returns the end of each process's stderr (see Exit).
func (f *Fake) StderrTails(ctx context.Context, names []string, max int) ([]string, []error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tails := make([]string, len(names))
	errs := make([]error, len(names))
	for i, name := range names {
		p := f.proc(name)
		if p == nil {
			errs[i] = badName(name)
			continue
		}
		s := p.stderr
		if len(s) > max {
			s = s[len(s)-max:]
		}
		tails[i] = s
	}
	return tails, errs
}

// proc is the active process "group:name", nil if there is none (f.mu
// held).
func (f *Fake) proc(name string) *fakeProc {
	gname, pname, _ := strings.Cut(name, ":")
	if g, ok := f.active[gname]; ok {
		return g.procs[pname]
	}
	return nil
}
