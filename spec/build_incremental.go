package spec

import (
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// A Loader builds a revision that changed a few tenant files from the last
// one, instead of checking every file across all the others again: it
// takes the changed files' claims (tenant names, uids, server names, the
// names of names.go) out of the last Build's indexes, checks the new
// files' tenants against them and puts their claims in. The result equals
// a full Build's whenever the incremental one is used:
//   - only after a Build without errors, so every index holds each claim
//     once and taking a file's claims out leaves exactly the others';
//   - only when no changed file, old or new, declares the cluster or a
//     shard (everything is checked against those);
//   - a check that finds an error makes the Loader build in full, which
//     reports in file order with the first declaration winning;
//   - the diagnostics of unchanged files (warnings: a Build with errors is
//     never kept) are those of the last Build, reported again.

// lastBuild is what an incremental Build starts from.
type lastBuild struct {
	files map[string]*File // by name, as built
	b     *builder
	cfg   *Config
	diags map[string]hcl.Diagnostics // Build's, by the file they point into
}

// incrementalShare bounds the share of files an incremental Build takes:
// past it a full Build is about as fast.
const incrementalShare = 4 // one file in 4

// newLastBuild keeps a Build's result for the next, or returns nil when it
// cannot serve (errors, or a diagnostic pointing nowhere).
func newLastBuild(files []*File, b *builder, cfg *Config, diags hcl.Diagnostics) *lastBuild {
	if b == nil || cfg == nil || diags.HasErrors() {
		return nil
	}
	last := &lastBuild{files: make(map[string]*File, len(files)), b: b, cfg: cfg, diags: map[string]hcl.Diagnostics{}}
	for _, f := range files {
		last.files[f.Name] = f
	}
	for _, d := range diags {
		if d.Subject == nil {
			return nil
		}
		last.diags[d.Subject.Filename] = append(last.diags[d.Subject.Filename], d)
	}
	return last
}

// update builds files from last, changing last; false when it cannot (see
// above), and then last must not be used again.
func (last *lastBuild) update(files []*File) (*Config, hcl.Diagnostics, bool) {
	now := make(map[string]*File, len(files))
	var added []*File // new or changed, in name order
	for _, f := range files {
		now[f.Name] = f
		if last.files[f.Name] != f {
			added = append(added, f)
		}
	}
	var gone []*File // removed or changed
	for name, f := range last.files {
		if now[name] != f {
			gone = append(gone, f)
		}
	}
	if len(added)+len(gone) > len(files)/incrementalShare+1 {
		return nil, nil, false
	}
	for _, f := range slices.Concat(added, gone) {
		if !f.parsed || f.failed || len(f.raw.Clusters) > 0 || len(f.raw.Shards) > 0 {
			return nil, nil, false
		}
	}
	b := last.b
	if len(b.names.exact) > 0 {
		return nil, nil, false // two names shared a hash: see nameIndex.unclaim
	}
	drop := map[*Tenant]bool{}
	for _, f := range gone {
		for _, rt := range f.raw.Tenants {
			b.unclaim(f, rt)
			drop[rt.built] = true
		}
		delete(last.files, f.Name)
		delete(last.diags, f.Name)
	}
	cfg := *last.cfg
	cfg.Tenants = make([]*Tenant, 0, len(last.cfg.Tenants)+len(added))
	for _, t := range last.cfg.Tenants {
		if !drop[t] {
			cfg.Tenants = append(cfg.Tenants, t)
		}
	}
	for _, f := range added {
		for _, rt := range f.raw.Tenants {
			t, d := b.tenant(&cfg, f, rt)
			if d.HasErrors() {
				return nil, nil, false
			}
			for _, x := range d {
				if x.Subject == nil {
					return nil, nil, false
				}
				last.diags[x.Subject.Filename] = append(last.diags[x.Subject.Filename], x)
			}
			cfg.Tenants = append(cfg.Tenants, t)
		}
		last.files[f.Name] = f
	}
	slices.SortFunc(cfg.Tenants, func(a, b *Tenant) int { return strings.Compare(a.Name, b.Name) })
	last.cfg = &cfg
	var diags hcl.Diagnostics
	for _, f := range files {
		diags = append(diags, last.diags[f.Name]...)
	}
	return &cfg, diags, true
}

// unclaim takes out of the indexes what tenant rt of file f claimed.
func (b *builder) unclaim(f *File, rt *rawTenant) {
	if p, ok := b.tenantSeen[rt.Name]; ok && p.f == f {
		delete(b.tenantSeen, rt.Name)
	}
	if d, ok := b.uids[rt.UID]; ok && d.at.f == f {
		delete(b.uids, rt.UID)
	}
	for _, rw := range rt.Webroots {
		if rw.built == nil {
			continue
		}
		for _, sn := range rw.ServerNames {
			if p, ok := b.serverNames[sn]; ok && p.f == f {
				delete(b.serverNames, sn)
			}
		}
		b.names.unclaim(f, WebrootNames(rt.Name, rw.Name))
		for _, bd := range rw.daemons {
			if d := bd.d; d != nil {
				b.names.unclaim(f, DaemonNames(d.Tenant, d.Name, validProcs(d.NumProcs)))
			}
		}
	}
}

// unclaim forgets the names that owners of file f took. The index must
// hold no names in exact (which would be found again under a hash
// forgotten here): an incremental Build is not tried then.
func (ix nameIndex) unclaim(f *File, names []NodeName) {
	for _, n := range names {
		h := ix.hash(n)
		if o := ix.owners[h]; o != nil && o.f == f {
			delete(ix.owners, h)
		}
	}
}
