package agent

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/testenv"
	"github.com/drover-sh/drover/secret"
)

// TestReadNodeKey: the node key is read only from a root-owned regular
// file that no one else may read; every refusal names the file and how to
// make one, and never quotes the content.
func TestReadNodeKey(t *testing.T) {
	testenv.RequireRoot(t)
	key, recipient, err := secret.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	write := func(name string, data []byte, mode os.FileMode, uid int) string {
		p := filepath.Join(dir, name)
		testenv.WriteFile(t, p, string(data), mode)
		if err := os.Chown(p, uid, uid); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ids, err := readNodeKey(&config.Secrets{KeyFile: write("age.key", key, 0o600, 0)})
	if err != nil || strings.Join(secret.Recipients(ids), " ") != recipient {
		t.Fatalf("readNodeKey = %v, %v; want the identity of %s", ids, err, recipient)
	}
	if ids, err := readNodeKey(nil); ids != nil || err != nil {
		t.Errorf("no secrets block: %v, %v", ids, err)
	}
	link := filepath.Join(dir, "link.key")
	if err := os.Symlink(filepath.Join(dir, "age.key"), link); err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		path string
		want string
	}{
		"readable by others": {write("open.key", key, 0o644, 0), "mode 0644 lets other users read it"},
		"a tenant's":         {write("tenant.key", key, 0o600, 10042), "owned by uid 10042, not root"},
		"a symlink":          {link, "too many levels of symbolic links"},
		"missing":            {filepath.Join(dir, "none.key"), "no such file"},
		"not a key":          {write("bad.key", []byte("AGE-SECRET-KEY-1NOTAKEY\n"), 0o600, 0), "parse age identities"},
	} {
		_, err := readNodeKey(&config.Secrets{KeyFile: c.path})
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "drover secret keygen "+c.path) {
			t.Errorf("%s: %v, want %q and how to make one", name, err, c.want)
		} else if strings.Contains(err.Error(), "AGE-SECRET-KEY") {
			t.Errorf("%s: the error quotes the key: %v", name, err)
		}
	}
}
