package supervisor

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"
)

// Fake is a supervisord in memory for tests. It models state, not calls:
//
//   - the configuration files (SetFiles), parsed like supervisord parses its
//     included files; only [program:x] sections are modelled, others (such
//     as [group:x] and [eventlistener:x]) are ignored;
//   - the loaded configuration: what the last ReloadConfig read, which is
//     what AddProcessGroup activates (as in supervisord, a file changed
//     after ReloadConfig is not seen until the next one);
//   - the active groups and their processes, each with a state and a fake
//     PID that changes on every start.
//
// It answers every call with supervisord's faults (BAD_NAME for any name it
// does not know, ALREADY_ADDED, STILL_RUNNING, CANT_REREAD, SPAWN_ERROR).
// By default it settles at once: transitions supervisord makes
// asynchronously (autostart after AddProcessGroup, STARTING → RUNNING,
// STOPPING → STOPPED) have happened when a call returns, whatever its wait
// argument. With StartDelay or StopDelay set, a start without waiting
// (autostart included) stays STARTING, and a stop without waiting stays
// STOPPING, for that long, as supervisord's do; Peak reports the most
// processes ever in those states at once. Tests compare Snapshot texts and
// Calls counts.
//
// The zero Fake is a supervisord with no files and no groups.
type Fake struct {
	// StartDelay and StopDelay model how long processes take to start
	// and to stop when nobody waits for them; set them before use.
	StartDelay, StopDelay time.Duration

	mu      sync.Mutex
	files   map[string][]byte
	loaded  map[string]*fakeProgram
	active  map[string]*fakeGroup
	failing map[string]string // program → FATAL or BACKOFF
	lastPID int
	calls   map[string]int
	// moving counts processes STARTING or STOPPING; peak is its maximum.
	moving, peak int
}

type fakeGroup struct {
	prog  *fakeProgram
	procs map[string]*fakeProc
}

type fakeProc struct {
	state    string
	pid      int
	spawnErr string
	start    time.Time
	stop     time.Time
	// due is when a STARTING or STOPPING process settles.
	due time.Time
}

// processStates are supervisord's process state codes.
var processStates = map[string]int{
	"STOPPED": 0, "STARTING": 10, "RUNNING": 20, "BACKOFF": 30,
	"STOPPING": 40, "EXITED": 100, "FATAL": 200, "UNKNOWN": 1000,
}

// running is supervisord's RUNNING_STATES: what stop acts on, what start
// skips, and (with STOPPING) what blocks a remove.
func running(state string) bool {
	return state == "STARTING" || state == "RUNNING" || state == "BACKOFF"
}

const exitedTooQuickly = "Exited too quickly (process log may have details)"

// NewFake returns a Fake with no files and no groups.
func NewFake() *Fake { return &Fake{} }

// SetFiles replaces the configuration files (name → text) with files, as if
// the agent had rewritten conf.d. Nothing changes until ReloadConfig.
func (f *Fake) SetFiles(files map[string][]byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files = maps.Clone(files)
}

// Boot is supervisord (re)starting: it loads the files and activates every
// group, starting the autostart ones. It fails like ReloadConfig on invalid
// files (supervisord would not start).
func (f *Fake) Boot() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	progs, err := parsePrograms(f.files)
	if err != nil {
		return &Fault{Code: FaultCantReread, String: "CANT_REREAD: " + err.Error()}
	}
	f.loaded = progs
	f.active = map[string]*fakeGroup{}
	for _, name := range slices.Sorted(maps.Keys(progs)) {
		f.activate(progs[name])
	}
	return nil
}

// SetFailing makes every later start of program's processes end in state
// (FATAL or BACKOFF) with supervisord's "Exited too quickly" spawn error,
// until SetFailing(program, "") — a broken command keeps failing.
func (f *Fake) SetFailing(program, state string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if state != "" && state != "FATAL" && state != "BACKOFF" {
		panic(fmt.Sprintf("supervisor.Fake.SetFailing: state %q is neither FATAL nor BACKOFF", state))
	}
	if f.failing == nil {
		f.failing = map[string]string{}
	}
	if state == "" {
		delete(f.failing, program)
	} else {
		f.failing[program] = state
	}
}

// Snapshot is the active configuration as sorted text, one process a line:
// "group:process STATE pid=N" (pid only while it runs), and "group: (no
// processes)" for an empty group.
func (f *Fake) Snapshot() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.settle()
	var lines []string
	for gname, g := range f.active {
		if len(g.procs) == 0 {
			lines = append(lines, gname+": (no processes)")
		}
		for pname, p := range g.procs {
			line := fmt.Sprintf("%s:%s %s", gname, pname, p.state)
			if p.pid != 0 {
				line += fmt.Sprintf(" pid=%d", p.pid)
			}
			lines = append(lines, line)
		}
	}
	slices.Sort(lines)
	return strings.Join(lines, "\n") + "\n"
}

// Calls returns how many times each state-changing method (AddProcessGroup,
// RemoveProcessGroup, StartProcessGroup, StopProcessGroup, StopProcess) was
// called, failed
// calls included. ReloadConfig only re-reads files and is not counted, nor
// are the reads.
func (f *Fake) Calls() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return maps.Clone(f.calls)
}

func (f *Fake) count(method string) {
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[method]++
}

func badName(name string) error {
	return &Fault{Code: FaultBadName, String: "BAD_NAME: " + name}
}

// ReloadConfig parses the files into the loaded configuration and diffs it
// against the active groups.
func (f *Fake) ReloadConfig(ctx context.Context) (added, changed, removed []string, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	progs, err := parsePrograms(f.files)
	if err != nil {
		return nil, nil, nil, &Fault{Code: FaultCantReread, String: "CANT_REREAD: " + err.Error()}
	}
	f.loaded = progs
	for _, name := range slices.Sorted(maps.Keys(progs)) {
		if g, ok := f.active[name]; !ok {
			added = append(added, name)
		} else if !g.prog.equal(progs[name]) {
			changed = append(changed, name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(f.active)) {
		if _, ok := progs[name]; !ok {
			removed = append(removed, name)
		}
	}
	// supervisord answers empty arrays, never nil ones
	return nonNil(added), nonNil(changed), nonNil(removed), nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

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
	p.start = time.Now()
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
		PID: p.pid, SpawnErr: p.spawnErr, Start: p.start, Stop: p.stop, Now: time.Now(),
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
