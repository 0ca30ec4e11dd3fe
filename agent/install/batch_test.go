package install

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestWriteFilesSyncsEachDirectoryOnce: OS.WriteFiles writes every file
// with its content and mode, leaves no temporary file, syncs each
// directory once (not once per file: that doubled a first converge's
// writes) and fails only the files it could not write.
func TestWriteFilesSyncsEachDirectoryOnce(t *testing.T) {
	root := t.TempDir()
	blocker := filepath.Join(root, "file")
	if err := os.WriteFile(blocker, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	var files []Write
	for i := range 20 {
		files = append(files, Write{Path: filepath.Join(root, fmt.Sprint("d", i%2), fmt.Sprint(i, ".json")), Data: []byte(fmt.Sprint(i)), Mode: 0o600})
	}
	files = append(files, Write{Path: filepath.Join(blocker, "x.json"), Data: []byte("x"), Mode: 0o600}) // below a file
	var synced []string
	defer func(orig func(string) error) { syncDir = orig }(syncDir)
	syncDir = func(dir string) error { synced = append(synced, dir); return nil }

	errs := WriteFiles(OS{}, files)
	for i, f := range files[:20] {
		b, mode, err := OS{}.ReadFile(f.Path)
		if errs[i] != nil || err != nil || string(b) != string(f.Data) || mode != 0o600 {
			t.Errorf("%s: %q mode %o, %v, %v", f.Path, b, mode, errs[i], err)
		}
	}
	if errs[20] == nil {
		t.Error("a file below a regular file was written")
	}
	slices.Sort(synced)
	if want := []string{filepath.Join(root, "d0"), filepath.Join(root, "d1")}; !slices.Equal(synced, want) {
		t.Errorf("synced directories %q, want each once: %q", synced, want)
	}
	for _, d := range []string{"d0", "d1"} {
		entries, _ := os.ReadDir(filepath.Join(root, d))
		for _, e := range entries {
			if strings.Contains(e.Name(), "drover-tmp") {
				t.Errorf("temporary file %s left", e.Name())
			}
		}
	}
}
