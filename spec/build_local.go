package spec

import (
	"sort"
	"strconv"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/secret"
)

// The checks of a tenant that need nothing but its own file run while the
// file is decoded (ParseFile, in parallel over files): they build the
// tenant's model — webroots and daemons with their defaults, values and
// environment — and report every finding about a single value or a
// duplicate inside the tenant. What they built is kept with the File
// (rawTenant.built, shared by every Config built from the file: a model
// object is never changed after this), and the written values are
// dropped, so a decoded repository holds its model once. A duplicate
// webroot or daemon block is reported and builds nothing (built stays nil).
// Build adds the
// checks across files (build.go): uniqueness of tenants, uids, names and
// server names, the shard, node pins and the cluster's limits.

// buildTenant builds rt's model (rt.built) and runs its local checks.
func (f *File) buildTenant(rt *rawTenant) hcl.Diagnostics {
	diags := checkTenantName(rt.Name, f.rng(rt.NameRange))
	t := &Tenant{Name: rt.Name, Shard: rt.Shard}
	if f.failedAt(rt.UIDRange) {
		// already reported by decoding
	} else if rt.UID < MinUID || rt.UID > MaxUID {
		diags = append(diags, errorAt(f.rng(rt.UIDRange), "Invalid uid",
			"The uid must be between %d and %d (uids below %d belong to the system); it is %d.", MinUID, int64(MaxUID), MinUID, rt.UID))
	} else {
		t.UID = uint32(rt.UID)
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
		w, d := f.buildWebroot(rt, rw, ports)
		diags = append(diags, d...)
		t.Webroots = append(t.Webroots, w)
	}
	sort.Slice(t.Webroots, func(i, j int) bool { return t.Webroots[i].Name < t.Webroots[j].Name })
	rt.built = t
	// The written values are in the model now: each daemon block leaves
	// Build only what it checks (builtDaemon).
	for _, rw := range rt.Webroots {
		rw.daemons = make([]builtDaemon, len(rw.Daemons))
		for i, rd := range rw.Daemons {
			rw.daemons[i] = builtDaemon{name: rd.NameRange, def: rd.DefRange, placed: rd.placed, sealed: rd.sealed, d: rd.built}
		}
		rw.Daemons = nil
	}
	return diags
}

// builtDaemon is a daemon block once its model is built: what Build checks
// across files.
type builtDaemon struct {
	name, def span // of its label and block
	// placed are the attributes whose check needs the tenant's shard.
	placed []rawAttr
	// sealed are the encrypted environment values, checked against the
	// shard's node keys (secrets.go).
	sealed []sealedEnv
	d      *Daemon // nil for a duplicate block
}

// buildWebroot builds a webroot and its daemons; ports are the tenant's
// pinned ports so far.
func (f *File) buildWebroot(rt *rawTenant, rw *rawWebroot, ports map[int]*rawDaemon) (*Webroot, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	w := &Webroot{Tenant: rt.Name, Name: rw.Name, ServerNames: rw.ServerNames}
	for _, sn := range rw.ServerNames {
		diags = append(diags, checkServerName(sn, f.rng(rw.ServerNamesRange))...)
	}
	if rw.PublicFolder != nil && !f.failedAt(rw.PublicFolderRange) {
		w.PublicFolder = *rw.PublicFolder
		diags = append(diags, checkPublicFolder(w.PublicFolder, f.rng(rw.PublicFolderRange))...)
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
		d, more := f.buildDaemon(rt, rw, rd)
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
	rw.built = w
	return w, diags
}

// buildDaemon builds a daemon from its block: every attribute of
// DaemonFields takes its default or its written value, which is checked
// (unless decoding already reported it); then the environment and the
// checks that span attributes. A check that needs the tenant's shard
// (DaemonField.placed) is left for Build.
func (f *File) buildDaemon(rt *rawTenant, rw *rawWebroot, rd *rawDaemon) (*Daemon, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	d := new(Daemon)
	*d = daemonDefaults
	d.Tenant, d.Webroot, d.Name = rt.Name, rw.Name, rd.Name
	for i := range rd.attrs { // in DaemonFields order
		a := &rd.attrs[i]
		if f.failedAt(a.Range) {
			continue
		}
		fd := DaemonFields[a.field]
		fd.setRaw(d, a)
		if fd.check != nil {
			diags = append(diags, fd.check(fieldCheck{d: d, rng: f.rng(a.Range), field: fd})...)
		}
		if fd.placed != nil {
			rd.placed = append(rd.placed, *a)
		}
	}
	d.Environment = make(Env, 0, len(rd.env))
	envSeen := map[string]span{}
	for _, e := range rd.env {
		diags = append(diags, checkEnvKey(e.Key, f.rng(e.KeyRange))...)
		diags = append(diags, checkText("environment value", e.Value, f.rng(e.ValueRange))...)
		if prev, ok := envSeen[e.Key]; ok {
			diags = append(diags, errorAt(f.rng(e.KeyRange), "Duplicate environment variable",
				"%s is already set at %s. Keep one.", e.Key, at(f.rng(prev))))
			continue
		}
		envSeen[e.Key] = e.KeyRange
		d.Environment = append(d.Environment, EnvVar{e.Key, e.Value})
		if secret.IsSealed(e.Value) {
			if bad := checkSealedForm(rt.Name, e.Key, e.Value, f.rng(e.ValueRange)); bad != nil {
				diags = append(diags, bad...)
			} else {
				rd.sealed = append(rd.sealed, sealedEnv{key: e.Key, rng: e.ValueRange})
			}
		}
	}
	sortEnv(d.Environment)
	if rd.health != nil {
		var more hcl.Diagnostics
		d.Health, more = f.buildHealth(d, rd.health)
		diags = append(diags, more...)
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
	rd.built = d
	return d, diags
}
