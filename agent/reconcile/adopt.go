package reconcile

import (
	"path"

	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/render"
)

// adopt adds to installed the files an earlier life of the agent wrote
// (those render.Generated recognises) that the store, rebuilt since, no
// longer tracks: they are removed like any other file drover installed and
// no longer wants. Their owners are not known.
func (a *Reconciler) adopt(installed map[string]store.Resource) {
	for root, dir := range a.layout {
		for _, sub := range root.Dirs() {
			names, err := a.fs.List(path.Join(dir, sub))
			if err != nil {
				continue
			}
			for _, name := range names {
				rel := path.Join(sub, name)
				key := install.Key(root, rel)
				if _, ok := installed[key]; ok {
					continue
				}
				data, mode, err := a.fs.ReadFile(path.Join(dir, rel))
				if err != nil || !render.Generated(root, rel, data) {
					continue
				}
				a.log.Info("adopting a file an earlier drover wrote", "file", path.Join(dir, rel))
				r := store.Resource{Key: key, Mode: mode, Hash: hashOf(data), Data: data}
				if root == render.RootExec {
					// Its environment may hold opened secrets: kept
					// nowhere; the comparison with the disk decides.
					clear(data)
					r.Data, r.Hash = nil, ""
				}
				installed[key] = r
			}
		}
	}
}
