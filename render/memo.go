package render

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"

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
//
// A node carries its own programs' files but the nginx files of every
// webroot of its shard: those are most of a large node's bytes (about
// 90 MB of 100,000 daemons). The Memo keeps only their value and hash: a
// webroot file reused from an earlier plan comes out of Carry with Hash and
// no Data, and Fill formats it again for the caller that needs its bytes
// (to write it, or to record it).
type Memo struct {
	opts Options
	// programs and webroots are what the last Carry rendered, updated in
	// place (a large node's tens of thousands of webroots are not copied
	// into new maps on every plan); gen marks what the current Carry saw.
	programs map[string]*programMemo // by program name
	buckets  map[string]*bucketMemo  // by file name
	webroots map[webrootKey]*webrootMemo
	network  *networkMemo
	gen      int
	count    int // of the files the last Carry handed out
	// Formatted counts the files formatted by the last Carry (the others
	// were reused), for tests and metrics.
	Formatted int
}

type programMemo struct {
	// src is the plan's daemon the files were last checked against: a
	// plan built from the last one (netplan.ComputeFrom) shares the
	// daemons and webroots of unchanged tenants, and plan objects are
	// never changed, so the same object needs no comparison.
	src      *netplan.Daemon
	gen      int    // the Carry that last saw it
	bucket   string // its supervisord file (SupervisorFile)
	settings program
	section  string
	exec     ExecSpec
	execFile File
}

// bucketMemo is a supervisord bucket file and the sections it was written
// from: the file is written again only when one of them changed, was
// added or went away (a node's 3,000 sections are not joined and hashed
// again on every plan).
type bucketMemo struct {
	sections []string
	file     File
}

// webrootKey names a webroot (tenant, webroot) without building a string
// for each of a shard's tens of thousands on every Carry.
type webrootKey struct{ tenant, webroot string }

type webrootMemo struct {
	src      *netplan.WebrootPlan // as programMemo.src
	gen      int
	settings webroot
	files    []File // without Data
}

type networkMemo struct {
	state netstate.State
	files []File
}

// NewMemo returns a Memo that has rendered nothing yet.
func NewMemo(o Options) *Memo {
	return &Memo{opts: o, programs: map[string]*programMemo{}, buckets: map[string]*bucketMemo{}, webroots: map[webrootKey]*webrootMemo{}}
}

// Carry is Carry(p, o) for the Memo's Options, reusing what the last plan
// rendered where its value is unchanged, except that the files come in the
// plan's order, not sorted: the agent keys them by path, and sorting the
// tens of thousands of a large node's files was a tenth of a one-daemon
// pass.
func (m *Memo) Carry(p *netplan.NodePlan) Carried {
	m.Formatted = 0
	m.gen++
	for _, d := range p.Programs {
		pm, ok := m.programs[d.Program]
		if !ok {
			pm = &programMemo{bucket: SupervisorFile(d.Program)}
			m.programs[d.Program] = pm
		}
		pm.gen = m.gen
		if !ok || pm.src != d {
			if s := programOf(d); !ok || s != pm.settings {
				pm.settings, pm.section = s, s.section(m.opts)
				m.Formatted++
			}
			if s, owner := NewExecSpec(d, m.opts), DaemonOwner(d); !ok || !s.Equal(pm.exec) || owner != pm.execFile.Owner {
				pm.exec, pm.execFile = s, execFile(s, owner)
				pm.execFile.Hash = hashOf(pm.execFile.Data)
				m.Formatted++
			}
			pm.src = d
		}
	}
	forgetUnseen(m.programs, len(p.Programs), func(pm *programMemo) bool { return pm.gen == m.gen })
	files := make([]File, 0, m.count)
	files = m.supervisorFiles(p, files)
	for _, d := range p.Programs {
		files = append(files, m.programs[d.Program].execFile)
	}

	files = append(files, nginxHTTPFile())
	for _, w := range p.Webroots {
		key := webrootKey{w.Tenant.Name, w.Webroot.Name}
		wm, ok := m.webroots[key]
		if !ok {
			wm = &webrootMemo{}
			m.webroots[key] = wm
		}
		wm.gen = m.gen
		if ok && wm.src == w {
			files = append(files, wm.files...)
		} else if s := webrootOf(w); !ok || !s.equal(wm.settings) {
			formatted := s.files(m.opts)
			*wm = webrootMemo{src: w, gen: m.gen, settings: s, files: make([]File, len(formatted))}
			for i := range formatted {
				formatted[i].Hash = hashOf(formatted[i].Data)
				wm.files[i] = formatted[i]
				wm.files[i].Data = nil
			}
			m.Formatted += len(formatted)
			files = append(files, formatted...)
		} else {
			wm.src = w
			files = append(files, wm.files...)
		}
	}
	forgetUnseen(m.webroots, len(p.Webroots), func(wm *webrootMemo) bool { return wm.gen == m.gen })

	net := NetworkState(p, m.opts)
	if m.network == nil || !net.Equal(m.network.state) {
		m.network = &networkMemo{state: net, files: NetworkFiles(net)}
		m.Formatted += len(m.network.files)
	}
	files = append(files, m.network.files...)
	m.count = len(files)
	return Carried{Files: files, Network: net}
}

// supervisorFiles appends the plan's supervisord files to files: each
// bucket file reused while its sections are the ones it was written from.
func (m *Memo) supervisorFiles(p *netplan.NodePlan, files []File) []File {
	order, sections := bucketSections(p.Programs,
		func(d *netplan.Daemon) string { return m.programs[d.Program].bucket },
		func(d *netplan.Daemon) string { return m.programs[d.Program].section })
	for _, name := range order {
		bm, ok := m.buckets[name]
		if !ok || !slices.Equal(bm.sections, sections[name]) {
			f := bucketFile(name, sections[name])
			f.Hash = hashOf(f.Data)
			bm = &bucketMemo{sections: sections[name], file: f}
			m.buckets[name] = bm
			m.Formatted++
		}
		files = append(files, bm.file)
	}
	if len(m.buckets) != len(order) {
		maps.DeleteFunc(m.buckets, func(name string, _ *bucketMemo) bool { return sections[name] == nil })
	}
	return append(files, listenerFiles(m.opts)...)
}

// forgetUnseen deletes from memo what the current Carry did not see, when
// there is any: it saw want entries, each once.
func forgetUnseen[K comparable, V any](memo map[K]V, want int, seen func(V) bool) {
	if len(memo) == want {
		return
	}
	maps.DeleteFunc(memo, func(_ K, v V) bool { return !seen(v) })
}

// Fill returns f with its Data: f itself when it has them, otherwise the
// webroot file the last Carry handed out without them, formatted again
// from the value it was made from. ok is false when the Memo has no such
// file (not from the last Carry).
func (m *Memo) Fill(f File) (File, bool) {
	if f.Data != nil {
		return f, true
	}
	wm, ok := m.webroots[webrootKey{f.Owner.Tenant, f.Owner.Webroot}]
	if !ok {
		return f, false
	}
	for _, g := range wm.settings.files(m.opts) {
		if g.Root == f.Root && g.Path == f.Path {
			g.Hash = hashOf(g.Data)
			return g, g.Hash == f.Hash
		}
	}
	return f, false
}

// hashOf is the SHA-256 of data in lowercase hex (File.Hash).
func hashOf(data []byte) string {
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}
