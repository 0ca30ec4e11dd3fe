package pool

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/testenv"
)

// TestReadKey: raw and base64 keys of the three sizes are read; a key file
// others can read, owned by someone else, of a wrong size, or not a regular
// file is refused with a message saying how to make one.
func TestReadKey(t *testing.T) {
	testenv.RequireRoot(t) // the key file must be root's
	dir := t.TempDir()
	raw32 := bytes.Repeat([]byte{0xfe}, 32)
	write := func(name string, data []byte, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, c := range []struct {
		name string
		data []byte
		want []byte
	}{
		{"raw 16", raw32[:16], raw32[:16]},
		{"raw 24", raw32[:24], raw32[:24]},
		{"raw 32", raw32, raw32},
		{"raw 32 ending in a newline byte", append(bytes.Repeat([]byte{1}, 31), '\n'), append(bytes.Repeat([]byte{1}, 31), '\n')},
		{"base64 32", []byte(base64.StdEncoding.EncodeToString(raw32)), raw32},
		{"base64 16 with newline", []byte(base64.StdEncoding.EncodeToString(raw32[:16]) + "\n"), raw32[:16]},
	} {
		got, err := ReadKey(write("key", c.data, 0o600))
		if err != nil || !bytes.Equal(got, c.want) {
			t.Errorf("%s: ReadKey = %x, %v; want %x", c.name, got, err, c.want)
		}
	}
	if _, err := ReadKey(write("ro", raw32, 0o400)); err != nil {
		t.Errorf("mode 0400: %v", err)
	}

	other := write("other", raw32, 0o600)
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(write("target", raw32, 0o600), filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, want string
	}{
		{"group-readable", write("g", raw32, 0o640), "mode 0640 lets other users read it"},
		{"world-readable", write("w", raw32, 0o604), "mode 0604"},
		{"not root's", other, "owned by uid 65534, not root"},
		{"short", write("short", raw32[:15], 0o600), "holds 15 bytes"},
		{"long", write("long", append(raw32, 1), 0o600), "holds 33 bytes"},
		{"base64 of 20 bytes", write("b20", []byte(base64.StdEncoding.EncodeToString(raw32[:20])), 0o600), "holds 28 bytes"},
		{"missing", filepath.Join(dir, "missing"), "no such file"},
		{"symlink", filepath.Join(dir, "link"), "too many levels of symbolic links"},
		{"directory", dir, "not a regular file"},
	} {
		_, err := ReadKey(c.path)
		if err == nil {
			t.Errorf("%s: accepted", c.name)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, c.want) || !strings.Contains(msg, "head -c 32 /dev/urandom > "+c.path+" && chmod 600 "+c.path) {
			t.Errorf("%s: %v; want %q and how to make a key", c.name, err, c.want)
		}
	}
}
