// Tests that keep the repository's documentation standing on its own: no
// file points outside the repository for its contract, and every section of
// docs/design.md that a file cites exists.
package docs

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// outside are the ways a file used to point at the contract or at files
// outside the repository. They are written in two parts so this file does
// not match itself.
var outside = []string{
	"SPEC" + ".md",
	"SPEC" + " §",
	".." + "/shared",
	"/work" + "/shared",
}

// TestNoReferenceOutsideRepository fails when a file of the repository
// (tracked, or new and not ignored) points at the old contract or at files
// outside the repository: the design lives in docs/design.md.
func TestNoReferenceOutsideRepository(t *testing.T) {
	root := repoRoot(t)
	for _, name := range repoFiles(t, root) {
		data := readFile(t, root, name)
		for i, line := range bytes.Split(data, []byte("\n")) {
			for _, s := range outside {
				if bytes.Contains(line, []byte(s)) {
					t.Errorf("%s:%d mentions %q; cite docs/design.md (\"design.md §N\") or drop the reference", name, i+1, s)
				}
			}
		}
	}
}

// TestDesignSectionsExist fails when a file cites a section of
// docs/design.md ("design.md §3.3", or "§3.3" inside design.md itself)
// that the document does not have.
func TestDesignSectionsExist(t *testing.T) {
	root := repoRoot(t)
	design := readFile(t, root, "docs/design.md")
	sections := designSections(design)
	if len(sections) < 10 {
		t.Fatalf("docs/design.md has %d numbered sections; the headings should read like \"## 2. Title\" and \"### 2.4 Title\"", len(sections))
	}
	for _, name := range repoFiles(t, root) {
		data := readFile(t, root, name)
		for _, ref := range citedSections(data, name == "docs/design.md") {
			if !sections[ref] {
				t.Errorf("%s cites design.md §%s, which docs/design.md does not have", name, ref)
			}
		}
	}
}

var (
	headingRe = regexp.MustCompile(`(?m)^#{2,4} (\d+(?:\.\d+)*)\.? `)
	// citeRe is "design.md" and the sections it names: "§3.3",
	// "§3.5, §3.6, §4.5", "§6.3 and §6.4".
	citeRe    = regexp.MustCompile(`design\.md((?:,? (?:and )?§\d+(?:\.\d+)*)+)`)
	sectionRe = regexp.MustCompile(`§(\d+(?:\.\d+)*)`)
	// wrapRe joins comment lines, so a citation wrapped in a Go comment
	// reads as one line.
	wrapRe = regexp.MustCompile(`[ \t]*\n[ \t]*(?://|#)?[ \t]*`)
)

// designSections are the section numbers of design.md's headings.
func designSections(design []byte) map[string]bool {
	out := map[string]bool{}
	for _, m := range headingRe.FindAllSubmatch(design, -1) {
		out[string(m[1])] = true
	}
	return out
}

// citedSections lists the design.md sections a file cites; in design.md
// itself every "§N" is a citation.
func citedSections(data []byte, self bool) []string {
	text := wrapRe.ReplaceAll(data, []byte(" "))
	var out []string
	if self {
		for _, m := range sectionRe.FindAllSubmatch(text, -1) {
			out = append(out, string(m[1]))
		}
		return out
	}
	for _, c := range citeRe.FindAllSubmatch(text, -1) {
		for _, m := range sectionRe.FindAllSubmatch(c[1], -1) {
			out = append(out, string(m[1]))
		}
	}
	return out
}

func TestCitedSections(t *testing.T) {
	got := citedSections([]byte("see design.md §3.5,\n// §3.6 and §4.5; design.md §7. Also §9 alone.\n"), false)
	want := []string{"3.5", "3.6", "4.5", "7"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("citedSections = %q, want %q", got, want)
	}
	sections := designSections([]byte("# Title\n## 2. The config\n### 2.4 `cluster`\n## Not numbered\n"))
	if len(sections) != 2 || !sections["2"] || !sections["2.4"] {
		t.Errorf("designSections = %v, want 2 and 2.4", sections)
	}
}

// repoRoot is the top of the Git working tree holding this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		t.Fatalf("find the repository's top directory (git rev-parse --show-toplevel): %v; run the tests in a Git checkout", err)
	}
	return strings.TrimSpace(string(out))
}

// repoFiles lists the repository's files: tracked ones, and new ones Git
// does not ignore, so a file is checked before it is committed.
func repoFiles(t *testing.T, root string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("list the repository's files (git ls-files): %v", err)
	}
	seen := map[string]bool{}
	var names []string
	for _, n := range strings.Split(string(out), "\x00") {
		if n != "" && !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	sort.Strings(names)
	if len(names) < 100 {
		t.Fatalf("git ls-files listed %d files in %s; expected the whole repository", len(names), root)
	}
	return names
}

// readFile reads a file of the repository; one deleted in the working tree
// but still tracked reads as empty.
func readFile(t *testing.T, root, name string) []byte {
	t.Helper()
	path := filepath.Join(root, filepath.FromSlash(name))
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	if !st.Mode().IsRegular() {
		return nil // a symbolic link's target is checked where it lies
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return data
}
