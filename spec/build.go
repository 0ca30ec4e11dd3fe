package spec

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/secret"
)

// Build merges decoded files into one Config and validates it. Every problem
// is reported; the Config is nil when there is any error, including a decode
// error that ParseFile already reported. When a file has
// invalid syntax (reported by ParseFile), Build reports nothing more: the
// cross-file checks would only echo what that file was meant to declare.
func Build(files []*File) (*Config, hcl.Diagnostics) {
	cfg, diags, _ := build(files)
	return cfg, diags
}

// build is Build returning its builder too, whose indexes an incremental
// Build updates (build_incremental.go).
func build(files []*File) (*Config, hcl.Diagnostics, *builder) {
	for _, f := range files {
		if !f.parsed {
			return nil, nil, nil
		}
	}
	b := &builder{
		nodes:       map[string]hcl.Range{},
		nodeIndex:   map[int]declared{},
		tenantSeen:  map[string]place{},
		uids:        map[int64]declared{},
		names:       newNameIndex(files),
		serverNames: map[string]place{},
	}
	cfg := &Config{}
	var diags hcl.Diagnostics
	if len(files) == 0 {
		diags = append(diags, &hcl.Diagnostic{
			Severity: hcl.DiagError,
			Summary:  "No configuration files",
			Detail:   "No *.hcl or *.hcl.json files were found below the config root. Check the directory (or source.path), and add a cluster, its shards and tenants.",
		})
		return nil, diags, nil
	}
	diags = append(diags, b.clusters(cfg, files)...)
	diags = append(diags, b.shards(cfg, files)...)
	diags = append(diags, b.tenants(cfg, files)...)
	if diags.HasErrors() {
		return nil, diags, nil
	}
	for _, f := range files {
		if f.failed {
			return nil, diags, nil
		}
	}
	return cfg, diags, b
}

// builder carries the cluster-wide uniqueness indexes while Build walks the
// files in name order; the first declaration of a name wins and later ones
// are reported against it.
type builder struct {
	nodes       map[string]hcl.Range // DefRange by name
	nodeIndex   map[int]declared     // node by index
	tenantSeen  map[string]place     // DefRange by name
	uids        map[int64]declared   // tenant by uid, at its uid
	names       nameIndex            // every name a node carries; see names.go
	serverNames map[string]place
	shardList   []*rawShard // the accepted ones, for hints
	// shardKeys are the node keys of each shard, for sealed values
	// (secrets.go); filled as they are needed.
	shardKeys map[*Shard]shardKeys
}

// declared is an earlier declaration that a later one duplicates: its name
// and where.
type declared struct {
	name string
	at   place
}

// place is a span of a file: an hcl.Range without its 64 bytes, for the
// indexes of Build, which hold one per tenant and server name.
type place struct {
	f *File
	s span
}

func (p place) rng() hcl.Range { return p.f.rng(p.s) }

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
			"Index %d is already used by node %q at %s. Each node needs its own index, and an index is never reused: pick one no node has had.", rn.Index, prev.name, at(prev.at.rng())))
	} else {
		b.nodeIndex[rn.Index] = declared{rn.Name, place{f, rn.DefRange}}
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
	if rn.AgeRecipient != nil && !f.failedAt(rn.AgeRecipientRange) {
		n.AgeRecipient = *rn.AgeRecipient
		if err := secret.CheckRecipient(n.AgeRecipient); err != nil {
			diags = append(diags, errorAt(f.rng(rn.AgeRecipientRange), "Invalid age recipient",
				"The age_recipient of node %q is %s. Write the recipient the node's key file names (drover secret keygen prints it), like \"age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p\".", rn.Name, err))
		}
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

// tenant adds to the model built with the file (build_local.go) the
// checks that need other files.
func (b *builder) tenant(cfg *Config, f *File, rt *rawTenant) (*Tenant, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if prev, ok := b.tenantSeen[rt.Name]; ok {
		return nil, append(diags, errorAt(f.rng(rt.DefRange), "Duplicate tenant",
			"The tenant %q is also declared at %s. Declare each tenant once, with all its webroots.", rt.Name, at(prev.rng())))
	}
	b.tenantSeen[rt.Name] = place{f, rt.DefRange}
	if t := rt.built; t.UID != 0 {
		if prev, ok := b.uids[rt.UID]; ok {
			diags = append(diags, errorAt(f.rng(rt.UIDRange), "Duplicate uid",
				"The uid %d is already used by tenant %q at %s. Each tenant is its own Linux user with its own uid.", rt.UID, prev.name, at(prev.at.rng())))
		} else {
			b.uids[rt.UID] = declared{rt.Name, place{f, rt.UIDRange}}
		}
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
	for _, rw := range rt.Webroots {
		if rw.built != nil {
			diags = append(diags, b.webroot(cfg, f, rt, shard, rw)...)
		}
	}
	return rt.built, diags
}

func (b *builder) webroot(cfg *Config, f *File, rt *rawTenant, shard *Shard, rw *rawWebroot) hcl.Diagnostics {
	var diags hcl.Diagnostics
	diags = append(diags, b.names.claim(webrootOwner(f, rt.Name, rw), f.rng(rw.NameRange), WebrootNames(rt.Name, rw.Name))...)
	for _, sn := range rw.ServerNames {
		if checkServerName(sn, hcl.Range{}) != nil {
			continue // reported with the file
		}
		here := place{f, rw.ServerNamesRange}
		if prev, ok := b.serverNames[sn]; ok {
			detail := fmt.Sprintf("The server name %q is already used at %s. A host name belongs to one webroot.", sn, at(prev.rng()))
			if prev == here {
				detail = fmt.Sprintf("The server name %q is listed twice. Remove one.", sn)
			}
			diags = append(diags, errorAt(here.rng(), "Duplicate server name", "%s", detail))
			continue
		}
		b.serverNames[sn] = here
	}
	// cfg.Cluster is nil when the cluster block is missing (already reported).
	if c := cfg.Cluster; c != nil && len(rw.daemons) > c.MaxDaemonsPerWebroot {
		max := c.MaxDaemonsPerWebroot
		diags = append(diags, errorAt(f.rng(rw.daemons[max].def), "Too many daemons in webroot",
			"The webroot %s/%s has %d daemons; the cluster allows %d (max_daemons_per_webroot). Remove some or raise the limit in the cluster block.", rt.Name, rw.Name, len(rw.daemons), max))
	}
	for _, bd := range rw.daemons {
		d := bd.d
		if d == nil {
			continue // a duplicate block, reported with the file
		}
		for i := range bd.placed {
			a := &bd.placed[i]
			fd := DaemonFields[a.field]
			diags = append(diags, fd.placed(fieldCheck{d: d, rng: f.rng(a.Range), field: fd, shard: shard})...)
		}
		for _, s := range bd.sealed {
			diags = append(diags, b.checkSealedShard(shard, d.Tenant, s.key, d.Environment.Value(s.key), f.rng(s.rng))...)
		}
		procs := validProcs(d.NumProcs)
		diags = append(diags, b.names.claim(daemonOwner(f, d, procs, bd.def), f.rng(bd.name), DaemonNames(d.Tenant, d.Name, procs))...)
	}
	return diags
}

// validProcs is num_procs where it names processes: 1 when it is out of
// range (reported with the file).
func validProcs(n int) int {
	if n < MinNumProcs || n > MaxNumProcs {
		return 1
	}
	return n
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
