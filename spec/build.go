package spec

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"
)

// Build merges decoded files into one Config and validates it. Every problem
// is reported; the Config is nil when there is any error, including a decode
// error that ParseFile already reported. When a file has
// invalid syntax (reported by ParseFile), Build reports nothing more: the
// cross-file checks would only echo what that file was meant to declare.
func Build(files []*File) (*Config, hcl.Diagnostics) {
	for _, f := range files {
		if !f.parsed {
			return nil, nil
		}
	}
	b := &builder{
		nodes:       map[string]hcl.Range{},
		nodeIndex:   map[int]declared{},
		tenantSeen:  map[string]hcl.Range{},
		uids:        map[int64]declared{},
		names:       newNameIndex(files),
		serverNames: map[string]hcl.Range{},
	}
	cfg := &Config{}
	var diags hcl.Diagnostics
	if len(files) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   "No *.hcl or *.hcl.json files were found below the config root. Check the directory (or source.path), and add a cluster, its shards and tenants.",
		})
		return nil, diags
	}
	diags = append(diags, b.clusters(cfg, files)...)
	diags = append(diags, b.shards(cfg, files)...)
	diags = append(diags, b.tenants(cfg, files)...)
	if diags.HasErrors() {
		return nil, diags
	}
	for _, f := range files {
		if f.failed {
			return nil, diags
		}
	}
	return cfg, diags
}

// builder carries the cluster-wide uniqueness indexes while Build walks the
// files in name order; the first declaration of a name wins and later ones
// are reported against it.
type builder struct {
	nodes       map[string]hcl.Range // DefRange by name
	nodeIndex   map[int]declared     // node by index
	tenantSeen  map[string]hcl.Range // DefRange by name
	uids        map[int64]declared   // tenant by uid, at its uid
	names       nameIndex            // every name a node carries; see names.go
	serverNames map[string]hcl.Range
	shardList   []*rawShard // the accepted ones, for hints
}

// declared is an earlier declaration that a later one duplicates: its name
// and where, in its own file.
type declared struct {
	name string
	rng  hcl.Range
}

func (b *builder) clusters(cfg *Config, files []*File) hcl.Diagnostics {
	var diags hcl.Diagnostics
	var first *rawCluster
	var ff *File // first's file
	for _, f := range files {
		for _, c := range f.raw.Clusters {
			if first != nil {
				diags = append(diags, errorAt(f.rng(c.DefRange), "Duplicate cluster block",
					"A configuration has exactly one cluster block; another is declared at %s. Remove one of them.", at(ff.rng(first.DefRange))))
				continue
			}
			first, ff = c, f
		}
	}
	if first == nil {
		return append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "Missing cluster block",
			Detail:   `The configuration has no cluster block. Add one, e.g. in cluster.hcl: cluster "osl-1" {}`,
		})
	}
	c := &Cluster{Name: first.Name, DefRange: ff.rng(first.DefRange), MaxDaemonsPerWebroot: DefaultMaxDaemonsPerWebroot}
	diags = append(diags, checkObjectName("cluster", c.Name, ff.rng(first.NameRange))...)
	if first.ULAPrefix != nil && !ff.failedAt(first.ULAPrefixRange) {
		p, d := checkULAPrefix(*first.ULAPrefix, ff.rng(first.ULAPrefixRange))
		diags = append(diags, d...)
		c.ULAPrefix = p
	}
	if first.MaxDaemonsPerWebroot != nil && !ff.failedAt(first.MaxDaemonsRange) {
		// An invalid limit is reported and the default kept, so the webroot
		// check below never indexes with a negative limit.
		if d := checkRange("max_daemons_per_webroot", *first.MaxDaemonsPerWebroot, 1, 10000, ff.rng(first.MaxDaemonsRange)); d != nil {
			diags = append(diags, d...)
		} else {
			c.MaxDaemonsPerWebroot = *first.MaxDaemonsPerWebroot
		}
	}
	cfg.Cluster = c
	return diags
}

func (b *builder) shards(cfg *Config, files []*File) hcl.Diagnostics {
	var diags hcl.Diagnostics
	seen := map[string]hcl.Range{} // DefRange by name
	for _, f := range files {
		for _, rs := range f.raw.Shards {
			diags = append(diags, checkObjectName("shard", rs.Name, f.rng(rs.NameRange))...)
			if prev, ok := seen[rs.Name]; ok {
				diags = append(diags, errorAt(f.rng(rs.DefRange), "Duplicate shard",
					"The shard %q is also declared at %s. Declare each shard once, with all its nodes.", rs.Name, at(prev)))
				continue
			}
			seen[rs.Name] = f.rng(rs.DefRange)
			b.shardList = append(b.shardList, rs)
			s := &Shard{Name: rs.Name, DefRange: f.rng(rs.DefRange)}
			if len(rs.Nodes) == 0 {
				diags = append(diags, errorAt(f.rng(rs.DefRange), "Shard has no nodes",
					"The shard %q has no node blocks. Add at least one: node \"NAME\" { index = N }.", rs.Name))
			}
			for _, rn := range rs.Nodes {
				n, d := b.node(f, rs.Name, rn)
				diags = append(diags, d...)
				if n != nil {
					s.Nodes = append(s.Nodes, n)
				}
			}
			sort.Slice(s.Nodes, func(i, j int) bool { return s.Nodes[i].Name < s.Nodes[j].Name })
			cfg.Shards = append(cfg.Shards, s)
		}
	}
	sort.Slice(cfg.Shards, func(i, j int) bool { return cfg.Shards[i].Name < cfg.Shards[j].Name })
	return diags
}

func (b *builder) node(f *File, shard string, rn *rawNode) (*Node, hcl.Diagnostics) {
	diags := checkObjectName("node", rn.Name, f.rng(rn.NameRange))
	if prev, ok := b.nodes[rn.Name]; ok {
		return nil, append(diags, errorAt(f.rng(rn.DefRange), "Duplicate node",
			"The node %q is also declared at %s. Node names are unique in the cluster (the agent finds its node by name).", rn.Name, at(prev)))
	}
	b.nodes[rn.Name] = f.rng(rn.DefRange)
	n := &Node{Name: rn.Name, Shard: shard, Index: rn.Index, Weight: DefaultWeight, DefRange: f.rng(rn.DefRange)}
	if f.failedAt(rn.IndexRange) {
		// already reported by decoding
	} else if d := checkRange("node index", rn.Index, MinNodeIndex, MaxNodeIndex, f.rng(rn.IndexRange)); d != nil {
		diags = append(diags, d...)
	} else if prev, ok := b.nodeIndex[rn.Index]; ok {
		diags = append(diags, errorAt(f.rng(rn.IndexRange), "Duplicate node index",
			"Index %d is already used by node %q at %s. Each node needs its own index, and an index is never reused: pick one no node has had.", rn.Index, prev.name, at(prev.rng)))
	} else {
		b.nodeIndex[rn.Index] = declared{rn.Name, f.rng(rn.DefRange)}
	}
	if rn.Weight != nil && !f.failedAt(rn.WeightRange) {
		n.Weight = *rn.Weight
		if !(n.Weight > 0) {
			diags = append(diags, errorAt(f.rng(rn.WeightRange), "Invalid node weight",
				"The weight must be greater than 0; it is %s. To stop placing daemons on a node, set drain = true.", strconv.FormatFloat(n.Weight, 'g', -1, 64)))
		}
	}
	if rn.Drain != nil {
		n.Drain = *rn.Drain
	}
	return n, diags
}

func (b *builder) tenants(cfg *Config, files []*File) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, f := range files {
		for _, rt := range f.raw.Tenants {
			t, d := b.tenant(cfg, f, rt)
			diags = append(diags, d...)
			if t != nil {
				cfg.Tenants = append(cfg.Tenants, t)
			}
		}
	}
	sort.Slice(cfg.Tenants, func(i, j int) bool { return cfg.Tenants[i].Name < cfg.Tenants[j].Name })
	return diags
}

func (b *builder) tenant(cfg *Config, f *File, rt *rawTenant) (*Tenant, hcl.Diagnostics) {
	diags := checkTenantName(rt.Name, f.rng(rt.NameRange))
	if prev, ok := b.tenantSeen[rt.Name]; ok {
		return nil, append(diags, errorAt(f.rng(rt.DefRange), "Duplicate tenant",
			"The tenant %q is also declared at %s. Declare each tenant once, with all its webroots.", rt.Name, at(prev)))
	}
	b.tenantSeen[rt.Name] = f.rng(rt.DefRange)
	t := &Tenant{Name: rt.Name, Shard: rt.Shard, DefRange: f.rng(rt.DefRange)}
	if f.failedAt(rt.UIDRange) {
		// already reported by decoding
	} else if rt.UID < MinUID || rt.UID > MaxUID {
		diags = append(diags, errorAt(f.rng(rt.UIDRange), "Invalid uid",
			"The uid must be between %d and %d (uids below %d belong to the system); it is %d.", MinUID, int64(MaxUID), MinUID, rt.UID))
	} else if prev, ok := b.uids[rt.UID]; ok {
		diags = append(diags, errorAt(f.rng(rt.UIDRange), "Duplicate uid",
			"The uid %d is already used by tenant %q at %s. Each tenant is its own Linux user with its own uid.", rt.UID, prev.name, at(prev.rng)))
	} else {
		b.uids[rt.UID] = declared{rt.Name, f.rng(rt.UIDRange)}
		t.UID = uint32(rt.UID)
	}
	shard := cfg.Shard(rt.Shard)
	switch {
	case f.failedAt(rt.ShardRange):
		// already reported by decoding
	case shard == nil:
		diags = append(diags, errorAt(f.rng(rt.ShardRange), "Unknown shard",
			"The shard %q is not declared. Use one of: %s.", rt.Shard, b.shardNames()))
	case !hasActiveNode(shard):
		diags = append(diags, errorAt(f.rng(rt.ShardRange), "Shard has no active node",
			"Every node of shard %q is drained, so its daemons have nowhere to run. Undrain a node or add one.", rt.Shard))
	}
	seen := map[string]*rawWebroot{}
	ports := map[int]*rawDaemon{}
	for _, rw := range rt.Webroots {
		diags = append(diags, checkObjectName("webroot", rw.Name, f.rng(rw.NameRange))...)
		if prev := seen[rw.Name]; prev != nil {
			diags = append(diags, errorAt(f.rng(rw.DefRange), "Duplicate webroot",
				"The webroot %q of tenant %q is also declared at %s. Merge the two blocks.", rw.Name, rt.Name, at(f.rng(prev.DefRange))))
			continue
		}
		seen[rw.Name] = rw
		w, d := b.webroot(cfg, f, rt, shard, rw, ports)
		diags = append(diags, d...)
		t.Webroots = append(t.Webroots, w)
	}
	sort.Slice(t.Webroots, func(i, j int) bool { return t.Webroots[i].Name < t.Webroots[j].Name })
	return t, diags
}

func (b *builder) webroot(cfg *Config, f *File, rt *rawTenant, shard *Shard, rw *rawWebroot, ports map[int]*rawDaemon) (*Webroot, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	w := &Webroot{Tenant: rt.Name, Name: rw.Name, ServerNames: rw.ServerNames, DefRange: f.rng(rw.DefRange)}
	diags = append(diags, b.names.claim(webrootOwner(f, rt.Name, rw), f.rng(rw.NameRange), WebrootNames(rt.Name, rw.Name))...)
	for _, sn := range rw.ServerNames {
		if d := checkServerName(sn, f.rng(rw.ServerNamesRange)); d != nil {
			diags = append(diags, d...)
			continue
		}
		if prev, ok := b.serverNames[sn]; ok {
			detail := fmt.Sprintf("The server name %q is already used at %s. A host name belongs to one webroot.", sn, at(prev))
			if prev == f.rng(rw.ServerNamesRange) {
				detail = fmt.Sprintf("The server name %q is listed twice. Remove one.", sn)
			}
			diags = append(diags, errorAt(f.rng(rw.ServerNamesRange), "Duplicate server name", "%s", detail))
			continue
		}
		b.serverNames[sn] = f.rng(rw.ServerNamesRange)
	}
	if rw.PublicFolder != nil && !f.failedAt(rw.PublicFolderRange) {
		w.PublicFolder = *rw.PublicFolder
		diags = append(diags, checkPublicFolder(w.PublicFolder, f.rng(rw.PublicFolderRange))...)
	}
	// cfg.Cluster is nil when the cluster block is missing (already reported).
	if c := cfg.Cluster; c != nil && len(rw.Daemons) > c.MaxDaemonsPerWebroot {
		max := c.MaxDaemonsPerWebroot
		diags = append(diags, errorAt(f.rng(rw.Daemons[max].DefRange), "Too many daemons in webroot",
			"The webroot %s/%s has %d daemons; the cluster allows %d (max_daemons_per_webroot). Remove some or raise the limit in the cluster block.", rt.Name, rw.Name, len(rw.Daemons), max))
	}
	seen := map[string]*rawDaemon{}
	paths := map[string]*rawDaemon{}
	for _, rd := range rw.Daemons {
		diags = append(diags, checkObjectName("daemon", rd.Name, f.rng(rd.NameRange))...)
		if prev := seen[rd.Name]; prev != nil {
			diags = append(diags, errorAt(f.rng(rd.DefRange), "Duplicate daemon",
				"The daemon %q of webroot %s/%s is also declared at %s. Rename or remove one.", rd.Name, rt.Name, rw.Name, at(f.rng(prev.DefRange))))
			continue
		}
		seen[rd.Name] = rd
		d, more := b.daemon(f, rt, rw, shard, rd)
		diags = append(diags, more...)
		if d.ProxyPath != "" {
			if prev := paths[d.ProxyPath]; prev != nil {
				diags = append(diags, errorAt(f.rng(rd.rangeOf(fieldProxyPath)), "Duplicate proxy path",
					"The proxy path %q is already used by daemon %q at %s. Each proxied daemon of a webroot needs its own path.", d.ProxyPath, prev.Name, at(f.rng(prev.rangeOf(fieldProxyPath)))))
			} else {
				paths[d.ProxyPath] = rd
			}
		}
		if d.Port != 0 && d.Port >= MinPort && d.Port <= MaxPort {
			if prev := ports[d.Port]; prev != nil {
				diags = append(diags, errorAt(f.rng(rd.rangeOf(fieldPort)), "Duplicate port",
					"Port %d is already pinned by daemon %q of the same tenant at %s. A tenant's daemons share one address, so their ports must differ.", d.Port, prev.Name, at(f.rng(prev.rangeOf(fieldPort)))))
			} else {
				ports[d.Port] = rd
			}
		}
		w.Daemons = append(w.Daemons, d)
	}
	sort.Slice(w.Daemons, func(i, j int) bool { return w.Daemons[i].Name < w.Daemons[j].Name })
	return w, diags
}

// daemon builds a daemon from its block: every attribute of DaemonFields
// takes its default or its written value, which is checked (unless
// decoding already reported it); then the environment and the checks that
// span attributes.
func (b *builder) daemon(f *File, rt *rawTenant, rw *rawWebroot, shard *Shard, rd *rawDaemon) (*Daemon, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	d := new(Daemon)
	*d = daemonDefaults
	d.Tenant, d.Webroot, d.Name, d.DefRange = rt.Name, rw.Name, rd.Name, f.rng(rd.DefRange)
	for i := range rd.attrs { // in DaemonFields order
		a := &rd.attrs[i]
		if f.failedAt(a.Range) {
			continue
		}
		fd := DaemonFields[a.field]
		fd.setRaw(d, a)
		if fd.check != nil {
			diags = append(diags, fd.check(fieldCheck{d: d, rng: f.rng(a.Range), field: fd, shard: shard})...)
		}
	}
	procs := d.NumProcs
	if procs < MinNumProcs || procs > MaxNumProcs {
		procs = 1 // reported above
	}
	diags = append(diags, b.names.claim(daemonOwner(d), f.rng(rd.NameRange), DaemonNames(d.Tenant, d.Name, procs))...)
	d.Environment = make(map[string]string, len(rd.env))
	envSeen := map[string]hcl.Range{}
	for _, e := range rd.env {
		diags = append(diags, checkEnvKey(e.Key, f.rng(e.KeyRange))...)
		diags = append(diags, checkText("environment value", e.Value, f.rng(e.ValueRange))...)
		if prev, ok := envSeen[e.Key]; ok {
			diags = append(diags, errorAt(f.rng(e.KeyRange), "Duplicate environment variable",
				"%s is already set at %s. Keep one.", e.Key, at(prev)))
			continue
		}
		envSeen[e.Key] = f.rng(e.KeyRange)
		d.Environment[e.Key] = e.Value
	}
	commandRange := rd.rangeOf(fieldCommand)
	if d.ProxyPath != "" && !f.failedAt(commandRange) && !mentionsPort(d.Command) {
		if p := fixedPort(d.Command); p != "" && p != strconv.Itoa(d.Port) {
			diags = append(diags, warningAt(f.rng(commandRange), "Command listens on a fixed port",
				"The daemon %q is proxied at %s, but its command sets port %s and never mentions $PORT: nginx sends requests to the port drover allocates, which the daemon finds in $PORT. Listen on $HOST:$PORT, like --port=$PORT.", rd.Name, d.ProxyPath, p))
		}
	}
	if d.ProxyPath != "" && d.NumProcs > 1 {
		diags = append(diags, warningAt(f.rng(rd.rangeOf(fieldNumProcs)), "Several processes share one port",
			"The daemon %q runs %d processes that all get the same $HOST:$PORT; only one can listen unless the program uses SO_REUSEPORT.", rd.Name, d.NumProcs))
	}
	return d, diags
}

// checkNodePin checks a node pin against the tenant's shard.
func checkNodePin(c fieldCheck) hcl.Diagnostics {
	d, shard := c.d, c.shard
	if shard == nil {
		return nil // the tenant's shard is already reported
	}
	n := shard.Node(d.Node)
	switch {
	case n == nil:
		return hcl.Diagnostics{errorAt(c.rng, "Unknown node",
			"The daemon %q is pinned to node %q, which is not in its tenant's shard %q. Use one of: %s.", d.Name, d.Node, shard.Name, nodeNames(shard))}
	case n.Drain:
		return hcl.Diagnostics{warningAt(c.rng, "Pinned to a drained node",
			"The daemon %q is pinned to node %q, which is drained; it is placed as if unpinned until the node is undrained.", d.Name, d.Node)}
	}
	return nil
}

func (b *builder) shardNames() string {
	if len(b.shardList) == 0 {
		return "(no shards are declared)"
	}
	s := ""
	for i, rs := range b.shardList {
		if i > 0 {
			s += ", "
		}
		s += fmt.Sprintf("%q", rs.Name)
	}
	return s
}

func nodeNames(s *Shard) string {
	out := ""
	for i, n := range s.Nodes {
		if i > 0 {
			out += ", "
		}
		out += fmt.Sprintf("%q", n.Name)
	}
	return out
}

func hasActiveNode(s *Shard) bool {
	for _, n := range s.Nodes {
		if !n.Drain {
			return true
		}
	}
	return false
}
