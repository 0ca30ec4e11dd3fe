package supervisor

import (
	"context"
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
	// exitStatus and stderr are set by Exit.
	exitStatus int
	stderr     string
	// stdout is what Output appended.
	stdout string
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
