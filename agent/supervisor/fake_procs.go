package supervisor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// The Fake's groups and processes: what the API calls do to them, and
// how they settle over time (see Fake).

// AddProcessGroup activates a loaded group and starts its processes if
// autostart is set.
func (f *Fake) AddProcessGroup(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	f.count("AddProcessGroup")
	prog, ok := f.loaded[name]
	if !ok {
		return badName(name)
	}
	if _, ok := f.active[name]; ok {
		return &Fault{Code: FaultAlreadyAdded, String: "ALREADY_ADDED: " + name}
	}
	f.activate(prog)
	return nil
}

func (f *Fake) activate(prog *fakeProgram) {
	if f.active == nil {
		f.active = map[string]*fakeGroup{}
	}
	g := &fakeGroup{prog: prog, procs: map[string]*fakeProc{}}
	for _, name := range prog.procs {
		g.procs[name] = &fakeProc{state: "STOPPED"}
	}
	f.active[prog.name] = g
	if prog.autostart {
		for _, name := range prog.procs {
			f.start(g, name, false)
		}
	}
}

// start spawns a process: RUNNING with a new PID, or the failing state;
// STARTING until StartDelay passed when nobody waits.
func (f *Fake) start(g *fakeGroup, name string, wait bool) (failed bool) {
	p := g.procs[name]
	p.start, p.exitStatus = time.Now(), 0
	if !wait && f.StartDelay > 0 {
		f.lastPID++
		p.state, p.pid, p.spawnErr, p.due = "STARTING", 1000+f.lastPID, "", p.start.Add(f.StartDelay)
		f.move(1)
		return false
	}
	return f.started(g, p)
}

// started settles a spawned process: RUNNING, or the failing state.
func (f *Fake) started(g *fakeGroup, p *fakeProc) (failed bool) {
	if st := f.failing[g.prog.name]; st != "" {
		p.state, p.pid, p.spawnErr, p.stop = st, 0, exitedTooQuickly, time.Now()
		return true
	}
	if p.pid == 0 {
		f.lastPID++
		p.pid = 1000 + f.lastPID
	}
	p.state, p.spawnErr = "RUNNING", ""
	return false
}

// move counts processes entering (+1) or leaving (-1) STARTING/STOPPING.
func (f *Fake) move(n int) {
	f.moving += n
	f.peak = max(f.peak, f.moving)
}

// settle makes the transitions whose time has come (f.mu held).
func (f *Fake) settle() {
	if f.StartDelay == 0 && f.StopDelay == 0 {
		return
	}
	now := time.Now()
	for _, g := range f.active {
		for _, p := range g.procs {
			if p.due.IsZero() || now.Before(p.due) {
				continue
			}
			p.due = time.Time{}
			f.move(-1)
			switch p.state {
			case "STARTING":
				f.started(g, p)
			case "STOPPING":
				p.state, p.pid, p.stop = "STOPPED", 0, now
			}
		}
	}
}

// Peak is the most processes that were STARTING or STOPPING at once.
func (f *Fake) Peak() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.peak
}

// RemoveProcessGroup removes an active group whose processes are stopped.
func (f *Fake) RemoveProcessGroup(ctx context.Context, name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	f.count("RemoveProcessGroup")
	g, ok := f.active[name]
	if !ok {
		return badName(name)
	}
	for _, p := range g.procs {
		if running(p.state) || p.state == "STOPPING" {
			return &Fault{Code: FaultStillRunning, String: "STILL_RUNNING: " + name}
		}
	}
	delete(f.active, name)
	return nil
}

// StartProcessGroup starts the group's processes that are not running. A
// failing process answers SPAWN_ERROR when waiting, as supervisord does for
// a process that exits too quickly, and nothing when not.
func (f *Fake) StartProcessGroup(ctx context.Context, name string, wait bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("StartProcessGroup")
	g, ok := f.active[name]
	if !ok {
		return badName(name)
	}
	var errs []error
	f.settle()
	for _, pname := range g.prog.procs {
		if running(g.procs[pname].state) {
			continue
		}
		if f.start(g, pname, wait) && wait {
			errs = append(errs, &Fault{Code: FaultSpawnError, String: "SPAWN_ERROR: " + name + ":" + pname})
		}
	}
	return errors.Join(errs...)
}

// StopProcessGroup stops the group's running processes.
func (f *Fake) StopProcessGroup(ctx context.Context, name string, wait bool) error {
	_, err := f.stopGroup(name, wait)
	return err
}

// stopGroup stops the group's running processes and names them; without
// wait they stay STOPPING for StopDelay.
func (f *Fake) stopGroup(name string, wait bool) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("StopProcessGroup")
	f.settle()
	g, ok := f.active[name]
	if !ok {
		return nil, badName(name)
	}
	var names []string
	for _, pname := range slices.Sorted(maps.Keys(g.procs)) {
		if p := g.procs[pname]; running(p.state) {
			names = append(names, name+":"+pname)
			f.stop(p, wait)
		}
	}
	return names, nil
}

// stopProcess stops one process ("group:name") without waiting, with
// supervisord's faults.
func (f *Fake) stopProcess(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.count("StopProcess")
	f.settle()
	gname, pname, _ := strings.Cut(name, ":")
	g, ok := f.active[gname]
	if !ok || g.procs[pname] == nil {
		return badName(name)
	}
	p := g.procs[pname]
	if !running(p.state) {
		return &Fault{Code: FaultNotRunning, String: "NOT_RUNNING: " + name}
	}
	f.stop(p, false)
	return nil
}

// stop stops a running process: STOPPED, or STOPPING for StopDelay when
// nobody waits (a BACKOFF process has nothing to signal).
func (f *Fake) stop(p *fakeProc, wait bool) {
	if p.state == "STARTING" && !p.due.IsZero() {
		p.due = time.Time{}
		f.move(-1)
	}
	if !wait && f.StopDelay > 0 && p.state != "BACKOFF" {
		p.state, p.due = "STOPPING", time.Now().Add(f.StopDelay)
		f.move(1)
		return
	}
	p.state, p.pid, p.stop = "STOPPED", 0, time.Now()
}

// ProcessInfo returns a process's status; name is "group:process" or a
// process named like its group.
func (f *Fake) ProcessInfo(ctx context.Context, name string) (ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	gname, pname, ok := strings.Cut(name, ":")
	if !ok {
		pname = gname
	}
	g, ok := f.active[gname]
	if !ok {
		return ProcessInfo{}, badName(name)
	}
	if _, ok := g.procs[pname]; !ok {
		return ProcessInfo{}, badName(name)
	}
	return f.info(gname, pname), nil
}

// AllProcessInfo returns every active process, sorted by group and name.
func (f *Fake) AllProcessInfo(ctx context.Context) ([]ProcessInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	out := []ProcessInfo{}
	for _, gname := range slices.Sorted(maps.Keys(f.active)) {
		for _, pname := range slices.Sorted(maps.Keys(f.active[gname].procs)) {
			out = append(out, f.info(gname, pname))
		}
	}
	return out, nil
}

func (f *Fake) info(gname, pname string) ProcessInfo {
	p := f.active[gname].procs[pname]
	info := ProcessInfo{
		Name: pname, Group: gname, State: p.state, StateCode: processStates[p.state],
		PID: p.pid, SpawnErr: p.spawnErr, Start: p.start, Stop: p.stop, Now: time.Now(), ExitStatus: p.exitStatus,
	}
	switch {
	case p.state == "RUNNING":
		info.Description = fmt.Sprintf("pid %d, uptime %s", p.pid, fmtUptime(info.Now.Sub(p.start)))
	case p.state == "FATAL" || p.state == "BACKOFF":
		info.Description = p.spawnErr
	case p.start.IsZero():
		info.Description = "Not started"
	default:
		info.Description = p.stop.Format("Jan 02 03:04 PM")
	}
	return info
}

func fmtUptime(d time.Duration) string {
	s := int(d.Seconds())
	return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
}

// State is always RUNNING: the Fake does not model shutdown.
func (f *Fake) State(ctx context.Context) (string, error) { return "RUNNING", nil }

var _ API = (*Fake)(nil)
