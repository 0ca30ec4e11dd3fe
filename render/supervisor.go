package render

import (
	"fmt"
	"hash/fnv"
	"strings"

	"github.com/drover-sh/drover/netplan"
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
	return fmt.Sprintf("drover-%02x.conf", h.Sum32()%SupervisorBuckets)
}

// Supervisor renders the node's program sections into their bucket files.
// Buckets without programs are not written.
func Supervisor(p *netplan.NodePlan, o Options) []File {
	buckets := map[string]*strings.Builder{}
	var order []string
	for _, d := range p.Programs { // sorted by program name
		name := SupervisorFile(d.Program)
		b := buckets[name]
		if b == nil {
			b = &strings.Builder{}
			b.WriteString(Header)
			buckets[name] = b
			order = append(order, name)
		}
		b.WriteString("\n")
		b.WriteString(ProgramSection(d, o))
	}
	files := make([]File, 0, len(order))
	for _, name := range order {
		files = append(files, File{Root: RootSupervisor, Path: name, Mode: 0o644, Data: []byte(buckets[name].String())})
	}
	return files
}

// ProgramSection is one [program:x] section. No user text appears in it:
// names are validated to [a-z0-9_-], paths come from the validated agent
// configuration, and the command and environment travel in the exec spec,
// which `drover exec` reads as root before dropping to the tenant's user.
func ProgramSection(d *netplan.Daemon, o Options) string {
	var b strings.Builder
	fmt.Fprintf(&b, "[program:%s]\n", d.Program)
	fmt.Fprintf(&b, "command=%s exec %s\n", o.Binary, o.ExecSpecPath(d.Program))
	fmt.Fprintf(&b, "directory=%s\n", o.WebrootDir(d.Tenant, d.Webroot))
	fmt.Fprintf(&b, "numprocs=%d\n", d.NumProcs)
	if d.NumProcs > 1 {
		b.WriteString("process_name=%(program_name)s_%(process_num)02d\n")
	}
	fmt.Fprintf(&b, "autostart=%t\n", d.Enabled)
	b.WriteString("autorestart=unexpected\n")
	fmt.Fprintf(&b, "stopsignal=%s\n", d.StopSignal)
	fmt.Fprintf(&b, "stopwaitsecs=%d\n", d.StopWaitSecs)
	b.WriteString("stopasgroup=true\nkillasgroup=true\n")
	return b.String()
}
