package regular

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestReadTakesOnlyRegularFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("0123456789"), 0o640); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}

	data, st, err := Read(file, false, 10)
	if err != nil || string(data) != "0123456789" || st.Size != 10 || st.Mode&0o777 != 0o640 {
		t.Errorf("Read(file, max 10) = %q, size %d, mode %o, %v", data, st.Size, st.Mode&0o777, err)
	}
	if _, _, err := Read(file, false, 9); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read(10-byte file, max 9) = %v, want ErrTooLarge", err)
	}
	if _, _, err := Read(link, false, 10); !errors.Is(err, syscall.ELOOP) {
		t.Errorf("Read(link) without following = %v, want ELOOP", err)
	}
	if data, _, err := Read(link, true, 10); err != nil || string(data) != "0123456789" {
		t.Errorf("Read(link) following = %q, %v", data, err)
	}
	// A FIFO is refused at once, not waited on for a writer.
	if _, _, err := Read(fifo, true, 10); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Read(fifo) = %v, want not a regular file", err)
	}
	if _, _, err := Read(dir, true, 10); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Read(dir) = %v, want not a regular file", err)
	}
	if _, _, err := Read(filepath.Join(dir, "missing"), true, 10); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Read(missing) = %v, want not exist", err)
	}
}

// TestReadReadsWhatGrows: the size fstat gives is only a hint; a file that
// grew after it is read to the end, and one past max is refused.
func TestReadReadsWhatGrows(t *testing.T) {
	// /proc files report size 0 and hold more.
	data, _, err := Read("/proc/self/status", true, 1<<20)
	if err != nil || !strings.Contains(string(data), "Uid:") {
		t.Errorf("Read(/proc/self/status) = %d bytes, %v", len(data), err)
	}
	if _, _, err := Read("/proc/self/status", true, 10); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Read(/proc/self/status, max 10) = %v, want ErrTooLarge", err)
	}
}
