package render

import (
	"encoding/json"

	"github.com/drover-sh/drover/execspec"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// ExecSpec is what `drover exec` reads to start one daemon; its type lives
// in execspec, which drover exec can load without this package.
type ExecSpec = execspec.Spec

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
		EnvFile:      d.EnvFile,
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
	return File{Root: RootExec, Path: spec.ExecSpecFile(s.Program), Owner: owner, Mode: 0o600, Data: EncodeExecSpec(s)}
}

// EncodeExecSpec is the content of an exec spec's file: JSON indented by
// two spaces, with a final newline (design.md §4.3).
func EncodeExecSpec(s ExecSpec) []byte {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err) // strings and ints always marshal
	}
	return append(b, '\n')
}
