package source

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// TestFilesListsSymlinks: a symbolic link committed below the root — to a
// file outside the repository, to a directory, at any depth, whatever its
// name — is listed as a link (never read), so the agent's Loader rejects
// the revision as drover validate and drover plan reject it.
func TestFilesListsSymlinks(t *testing.T) {
	ctx := context.Background()
	r := newRepo(t)
	r.write(map[string]string{"hosting/cluster.hcl": "cluster \"c\" {}\n", "outside/x.hcl": "# x\n"})
	for link, target := range map[string]string{
		"hosting/leak.hcl":          "/proc/self/environ",
		"hosting/tenants/more":      "../../outside",
		"hosting/tenants/deep/note": "../../cluster.hcl",
	} {
		path := filepath.Join(r.dir, filepath.FromSlash(link))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, path); err != nil {
			t.Fatal(err)
		}
	}
	r.git("add", "-A")
	r.git("commit", "-q", "-m", "links")
	rev := r.git("rev-parse", "HEAD")
	s := mustNew(t, Options{URL: "file://" + r.dir, CacheDir: t.TempDir()})
	poll(t, s)
	files, err := s.Files(ctx, rev, "hosting")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := keys(files), []string{"cluster.hcl", "leak.hcl", "tenants/deep/note", "tenants/more"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("Files = %v, want %v", got, want)
	}
	for _, name := range []string{"leak.hcl", "tenants/deep/note", "tenants/more"} {
		if f := files[name]; f.Kind != spec.Symlink || f.Read != nil {
			t.Errorf("%s listed as %+v, want a link that cannot be read", name, f)
		}
	}
	_, _, diags, err := spec.NewLoader().Load(files)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, d := range diags {
		if d.Summary == "Symbolic link in the configuration" {
			n++
		}
		if strings.Contains(d.Detail, "PATH=") {
			t.Errorf("a diagnostic shows the target: %s", d.Detail)
		}
	}
	if n != 3 {
		t.Errorf("%d symlink errors, want 3: %v", n, diags)
	}
}
