package reconcile

import (
	"encoding/json"
	"errors"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
)

// Restart on deploy: a daemon's restart_on_change names a file in its
// webroot (a deploy tool's REVISION). The agent's watcher (package agent)
// asks CheckDeploys to look at the files that changed; a file whose
// content (sha256, not its mtime) differs from the one last seen has its
// daemons restarted with their stop signal through the rollout, like any
// restart, reported as "deployed". The hashes are kept in the store
// (store.MetaDeployHashes), so a deploy made while the agent was down
// restarts the daemon once when it comes back, and one that rewrote the
// same content restarts nothing. The first time a file is seen (a new
// daemon, a new attribute) its hash is recorded without a restart: the
// daemon was started with that content.

// DeployFile is a file some daemon's restart_on_change names.
type DeployFile struct {
	// Path is the file; Webroot is the directory of its webroot.
	Path, Webroot string
}

// DeployFiles lists the files named by restart_on_change on this node,
// sorted by path.
func (a *Reconciler) DeployFiles() []DeployFile {
	a.mu.Lock()
	defer a.mu.Unlock()
	seen := map[string]DeployFile{}
	if a.plan != nil {
		for _, d := range a.plan.Programs {
			if d.RestartOnChange != "" {
				f := a.deployFile(d)
				seen[f.Path] = f
			}
		}
	}
	var out []DeployFile
	for _, p := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, seen[p])
	}
	return out
}

func (a *Reconciler) deployFile(d *netplan.Daemon) DeployFile {
	dir := a.opts.WebrootDir(d.Tenant, d.Webroot)
	return DeployFile{Path: filepath.Join(dir, d.RestartOnChange), Webroot: dir}
}

// CheckDeploys compares the files at paths (every one when paths is nil)
// with the content last seen and restarts the daemons whose file changed.
// It returns the keys of the daemons it restarts.
func (a *Reconciler) CheckDeploys(paths []string) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.plan == nil {
		return nil
	}
	hashes := a.deployHashes()
	dirty := false
	var programs, keys []string
	live, want := map[string]bool{}, map[string]bool{}
	for _, p := range paths {
		want[p] = true
	}
	for _, d := range a.plan.Programs {
		if d.RestartOnChange == "" {
			continue
		}
		k := d.Program + " " + d.RestartOnChange
		live[k] = true
		if paths != nil && !want[a.deployFile(d).Path] {
			continue
		}
		webroot := strings.TrimPrefix(a.opts.WebrootDir(d.Tenant, d.Webroot), a.opts.StorageRoot+"/")
		sum, err := hashDeployFile(a.opts.StorageRoot, webroot, d.RestartOnChange, d.UID)
		if errors.Is(err, errNoDeployFile) {
			continue // a removed file changes nothing until it is written again
		}
		if err != nil {
			a.log.Warn("cannot read the restart_on_change file; the daemon is not restarted", "daemon", d.Key, "error", err)
			continue
		}
		old, seen := hashes[k]
		if old == sum {
			continue
		}
		hashes[k], dirty = sum, true
		if !seen || !d.Enabled {
			continue
		}
		a.log.Info("restarted: "+d.RestartOnChange+" changed", "daemon", d.Key)
		programs, keys = append(programs, d.Program), append(keys, d.Key)
	}
	for k := range hashes { // daemons gone, files renamed
		if !live[k] {
			delete(hashes, k)
			dirty = true
		}
	}
	if dirty {
		a.setDeployHashes(hashes)
	}
	a.submitDeploys(programs)
	return keys
}

// submitDeploys hands the restarts of deployed programs to the rollout
// (a.mu held). They are sticky: a revision applied meanwhile does not
// cancel them.
func (a *Reconciler) submitDeploys(programs []string) {
	if len(programs) == 0 {
		return
	}
	now := programsOf(a.plan)
	for _, g := range programs {
		a.roll.mu.Lock()
		a.roll.why[g] = whyDeployed
		a.roll.mu.Unlock()
		j := rolloutJob(g, supervisor.Replace, nil, now[g])
		j.Fresh, j.Sticky = true, true
		a.rollout.Add(j) // keeps the queued work, unlike Submit
	}
}

// deployHashes reads store.MetaDeployHashes (a.mu held).
func (a *Reconciler) deployHashes() map[string]string {
	out := map[string]string{}
	v, err := a.store.Meta(store.MetaDeployHashes)
	if err == nil && v != "" {
		if err := json.Unmarshal([]byte(v), &out); err != nil {
			a.log.Warn("stored restart_on_change hashes are unreadable; recording them again", "error", err)
			out = map[string]string{}
		}
	}
	return out
}

func (a *Reconciler) setDeployHashes(h map[string]string) {
	v := ""
	if len(h) > 0 {
		b, _ := json.Marshal(h) // strings always marshal
		v = string(b)
	}
	if err := a.store.SetMeta(store.MetaDeployHashes, v); err != nil {
		a.log.Error("record restart_on_change hashes", "error", err)
	}
}
