package spec

import "fmt"

// A node carries programs, processes, files and cgroups named after tenants,
// webroots and daemons. This file derives every one of those names, and the
// later stages use these functions rather than building names themselves,
// so the validator, which checks that no two daemons or webroots share a
// name (see names_check.go), sees each name a node will carry. A new name
// derived from user input belongs here.
//
// drover's own names cannot meet these: its supervisord files are
// drover-XX.conf, drover-events.conf and drover-guard.conf, its event
// listener is drover-events and its guard program drover-guard (every
// program starts with "daemon-"), and its nginx
// http-level file is servers/drover.http.conf (a tenant or webroot name has
// no '.').

// Namespace is a set of names on a node in which two daemons or webroots
// must not share a name: they would overwrite each other's file or settings.
type Namespace int

// The namespaces, in the order DaemonNames lists them.
const (
	// NSProgram holds supervisord program names, which are also their
	// group names: [program:NAME].
	NSProgram Namespace = iota
	// NSProcess holds supervisord process names, SUPERVISOR_PROCESS_NAME of
	// a daemon's processes.
	NSProcess
	// NSCgroup holds memory cgroups, one per process (agent/launch).
	NSCgroup
	// NSExecSpec holds the exec spec files in {state_dir}/exec.
	NSExecSpec
	// NSNginx holds the nginx files below nginx.conf_dir.
	NSNginx
)

// String is the namespace as a collision diagnostic names it.
func (ns Namespace) String() string {
	switch ns {
	case NSProgram:
		return "supervisord program"
	case NSProcess:
		return "supervisord process"
	case NSCgroup:
		return "memory cgroup"
	case NSExecSpec:
		return "exec spec file"
	case NSNginx:
		return "nginx file"
	}
	return fmt.Sprintf("namespace %d", int(ns))
}

// NodeName is one name a daemon or webroot takes on every node that carries
// it.
type NodeName struct {
	NS   Namespace
	Name string
}

// ProgramName is the supervisord program name of a tenant's daemon:
// "daemon-{tenant}-{daemon}".
func ProgramName(tenant, daemon string) string { return "daemon-" + tenant + "-" + daemon }

// ProcessNameFormat is the supervisord process_name of a program with more
// than one process; a program with one process has the program's name.
const ProcessNameFormat = "%(program_name)s_%(process_num)02d"

// ProcessNames returns the supervisord process names of a program with
// numProcs processes, as ProcessNameFormat expands.
func ProcessNames(program string, numProcs int) []string {
	if numProcs <= 1 {
		return []string{program}
	}
	names := make([]string, numProcs)
	for i := range names {
		if i < 100 {
			names[i] = program + "_" + string([]byte{byte('0' + i/10), byte('0' + i%10)})
		} else {
			names[i] = fmt.Sprintf("%s_%02d", program, i)
		}
	}
	return names
}

// MemoryCgroup is the memory cgroup of a daemon process below the cgroup
// root (cgroup v2) or the memory hierarchy (v1): "drover/{process}".
func MemoryCgroup(process string) string { return "drover/" + process }

// ExecSpecFile is the name of a program's exec spec in {state_dir}/exec.
func ExecSpecFile(program string) string { return program + ".json" }

// WebrootFileName is the base name of a webroot's nginx files:
// "{tenant}_{webroot}".
func WebrootFileName(tenant, webroot string) string { return tenant + "_" + webroot }

// NginxLocationsFile is the path of a webroot's locations file below
// nginx.conf_dir; a platform's own vhost may include it instead of using
// drover's server block.
func NginxLocationsFile(tenant, webroot string) string {
	return "locations/" + WebrootFileName(tenant, webroot) + ".conf"
}

// NginxServerFile is the path of a webroot's server block below
// nginx.conf_dir.
func NginxServerFile(tenant, webroot string) string {
	return "servers/" + WebrootFileName(tenant, webroot) + ".conf"
}

// DaemonNames returns every name a daemon takes on the node it runs on:
// its program, the processes and memory cgroups of its numProcs processes
// (whether or not it has a memory limit: one may be added later), and its
// exec spec.
func DaemonNames(tenant, daemon string, numProcs int) []NodeName {
	program := ProgramName(tenant, daemon)
	procs := ProcessNames(program, numProcs)
	names := make([]NodeName, 0, 2+2*len(procs))
	names = append(names, NodeName{NSProgram, program})
	for _, p := range procs {
		names = append(names, NodeName{NSProcess, p})
	}
	for _, p := range procs {
		names = append(names, NodeName{NSCgroup, MemoryCgroup(p)})
	}
	return append(names, NodeName{NSExecSpec, ExecSpecFile(program)})
}

// WebrootNames returns every name a webroot takes on the nodes of its
// shard: its nginx locations file and server block (whether or not it has
// proxied daemons and server names now).
func WebrootNames(tenant, webroot string) []NodeName {
	return []NodeName{
		{NSNginx, NginxLocationsFile(tenant, webroot)},
		{NSNginx, NginxServerFile(tenant, webroot)},
	}
}
