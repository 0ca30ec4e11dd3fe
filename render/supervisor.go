package render

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// SupervisorBuckets is how many files the node's program sections are spread
// over. Every program always lands in the same file,
// drover-{fnv32a(program) % SupervisorBuckets, two hex digits}.conf, so a
// change rewrites one small file, while supervisord's per-file cost on every
// reread stays bounded (see README, "supervisord file layout").
const SupervisorBuckets = 16

// SupervisorFile is the file below supervisor.conf_dir holding a program.
func SupervisorFile(program string) string {
	h := fnv.New32a()
	h.Write([]byte(program))
	return fmt.Sprintf(supervisorPrefix+"%02x.conf", h.Sum32()%SupervisorBuckets)
}

// supervisorPrefix starts the name of every supervisord file drover writes.
const supervisorPrefix = "drover-"

// Supervisor renders the node's program sections into their bucket files.
// Buckets without programs are not written.
func Supervisor(p *netplan.NodePlan, o Options) []File {
	return supervisorFiles(p.Programs, o, func(d *netplan.Daemon) string { return ProgramSection(d, o) })
}

// supervisorFiles writes the sections of programs (sorted by program name)
// into their bucket files, and the listeners' files.
func supervisorFiles(programs []*netplan.Daemon, o Options, section func(*netplan.Daemon) string) []File {
	order, sections := bucketSections(programs, func(d *netplan.Daemon) string { return SupervisorFile(d.Program) }, section)
	files := make([]File, 0, len(order)+2)
	for _, name := range order {
		files = append(files, bucketFile(name, sections[name]))
	}
	return append(files, listenerFiles(o)...)
}

// bucketSections groups the sections of programs by their bucket file
// (bucket), the files in the order of their first program.
func bucketSections(programs []*netplan.Daemon, bucket, section func(*netplan.Daemon) string) ([]string, map[string][]string) {
	sections := map[string][]string{}
	var order []string
	for _, d := range programs {
		name := bucket(d)
		if _, ok := sections[name]; !ok {
			order = append(order, name)
		}
		sections[name] = append(sections[name], section(d))
	}
	return order, sections
}

// bucketFile is the bucket file name holding sections, in their order.
func bucketFile(name string, sections []string) File {
	n := len(Header)
	for _, s := range sections {
		n += 1 + len(s)
	}
	var b bytes.Buffer
	b.Grow(n)
	b.WriteString(Header)
	for _, s := range sections {
		b.WriteString("\n")
		b.WriteString(s)
	}
	return File{Root: RootSupervisor, Path: name, Mode: 0o644, Data: b.Bytes()}
}

// listenerFiles are the files of drover's event listener and, with a
// lease, of its singleton guard.
func listenerFiles(o Options) []File {
	files := []File{{Root: RootSupervisor, Path: EventListenerFile, Mode: 0o644, Data: []byte(Header + "\n" + EventListenerSection(o))}}
	if o.Lease != "" {
		files = append(files, File{Root: RootSupervisor, Path: GuardFile, Mode: 0o644, Data: []byte(Header + "\n" + GuardSection(o))})
	}
	return files
}

// EventListenerFile holds the event listener that pushes process state
// changes to the agent, so it never polls every process.
const EventListenerFile = supervisorPrefix + "events.conf"

// EventListenerName is the supervisord name of drover's event listener.
const EventListenerName = "drover-events"

// EventListenerSection is supervisord's [eventlistener] section for
// `drover supervisor-events`, which posts process state changes to the
// agent's API socket.
func EventListenerSection(o Options) string {
	return ListenerSection(EventListenerName, o.Binary+" supervisor-events --socket "+o.APISocket)
}

// ListenerSection renders an [eventlistener:NAME] section running command
// (verbatim, but for '%', which supervisord would expand and is doubled) and
// subscribed to every PROCESS_STATE event. stdout is the protocol channel,
// so it is not logged; stderr goes to a log file in supervisord's
// childlogdir (redirect_stderr would corrupt the protocol and supervisord
// refuses it). A section may be extended by appending lines, such as
// environment=.
func ListenerSection(name, command string) string {
	b := ownSection("eventlistener", name, command)
	// supervisord hands a listener one event per turn of its main loop,
	// which at 3,000 processes is slow: a restart of every program queued
	// more than 1,024 events and supervisord discarded the oldest.
	b.WriteString("events=PROCESS_STATE\nbuffer_size=16384\nautostart=true\nautorestart=true\n")
	b.WriteString("redirect_stderr=false\nstdout_logfile=NONE\n")
	boundedLog(b, "stderr")
	return b.String()
}

// ownSection starts a [KIND:NAME] section of one of drover's own programs
// running command (verbatim, but for '%', which supervisord would expand
// and is doubled). Both come from drover itself and the validated agent
// configuration; a newline, which would start a new key, panics.
func ownSection(kind, name, command string) *strings.Builder {
	if strings.ContainsAny(name+command, "\n") {
		panic("render: newline in the name or command of [" + kind + ":" + name + "]")
	}
	var b strings.Builder
	fmt.Fprintf(&b, "[%s:%s]\n", kind, name)
	fmt.Fprintf(&b, "command=%s\n", strings.ReplaceAll(command, "%", "%%"))
	return &b
}

// boundedLog sends a stream ("stdout" or "stderr") of one of drover's own
// programs to a log file in supervisord's childlogdir, rotated at 1 MB
// with two old files kept: 3 MB at most, whatever the program writes.
func boundedLog(b *strings.Builder, stream string) { logFile(b, stream, "1MB", 2) }

// Bounds of a daemon's logs: each stream is rotated at DaemonLogMaxBytes
// with DaemonLogBackups old files kept, so a chatty daemon holds at most
// 4 × 10 MB per stream and process, whatever it writes (supervisord's own
// defaults keep 11 × 50 MB).
const (
	DaemonLogMaxBytes = "10MB"
	DaemonLogBackups  = 3
)

// logFile sends a stream ("stdout" or "stderr") to a log file supervisord
// names in its childlogdir (AUTO: drover logs and the agent read it through
// supervisord's tail calls), rotated at maxBytes with backups old files.
func logFile(b *strings.Builder, stream, maxBytes string, backups int) {
	fmt.Fprintf(b, "%[1]s_logfile=AUTO\n%[1]s_logfile_maxbytes=%[2]s\n%[1]s_logfile_backups=%[3]d\n", stream, maxBytes, backups)
}

// execBinary is the exec wrapper's path.
func (o Options) execBinary() string {
	if o.ExecBinary != "" {
		return o.ExecBinary
	}
	return o.Binary
}

// ProgramSection is one [program:x] section. No user text appears in it:
// names are validated to [a-z0-9_-], paths come from the validated agent
// configuration, and the command and environment travel in the exec spec,
// which `drover exec` reads as root before dropping to the tenant's user.
func ProgramSection(d *netplan.Daemon, o Options) string { return programOf(d).section(o) }

// program is everything of a daemon its program section is written from:
// a comparable value, so a Memo knows when to write a section again.
type program struct {
	Program, Tenant, Webroot string
	NumProcs                 int
	Enabled, Singleton       bool
	StopSignal               string
	StopWaitSecs             int
}

func programOf(d *netplan.Daemon) program {
	return program{Program: d.Program, Tenant: d.Tenant, Webroot: d.Webroot, NumProcs: d.NumProcs, Enabled: d.Enabled,
		Singleton: d.Singleton, StopSignal: d.StopSignal, StopWaitSecs: d.StopWaitSecs}
}

func (d program) section(o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[program:%s]\n", d.Program)
	fmt.Fprintf(&b, "command=%s exec %s\n", o.execBinary(), o.ExecSpecPath(d.Program))
	fmt.Fprintf(&b, "directory=%s\n", o.WebrootDir(d.Tenant, d.Webroot))
	fmt.Fprintf(&b, "numprocs=%d\n", d.NumProcs)
	if d.NumProcs > 1 {
		b.WriteString("process_name=" + spec.ProcessNameFormat + "\n")
	}
	// supervisord never starts a singleton by itself (at boot, say): the
	// agent does, while its node may run singletons.
	fmt.Fprintf(&b, "autostart=%t\n", d.Enabled && !d.Singleton)
	// drover starts a process that ended again itself, by the daemon's
	// restart policy and with a backoff (agent/restart): supervisord
	// leaves it EXITED, or FATAL if it ran less than startsecs, with its
	// exit status.
	b.WriteString("autorestart=false\nstartsecs=1\nstartretries=0\n")
	fmt.Fprintf(&b, "stopsignal=%s\n", d.StopSignal)
	fmt.Fprintf(&b, "stopwaitsecs=%d\n", d.StopWaitSecs)
	b.WriteString("stopasgroup=true\nkillasgroup=true\n")
	b.WriteString("redirect_stderr=false\n")
	logFile(&b, "stdout", DaemonLogMaxBytes, DaemonLogBackups)
	logFile(&b, "stderr", DaemonLogMaxBytes, DaemonLogBackups)
	return b.String()
}
