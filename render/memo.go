package render

import (
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/netstate"
)

// Memo renders plans for one Options, remembering every file it wrote with
// the value it wrote it from: a program's section settings (program), its
// exec spec, a webroot's nginx settings (webroot), the network state. A
// later plan formats again only the files whose value changed, and reuses
// the others byte for byte, so an agent whose commit changed one daemon
// formats that daemon's files, not the node's tens of thousands. The value
// is compared whole: it holds exactly what the file is written from, so no
// change of input can leave a file stale. A Memo keeps what the last plan
// rendered, nothing older. Not safe for concurrent use; the agent owns one.
type Memo struct {
	opts     Options
	programs map[string]programMemo // by program name
	webroots map[string]webrootMemo // by tenant "/" webroot
	network  *networkMemo
	// Formatted counts the files formatted by the last Carry (the others
	// were reused), for tests and metrics.
	Formatted int
}

type programMemo struct {
	settings program
	section  string
	exec     ExecSpec
	execFile File
}

type webrootMemo struct {
	settings webroot
	files    []File
}

type networkMemo struct {
	state netstate.State
	files []File
}

// NewMemo returns a Memo that has rendered nothing yet.
func NewMemo(o Options) *Memo { return &Memo{opts: o} }

// Carry is Carry(p, o) for the Memo's Options, reusing what the last plan
// rendered where its value is unchanged.
func (m *Memo) Carry(p *netplan.NodePlan) Carried {
	m.Formatted = 0
	programs := make(map[string]programMemo, len(p.Programs))
	for _, d := range p.Programs {
		pm, ok := m.programs[d.Program]
		if s := programOf(d); !ok || s != pm.settings {
			pm.settings, pm.section = s, s.section(m.opts)
			m.Formatted++
		}
		if s, owner := NewExecSpec(d, m.opts), DaemonOwner(d); !ok || !s.Equal(pm.exec) || owner != pm.execFile.Owner {
			pm.exec, pm.execFile = s, execFile(s, owner)
			m.Formatted++
		}
		programs[d.Program] = pm
	}
	m.programs = programs
	files := supervisorFiles(p.Programs, m.opts, func(d *netplan.Daemon) string { return programs[d.Program].section })
	for _, d := range p.Programs {
		files = append(files, programs[d.Program].execFile)
	}

	files = append(files, nginxHTTPFile())
	webroots := make(map[string]webrootMemo, len(p.Webroots))
	for _, w := range p.Webroots {
		key := w.Tenant.Name + "/" + w.Webroot.Name
		wm, ok := m.webroots[key]
		if s := webrootOf(w); !ok || !s.equal(wm.settings) {
			wm = webrootMemo{settings: s, files: s.files(m.opts)}
			m.Formatted += len(wm.files)
		}
		webroots[key] = wm
		files = append(files, wm.files...)
	}
	m.webroots = webroots

	net := NetworkState(p, m.opts)
	if m.network == nil || !net.Equal(m.network.state) {
		m.network = &networkMemo{state: net, files: NetworkFiles(net)}
		m.Formatted += len(m.network.files)
	}
	files = append(files, m.network.files...)
	sortFiles(files)
	return Carried{Files: files, Network: net}
}
