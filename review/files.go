package review

import (
	"bytes"
	"encoding/json"
	"fmt"
	"runtime"
	"sort"
	"strings"
	"sync"

	"github.com/pmezard/go-difflib/difflib"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
	"github.com/drover-sh/drover/secret"
)

// files renders, on both sides, every node that may differ (the nodes of
// shards where something changed) and diffs the rendered files.
func (c *comparison) files() error {
	var names []string
	seen := map[string]bool{}
	addShardNodes := func(cl *netplan.Cluster) {
		if cl == nil {
			return
		}
		for _, s := range cl.Config.Shards {
			if !c.allDirty && !c.dirtyShards[s.Name] {
				continue
			}
			for _, n := range s.Nodes {
				if !seen[n.Name] && (c.o.Node == "" || n.Name == c.o.Node) {
					seen[n.Name] = true
					names = append(names, n.Name)
				}
			}
		}
	}
	addShardNodes(c.base)
	addShardNodes(c.head)
	sort.Strings(names)

	results := make([]nodeFiles, len(names))
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i], errs[i] = c.nodeFiles(names[i])
			}
		}()
	}
	for i := range names {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, name := range names {
		if errs[i] != nil {
			return errs[i]
		}
		r := results[i]
		if len(r.files) == 0 && r.addresses.empty() && r.routes.empty() {
			continue
		}
		n := c.node(name)
		n.Files, n.Addresses, n.Routes = r.files, r.addresses, r.routes
		for _, f := range r.files {
			switch f.Root {
			case render.RootNginx:
				n.NginxReload = true
			case render.RootNetwork:
				n.NetworkChange = true
			}
		}
	}
	return nil
}

type nodeFiles struct {
	files             []FileDiff
	addresses, routes ListChange
}

// nodeFiles renders one node on both sides and compares.
func (c *comparison) nodeFiles(name string) (nodeFiles, error) {
	var r nodeFiles
	bp, err := nodePlan(c.base, name)
	if err != nil {
		return r, err
	}
	hp, err := nodePlan(c.head, name)
	if err != nil {
		return r, err
	}
	// A node new to (or gone from) a shard carries all of it: render it
	// in full.
	full := c.allDirty || bp == nil || hp == nil || bp.Shard.Name != hp.Shard.Name
	r.files = diffFiles(c.render(bp, full), c.render(hp, full))
	if c.allDirty || bp == nil || hp == nil || c.netDirty[bp.Shard.Name] || c.netDirty[hp.Shard.Name] {
		r.addresses = listChange(addressList(bp), addressList(hp))
		r.routes = listChange(routeList(bp), routeList(hp))
	}
	return r, nil
}

// render renders what may differ of a node plan (nil gives nothing): in
// full when asked, else only
//   - the supervisord files holding a program whose daemon changes here,
//   - the exec specs of those programs,
//   - the nginx files of webroots where a daemon, the webroot or its
//     tenant changes,
//   - the network files (addresses, routes and nftables) when a tenant or
//     node of the shard was added, removed or renumbered.
//
// Every rendered file depends only on those inputs, so a file left out is
// the same on both sides; TestTargetedRender checks this against full
// renders.
func (c *comparison) render(p *netplan.NodePlan, full bool) []render.File {
	if p == nil {
		return nil
	}
	o := c.o.Render
	if full {
		return render.Node(p, o)
	}
	progs := c.programs[p.Node.Name]
	buckets := map[string]bool{}
	for prog := range progs {
		buckets[render.SupervisorFile(prog)] = true
	}
	sup, exe := *p, *p
	sup.Programs, exe.Programs = nil, nil
	for _, d := range p.Programs {
		if buckets[render.SupervisorFile(d.Program)] {
			sup.Programs = append(sup.Programs, d)
		}
		if progs[d.Program] {
			exe.Programs = append(exe.Programs, d)
		}
	}
	web := *p
	web.Webroots = nil
	for _, w := range p.Webroots {
		if c.webroots[w.Tenant.Name+"/"+w.Webroot.Name] {
			web.Webroots = append(web.Webroots, w)
		}
	}
	var files []render.File
	files = append(files, render.Supervisor(&sup, o)...)
	files = append(files, render.Exec(&exe, o)...)
	files = append(files, render.Nginx(&web, o)...)
	if c.netDirty[p.Shard.Name] {
		files = append(files, render.Network(p, o)...)
	}
	sort.Slice(files, func(i, j int) bool {
		if files[i].Root != files[j].Root {
			return files[i].Root < files[j].Root
		}
		return files[i].Path < files[j].Path
	})
	return files
}

// nodePlan is the plan of node name in cl, nil when cl does not declare it.
func nodePlan(cl *netplan.Cluster, name string) (*netplan.NodePlan, error) {
	if cl == nil || cl.Config.Node(name) == nil {
		return nil, nil
	}
	return cl.Node(name)
}

func addressList(p *netplan.NodePlan) []string {
	if p == nil {
		return nil
	}
	out := []string{p.Transit.String() + " (transit)"}
	for _, a := range p.Addresses {
		out = append(out, fmt.Sprintf("%s/128 (tenant %s)", a.Addr, a.Tenant))
	}
	return out
}

func routeList(p *netplan.NodePlan) []string {
	if p == nil {
		return nil
	}
	var out []string
	for _, r := range p.Routes {
		out = append(out, fmt.Sprintf("%s via %s (node %s)", r.Dst, r.Via, r.Node))
	}
	return out
}

func listChange(b, h []string) ListChange {
	var l ListChange
	inB := map[string]bool{}
	for _, x := range b {
		inB[x] = true
	}
	inH := map[string]bool{}
	for _, x := range h {
		inH[x] = true
		if !inB[x] {
			l.Added = append(l.Added, x)
		}
	}
	for _, x := range b {
		if !inH[x] {
			l.Removed = append(l.Removed, x)
		}
	}
	sort.Strings(l.Added)
	sort.Strings(l.Removed)
	return l
}

// diffFiles compares two renders (each sorted by root and path) byte by
// byte and diffs the files that differ.
func diffFiles(b, h []render.File) []FileDiff {
	var out []FileDiff
	i, j := 0, 0
	less := func(x, y render.File) bool {
		if x.Root != y.Root {
			return x.Root < y.Root
		}
		return x.Path < y.Path
	}
	for i < len(b) || j < len(h) {
		switch {
		case j == len(h) || i < len(b) && less(b[i], h[j]):
			out = append(out, fileDiff(&b[i], nil))
			i++
		case i == len(b) || less(h[j], b[i]):
			out = append(out, fileDiff(nil, &h[j]))
			j++
		default:
			if !bytes.Equal(b[i].Data, h[j].Data) || b[i].Mode != h[j].Mode {
				out = append(out, fileDiff(&b[i], &h[j]))
			}
			i, j = i+1, j+1
		}
	}
	return out
}

func fileDiff(b, h *render.File) FileDiff {
	var f FileDiff
	var bdata, hdata []byte
	switch {
	case b == nil:
		f.Root, f.Path, f.Status = h.Root, h.Path, FileAdded
		hdata = h.Data
	case h == nil:
		f.Root, f.Path, f.Status = b.Root, b.Path, FileRemoved
		bdata = b.Data
	default:
		f.Root, f.Path, f.Status = h.Root, h.Path, FileChanged
		bdata, hdata = b.Data, h.Data
	}
	if f.Root == render.RootExec {
		bdata, hdata = redactExecSpecs(bdata, hdata)
	}
	from, to := "a/"+f.Name(), "b/"+f.Name()
	if b == nil {
		from = "/dev/null"
	}
	if h == nil {
		to = "/dev/null"
	}
	f.Diff, f.Additions, f.Deletes = unifiedDiff(from, to, bdata, hdata)
	if f.Diff == "" && b != nil && h != nil {
		// Same text, other mode; or a change hidden by redaction, which
		// redactExecSpecs marks, so this is the mode.
		f.Diff = fmt.Sprintf("mode %o → %o\n", b.Mode, h.Mode)
	}
	return f
}

// unifiedDiff returns a unified diff with 3 lines of context and its counts
// of added and deleted lines. A whole-file addition or removal is written
// directly; changed files go through difflib.
func unifiedDiff(from, to string, a, b []byte) (string, int, int) {
	al, bl := splitLines(a), splitLines(b)
	var sb strings.Builder
	if len(al) == 0 || len(bl) == 0 {
		if len(al) == 0 && len(bl) == 0 {
			return "", 0, 0
		}
		fmt.Fprintf(&sb, "--- %s\n+++ %s\n", from, to)
		if len(al) == 0 {
			fmt.Fprintf(&sb, "@@ -0,0 +%s @@\n", rangeUnified(0, len(bl)))
			for _, l := range bl {
				sb.WriteString("+" + l)
			}
			return sb.String(), len(bl), 0
		}
		fmt.Fprintf(&sb, "@@ -%s +0,0 @@\n", rangeUnified(0, len(al)))
		for _, l := range al {
			sb.WriteString("-" + l)
		}
		return sb.String(), 0, len(al)
	}
	err := difflib.WriteUnifiedDiff(&sb, difflib.UnifiedDiff{A: al, B: bl, FromFile: from, ToFile: to, Context: 3})
	if err != nil {
		panic(err) // a strings.Builder does not fail
	}
	s := sb.String()
	adds, dels := 0, 0
	for _, line := range strings.SplitAfter(s, "\n") {
		switch {
		case strings.HasPrefix(line, "+++ "), strings.HasPrefix(line, "--- "):
		case strings.HasPrefix(line, "+"):
			adds++
		case strings.HasPrefix(line, "-"):
			dels++
		}
	}
	return s, adds, dels
}

func rangeUnified(start, n int) string {
	if n == 1 {
		return fmt.Sprint(start + 1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

// splitLines splits after every newline; a last line without one gets one
// (rendered files always end with a newline).
func splitLines(b []byte) []string {
	if len(b) == 0 {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	} else {
		lines[len(lines)-1] += "\n"
	}
	return lines
}

// Redacted is what an environment value becomes in a plan; a value that
// changes becomes RedactedChanged on the head side, so the diff shows it.
const (
	Redacted        = "(redacted)"
	RedactedChanged = "(redacted, changed)"
	// An encrypted value (secret package) is shown as Encrypted, or
	// EncryptedChanged on the head side when its encrypted form changed
	// (each encryption differs, so the plain value may be the same).
	Encrypted        = "(encrypted)"
	EncryptedChanged = "(encrypted value changed)"
)

// redactExecSpecs replaces the daemon's own environment values in the two
// versions of an exec spec (either may be nil) with Redacted, or
// RedactedChanged on the head side when the value changed. HOST and PORT
// are derived by drover and stay visible.
func redactExecSpecs(b, h []byte) ([]byte, []byte) {
	var bs, hs *render.ExecSpec
	if b != nil {
		bs = &render.ExecSpec{}
		if json.Unmarshal(b, bs) != nil {
			return []byte("(exec spec not readable: redacted)\n"), h
		}
	}
	if h != nil {
		hs = &render.ExecSpec{}
		if json.Unmarshal(h, hs) != nil {
			return b, []byte("(exec spec not readable: redacted)\n")
		}
	}
	derived := func(k string) bool { return k == "HOST" || k == "PORT" }
	hidden := func(v string, changed bool) string {
		switch {
		case secret.IsSealed(v) && changed:
			return EncryptedChanged
		case secret.IsSealed(v):
			return Encrypted
		case changed:
			return RedactedChanged
		}
		return Redacted
	}
	if bs != nil {
		for k, v := range bs.Env {
			if !derived(k) {
				bs.Env[k] = hidden(v, false)
			}
		}
	}
	if hs != nil {
		var orig map[string]string
		if b != nil {
			var raw render.ExecSpec
			_ = json.Unmarshal(b, &raw)
			orig = raw.Env
		}
		for k, v := range hs.Env {
			if derived(k) {
				continue
			}
			ov, ok := orig[k]
			hs.Env[k] = hidden(v, ok && ov != v)
		}
	}
	return marshalSpec(bs), marshalSpec(hs)
}

func marshalSpec(s *render.ExecSpec) []byte {
	if s == nil {
		return nil
	}
	// The same encoding as render.Exec, so unchanged lines match.
	out, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(out, '\n')
}
