package spec

import (
	"fmt"
	"io"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Kind is what a reader found at a path below the config root.
type Kind uint8

const (
	// Regular is a regular file: the only kind drover reads.
	Regular Kind = iota
	// Symlink is a symbolic link, to a file or a directory, inside the
	// repository or not. drover never follows one: its target may be
	// outside the repository (a pull request adding leak.hcl ->
	// /proc/self/environ), and a node reading the commit sees the link,
	// not the target, so CI and the nodes would check different files.
	Symlink
	// Submodule is a Git submodule (or, in a working tree, a directory
	// holding its own repository): not part of the commit's content.
	Submodule
	// Irregular is a FIFO, device or socket with a config file's name.
	Irregular
)

// Entry is one entry below a config root as a reader found it, its
// content not read yet. Every reader — the directory walk (ReadDir, for
// validate, render, placement and daemon), Git commits and working trees
// (internal/gitrev, for plan) and the agent's Git source — lists entries by
// the same rules (SkipDir, Wanted), and every command decodes them with a
// Loader, so they all see the same configuration and report the same
// errors.
type Entry struct {
	Kind Kind
	// Hash identifies the content (a Git blob hash): a Loader decodes a
	// name and hash once. "" when unknown.
	Hash string
	// Read returns the content of a Regular file, at most MaxFileBytes+1
	// bytes of it (ReadLimited), so a huge file is reported without being
	// read whole.
	Read func() ([]byte, error)
	// Parallel says Read may run while other entries' Reads run (a file
	// on disk, content in memory; not a Git object store).
	Parallel bool
}

// SkipDir reports whether readers skip a directory below the config root:
// hidden ones (.git, .github, ...).
func SkipDir(name string) bool { return strings.HasPrefix(name, ".") }

// Wanted reports whether readers list an entry that is not a directory:
// every config file, and every symbolic link and submodule whatever its
// name (they are errors, reported by the Loader).
func Wanted(name string, k Kind) bool {
	return k == Symlink || k == Submodule || IsConfigFile(name)
}

// ReadLimited reads r to its end, but no more than MaxFileBytes+1 bytes.
func ReadLimited(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
}

// Bytes is the Entry of content held in memory.
func Bytes(data []byte) Entry {
	return Entry{Read: func() ([]byte, error) { return data, nil }, Parallel: true}
}

// fileRange is the range naming a whole file in a diagnostic.
func fileRange(name string) *hcl.Range {
	p := hcl.Pos{Line: 1, Column: 1}
	return &hcl.Range{Filename: name, Start: p, End: p}
}

// kindError is the diagnostic for an entry that is not a regular file.
func kindError(name string, k Kind) *hcl.Diagnostic {
	d := &hcl.Diagnostic{Severity: hcl.DiagError, Subject: fileRange(name)}
	switch k {
	case Symlink:
		d.Summary = "Symbolic link in the configuration"
		d.Detail = fmt.Sprintf("%s is a symbolic link. drover follows no links below the config root: a link may point outside the repository, and every command and node must read the same files. Replace the link with the file or directory it points to, or delete it.", name)
	case Submodule:
		d.Summary = "Submodule in the configuration"
		d.Detail = fmt.Sprintf("%s is a Git submodule (or a nested repository); its files are not part of this repository's commits. Copy the files in, or move the submodule out of the config root.", name)
	default:
		d.Summary = "Not a regular file"
		d.Detail = fmt.Sprintf("%s is not a regular file (a FIFO, device or socket). Replace it with a regular file, or delete it.", name)
	}
	return d
}

// KindError says why an entry that is not a regular file cannot be part of
// a configuration, for callers that read files themselves.
func KindError(name string, k Kind) error {
	d := kindError(name, k)
	return fmt.Errorf("%s: %s", d.Summary, d.Detail)
}
