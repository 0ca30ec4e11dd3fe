package render

import (
	"encoding/json"
	"reflect"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// ExecSpec is everything `drover exec` needs to start one daemon exactly as
// written (design.md §4.3, §5). It is stored as JSON, readable by root only: the
// environment holds secrets. Strings travel as JSON strings, so any text
// reaches the process byte for byte.
type ExecSpec struct {
	Program string `json:"program"`
	// Command is run as /bin/sh -c "exec COMMAND".
	Command string `json:"command"`
	User    string `json:"user"`
	UID     uint32 `json:"uid"`
	// Home is HOME when the uid has no passwd entry.
	Home string `json:"home"`
	Dir  string `json:"dir"`
	// Env is the daemon's own environment, HOST and PORT included; the
	// wrapper adds PATH, HOME, USER, LOGNAME and SHELL and nothing else.
	Env         map[string]string `json:"env"`
	MaxMemoryMB int               `json:"max_memory_mb,omitempty"`
	// MaxOpenFiles is the soft and hard RLIMIT_NOFILE; 0 keeps the one
	// supervisord passes on.
	MaxOpenFiles int `json:"max_open_files,omitempty"`
}

// Equal reports whether two exec specs are the same.
func (s ExecSpec) Equal(o ExecSpec) bool { return reflect.DeepEqual(s, o) }

// ExecSpecPath is where a program's exec spec is installed.
func (o Options) ExecSpecPath(program string) string {
	return o.ExecDir() + "/" + spec.ExecSpecFile(program)
}

// NewExecSpec builds the exec spec of a placed daemon.
func NewExecSpec(d *netplan.Daemon, o Options) ExecSpec {
	return ExecSpec{
		Program:      d.Program,
		Command:      d.Command,
		User:         d.Tenant,
		UID:          d.UID,
		Home:         o.StorageRoot + "/" + d.Tenant,
		Dir:          o.WebrootDir(d.Tenant, d.Webroot),
		Env:          d.Env(),
		MaxMemoryMB:  d.MaxMemoryMB,
		MaxOpenFiles: d.MaxOpenFiles,
	}
}

// Exec renders the exec spec of every program on the node, mode 0600.
func Exec(p *netplan.NodePlan, o Options) []File {
	files := make([]File, 0, len(p.Programs))
	for _, d := range p.Programs {
		files = append(files, execFile(NewExecSpec(d, o), DaemonOwner(d)))
	}
	return files
}

// execFile is the file of an exec spec.
func execFile(s ExecSpec, owner Owner) File {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // strings and ints always marshal
	}
	return File{Root: RootExec, Path: spec.ExecSpecFile(s.Program), Owner: owner, Mode: 0o600, Data: append(b, '\n')}
}
