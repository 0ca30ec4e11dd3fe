package install

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// A FIFO or a link put in a managed directory is an error for ReadFile,
// at once: never waited on (a FIFO without a writer blocks an open), never
// followed. Writing over it then replaces it with a regular file.
func TestReadFileRefusesFIFOAndLinks(t *testing.T) {
	dir := t.TempDir()
	fifo, link, target := filepath.Join(dir, "a.conf"), filepath.Join(dir, "b.conf"), filepath.Join(dir, "secret")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(target, []byte("secret"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{fifo, link} {
		done := make(chan error, 1)
		go func() { _, _, err := OS{}.ReadFile(path); done <- err }()
		select {
		case err := <-done:
			if err == nil {
				t.Errorf("%s read as a file", path)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadFile(%s) blocks", path)
		}
		if err := (OS{}).WriteFile(path, []byte("x\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		if b, mode, err := (OS{}).ReadFile(path); err != nil || string(b) != "x\n" || mode != 0o644 {
			t.Errorf("%s after WriteFile: %q %v %v", path, b, mode, err)
		}
	}
	if b, _ := os.ReadFile(target); string(b) != "secret" {
		t.Errorf("the link's target was written: %q", b)
	}
}
