package reconcile

import (
	"crypto/sha256"
	"slices"

	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
)

// What a pass reuses from the passes before it, each piece keyed by
// exactly its input, so that a commit changing one daemon costs about one
// daemon past the decoding:
//
//   - decoded files: the spec.Loader (a.specs), by file name and Git blob
//     hash;
//   - the node's plan: a.loaded, by the set of config file names and blob
//     hashes (a commit that changed no config file, or a forced pass,
//     decodes and places nothing);
//   - the validation across files and the placement of unchanged tenants:
//     the spec.Loader builds a revision that changed a few tenant files
//     from the last one, sharing the model of the others, and
//     netplan.ComputeFrom keeps the placement of every tenant whose model
//     object and shard objects are the same (a.placed);
//   - rendered files: the render.Memo (a.memo), by the value each file is
//     written from (a program's settings, its exec spec, a webroot's nginx
//     settings, the network state);
//   - what is installed: a.installed, the store's resources as this
//     process recorded them (read from the store once, kept in step by
//     record), with their hashes but not their bytes, which the store
//     keeps.

// loadedRev is the plan of the last revision loaded without error, and
// the key of its config files (see filesKey).
type loadedRev struct {
	key [sha256.Size]byte
	// live is the key of the pool's decisions the plan was placed with.
	live string
	plan *netplan.NodePlan
}

// filesKey is the digest of the names and blob hashes of a revision's
// config files; ok is false when a file has no hash (nothing to key by).
func filesKey(blobs map[string]source.Blob) (key [sha256.Size]byte, ok bool) {
	names := make([]string, 0, len(blobs))
	for name, b := range blobs {
		if b.Hash == "" {
			return key, false
		}
		names = append(names, name)
	}
	slices.Sort(names)
	h := sha256.New()
	for _, name := range names {
		h.Write([]byte(name))
		h.Write([]byte{0})
		h.Write([]byte(blobs[name].Hash))
		h.Write([]byte{'\n'})
	}
	h.Sum(key[:0])
	return key, true
}

// installedResources is what the store says is installed (a.mu held). The
// map is the reconciler's: callers do not change it.
func (a *Reconciler) installedResources() (map[string]store.Resource, error) {
	if a.installed == nil {
		m, err := a.store.ResourcesWithoutData() // compared by Hash: the bytes live in the store
		if err != nil {
			return nil, err
		}
		a.installed = m
	}
	return a.installed, nil
}

// noteRead makes the store's resources, read whole (Restore), the
// installed view when there is none yet, without their bytes: the apply
// that follows then does not read the store again.
func (a *Reconciler) noteRead(read map[string]store.Resource) {
	if a.installed != nil {
		return
	}
	m := make(map[string]store.Resource, len(read))
	for k, r := range read {
		r.Data = nil
		m[k] = r
	}
	a.installed = m
}

// noteInstalled keeps a.installed in step with a change the store recorded.
func (a *Reconciler) noteInstalled(c store.Change) {
	if a.installed == nil {
		return
	}
	for _, k := range c.Delete {
		delete(a.installed, k)
	}
	for _, r := range c.Put {
		r.Data = nil
		a.installed[r.Key] = r
	}
}
