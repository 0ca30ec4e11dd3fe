package gitrev

import (
	"slices"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/gittree"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/object"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// FuzzParseTree: parseTree reads a tree object exactly as go-git's
// Tree.Decode does: the same entries, and an error for the same inputs.
func FuzzParseTree(f *testing.F) {
	hash := strings.Repeat("\x01", 20)
	for _, s := range []string{
		"100644 a.hcl\x00" + hash + "40000 dir\x00" + hash + "120000 link\x00" + hash + "160000 sub\x00" + hash,
		"100755 x\x00" + hash, "100664 old\x00" + hash, "644 odd\x00" + hash, "", "100644 \x00" + hash,
		"100644 a" + hash, "100644 a\x00short", "1x0644 a\x00" + hash, "100644", "40000 d\x00" + hash + "100644 d.hcl\x00" + hash,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		type entry struct {
			mode filemode.FileMode
			name string
			hash plumbing.Hash
		}
		var got []entry
		err := parseTree(data, func(mode filemode.FileMode, name []byte, hash plumbing.Hash) {
			got = append(got, entry{mode, string(name), hash})
		})
		obj := &plumbing.MemoryObject{}
		obj.SetType(plumbing.TreeObject)
		if _, werr := obj.Write(data); werr != nil {
			t.Fatal(werr)
		}
		var tree object.Tree
		derr := tree.Decode(obj)
		if (err == nil) != (derr == nil) {
			t.Fatalf("parseTree: %v; go-git: %v", err, derr)
		}
		if err != nil {
			return
		}
		var want []entry
		for _, e := range tree.Entries {
			want = append(want, entry{e.Mode, e.Name, e.Hash})
		}
		if !slices.Equal(got, want) {
			t.Fatalf("parseTree read %v, go-git %v", got, want)
		}
	})
}

// bigTree is a tree object that claims to be larger than gittree.MaxBytes.
type bigTree struct{ plumbing.MemoryObject }

func (bigTree) Size() int64 { return gittree.MaxBytes + 1 }

type bigTreeStorer struct{ storer.EncodedObjectStorer }

func (bigTreeStorer) EncodedObject(plumbing.ObjectType, plumbing.Hash) (plumbing.EncodedObject, error) {
	return &bigTree{}, nil
}

// TestListRefusesAHugeTree: a directory's tree object over
// gittree.MaxBytes is refused before it is read.
func TestListRefusesAHugeTree(t *testing.T) {
	_, err := (*Lister)(nil).list(bigTreeStorer{}, "tenants", plumbing.Hash{})
	if err == nil || !strings.Contains(err.Error(), "more than the 64 MiB") {
		t.Errorf("list of a tree of %d bytes: %v, want it refused", gittree.MaxBytes+1, err)
	}
}
