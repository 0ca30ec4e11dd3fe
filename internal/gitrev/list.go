package gitrev

import (
	"bytes"
	"errors"
	"fmt"
	"path"
	"strconv"

	"github.com/drover-sh/drover/internal/gittree"
	"github.com/go-git/go-git/v5/plumbing"
	"github.com/go-git/go-git/v5/plumbing/filemode"
	"github.com/go-git/go-git/v5/plumbing/storer"
)

// A Lister lists Git trees for TreeEntries and remembers the last listing
// of every directory, by the directory's tree hash: a directory whose tree
// is unchanged is not read again, and in a changed one every entry whose
// name, mode and object are unchanged is taken as it was (its path and
// hash strings), so a commit that changed one file of a directory of
// 33,000 allocates for that file only. Trees are content-addressed, so
// nothing it remembers can be stale. The agent keeps one per source; nil
// remembers nothing. Not safe for concurrent use.
type Lister struct {
	dirs map[string]*listedDir // by slash path, "" the top
	seen map[string]bool       // the directories of the listing under way
	size int                   // entries of the last listing
}

// listedDir is one directory's listing.
type listedDir struct {
	tree    plumbing.Hash
	entries []listedEntry
}

// listedEntry is one entry of a tree.
type listedEntry struct {
	name    string
	mode    filemode.FileMode // canonical, as go-git's Tree.Decode makes it
	hash    plumbing.Hash
	path    string // slash path from the top (path.Join)
	hashStr string // hash in hex; "" for a directory
}

// list returns the entries of the tree h of directory dir (slash path).
func (l *Lister) list(st storer.EncodedObjectStorer, dir string, h plumbing.Hash) ([]listedEntry, error) {
	var prev *listedDir
	if l != nil {
		l.seen[dir] = true
		if prev = l.dirs[dir]; prev != nil && prev.tree == h {
			return prev.entries, nil
		}
	}
	data, err := gittree.Read(st, h)
	if err != nil {
		return nil, err
	}
	var old []listedEntry
	if prev != nil {
		old = prev.entries
	}
	entries := make([]listedEntry, 0, len(old)+1)
	err = parseTree(data, func(mode filemode.FileMode, name []byte, hash plumbing.Hash) {
		// Trees are sorted by name (a directory's as if it ended in
		// "/"): the entry of the same name in the last listing is at or
		// after the one matched last. Where byte order and Git's differ,
		// an entry is at worst not reused.
		for len(old) > 0 && old[0].name < string(name) {
			old = old[1:]
		}
		if len(old) > 0 && old[0].name == string(name) && old[0].mode == mode && old[0].hash == hash {
			entries = append(entries, old[0])
			old = old[1:]
			return
		}
		e := listedEntry{name: string(name), mode: mode, hash: hash}
		e.path = path.Join(dir, e.name)
		if mode != filemode.Dir {
			e.hashStr = hash.String()
		}
		entries = append(entries, e)
	})
	if err != nil {
		return nil, err
	}
	if l != nil {
		l.dirs[dir] = &listedDir{tree: h, entries: entries}
	}
	return entries, nil
}

// start and done bracket one listing: directories not seen in it are
// forgotten, and the size of its result is kept as the next one's hint.
func (l *Lister) start() int {
	if l == nil {
		return 0
	}
	if l.dirs == nil {
		l.dirs = map[string]*listedDir{}
	}
	l.seen = map[string]bool{}
	return l.size
}

func (l *Lister) done(size int) {
	if l == nil {
		return
	}
	for dir := range l.dirs {
		if !l.seen[dir] {
			delete(l.dirs, dir)
		}
	}
	l.seen, l.size = nil, size
}

// errMalformedTree is a tree object that is not a list of entries.
var errMalformedTree = errors.New("malformed tree")

// parseTree calls entry for each entry of a tree object's content, exactly
// as go-git's object.Tree.Decode reads it (FuzzParseTree): "MODE NAME\0"
// and 20 bytes of object hash, the mode in octal made canonical, a name
// never empty. name is valid only during the call.
func parseTree(data []byte, entry func(mode filemode.FileMode, name []byte, hash plumbing.Hash)) error {
	for len(data) > 0 {
		sp := bytes.IndexByte(data, ' ')
		if sp < 0 {
			return fmt.Errorf("%w: missing mode terminator", errMalformedTree)
		}
		m, err := strconv.ParseUint(string(data[:sp]), 8, 32)
		if err != nil {
			return fmt.Errorf("%w: malformed mode", errMalformedTree)
		}
		data = data[sp+1:]
		nul := bytes.IndexByte(data, 0)
		if nul < 0 {
			return fmt.Errorf("%w: missing filename terminator", errMalformedTree)
		}
		if nul == 0 {
			return fmt.Errorf("%w: empty filename", errMalformedTree)
		}
		name := data[:nul]
		data = data[nul+1:]
		if len(data) < len(plumbing.Hash{}) {
			return fmt.Errorf("%w: truncated object id", errMalformedTree)
		}
		var hash plumbing.Hash
		copy(hash[:], data)
		data = data[len(hash):]
		entry(canonicalMode(filemode.FileMode(m)), name, hash)
	}
	return nil
}

// canonicalMode is the mode go-git gives a tree entry: the file type
// decides, and of a regular file whether any execute bit is set.
func canonicalMode(m filemode.FileMode) filemode.FileMode {
	switch m & 0o170000 {
	case 0o040000:
		return filemode.Dir
	case 0o100000:
		if m&0o111 != 0 {
			return filemode.Executable
		}
		return filemode.Regular
	case 0o120000:
		return filemode.Symlink
	}
	return filemode.Submodule
}
