package reconcile

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"

	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/render"
)

// write is one file to (re)install; existed says whether a file was there
// (an exec spec replaced means a restart is owed).
type write struct {
	key, path string
	file      render.File
	existed   bool
}

// diff is the difference between the desired files and the node.
type diff struct {
	writes  map[render.Root][]write
	removes map[render.Root][]string // keys
	// adopt holds desired files already on disk byte for byte but not (or
	// differently) in the store: recorded without writing.
	adopt []render.File
	// forget holds stored keys of roots the layout has no directory for
	// (the network files an earlier agent recorded): dropped from the
	// store, nothing to remove on disk.
	forget []string
}

func hashOf(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// diffFiles compares desired files with the store and the disk. A file
// differs when its disk content or mode is not the desired one (so a hand
// edit is repaired); files drover installed that are no longer desired are
// removed. Nothing else on disk is ever touched.
//
// With trust, a file the store holds with the desired content is taken to
// be on disk as installed, without reading it: the watcher repairs files
// changed by hand, and passes after a restart or asked for (retry, drover
// reconcile) compare with the disk. On a large node this saves reading
// every one of some 13,000 files on each commit.
func (a *Reconciler) diffFiles(desired map[string]render.File, installed map[string]store.Resource, trust bool) diff {
	d := diff{writes: map[render.Root][]write{}, removes: map[render.Root][]string{}}
	// The maps are walked in any order and only what differs is sorted
	// (diff.sort): a node has tens of thousands of files and a commit
	// changes a few.
	for key, f := range desired {
		r, stored := installed[key]
		stored = stored && r.Mode == f.Mode && r.Owner == f.Owner && r.Hash != "" && r.Hash == fileHash(f)
		if stored && trust {
			continue
		}
		p, ok := a.layout.Path(key)
		if !ok {
			continue // desiredOf keeps only files with a directory
		}
		old, mode, err := a.fs.ReadFile(p)
		same := err == nil && mode == f.Mode && a.installedAs(f, old)
		if f.Root == render.RootExec {
			clear(old) // it may hold opened secrets
		}
		if same && stored {
			continue
		}
		// Recorded or written: the bytes are needed now.
		if f, ok = a.memo.Fill(f); !ok {
			// Not from the memo's last Carry: a bug. Never write a
			// stale file; the next pass renders it again.
			a.log.Error("no content for a desired file", "file", key)
			continue
		}
		if same {
			d.adopt = append(d.adopt, f)
			continue
		}
		d.writes[f.Root] = append(d.writes[f.Root], write{key: key, path: p, file: f, existed: err == nil})
	}
	for key := range installed {
		if _, ok := desired[key]; !ok {
			if _, onDisk := a.layout.Path(key); !onDisk {
				d.forget = append(d.forget, key)
				continue
			}
			root, _ := install.SplitKey(key)
			d.removes[root] = append(d.removes[root], key)
		}
	}
	d.sort()
	return d
}

// sort puts every list of d in key order: files are written, removed and
// recorded in the same order whatever the maps' order was.
func (d diff) sort() {
	for _, ws := range d.writes {
		slices.SortFunc(ws, func(a, b write) int { return strings.Compare(a.key, b.key) })
	}
	for _, keys := range d.removes {
		slices.Sort(keys)
	}
	slices.SortFunc(d.adopt, func(a, b render.File) int {
		return strings.Compare(install.Key(a.Root, a.Path), install.Key(b.Root, b.Path))
	})
	slices.Sort(d.forget)
}

// installedAs reports whether data on disk is f as drover installs it:
// f.Data, with the encrypted values of an exec spec opened (secrets.go).
// A value that does not open makes the file differ; writing it reports why.
// A file the memo reused (no Data, only its Hash) is compared by hash.
func (a *Reconciler) installedAs(f render.File, data []byte) bool {
	if f.Data == nil && f.Hash != "" {
		return hashOf(data) == f.Hash
	}
	want, err := a.secrets.reveal(f)
	if err != nil {
		return false
	}
	defer forget(f, want)
	return bytes.Equal(data, want)
}
