package install

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// A transaction's writes and removals are all put back by Rollback: old
// content and mode, and the absence of a file that was not there.
func TestTxnRollback(t *testing.T) {
	dir := t.TempDir()
	kept, gone, fresh := filepath.Join(dir, "kept.conf"), filepath.Join(dir, "gone.conf"), filepath.Join(dir, "fresh.conf")
	for path, content := range map[string]string{kept: "old kept\n", gone: "old gone\n"} {
		if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	txn := NewTxn(OS{})
	if txn.Changed() {
		t.Error("a new transaction reports a change")
	}
	for _, err := range []error{txn.Write(kept, []byte("new\n"), 0o600), txn.Remove(gone), txn.Write(fresh, []byte("fresh\n"), 0o644)} {
		if err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(kept); string(b) != "new\n" || !txn.Changed() {
		t.Fatalf("write did not happen: %q", b)
	}
	if err := txn.Rollback(); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{kept: "old kept\n", gone: "old gone\n"} {
		b, mode, err := OS{}.ReadFile(path)
		if err != nil || string(b) != want || mode != fs.FileMode(0o640) {
			t.Errorf("%s after rollback: %q %v %v", filepath.Base(path), b, mode, err)
		}
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a file the transaction created is still there: %v", err)
	}
}

// Files written together (Txn.WriteFiles) are put back by Rollback too.
func TestTxnRollbackWriteFiles(t *testing.T) {
	dir := t.TempDir()
	kept, fresh := filepath.Join(dir, "kept.conf"), filepath.Join(dir, "fresh.conf")
	if err := os.WriteFile(kept, []byte("old\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	txn := NewTxn(OS{})
	for _, err := range txn.WriteFiles([]Write{{Path: kept, Data: []byte("new\n"), Mode: 0o644}, {Path: fresh, Data: []byte("fresh\n"), Mode: 0o644}}) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if b, _ := os.ReadFile(fresh); string(b) != "fresh\n" || !txn.Changed() {
		t.Fatalf("write did not happen: %q", b)
	}
	if err := txn.Rollback(); err != nil {
		t.Fatal(err)
	}
	if b, mode, err := (OS{}).ReadFile(kept); err != nil || string(b) != "old\n" || mode != 0o640 {
		t.Errorf("kept.conf after rollback: %q %v %v", b, mode, err)
	}
	if _, err := os.Stat(fresh); !os.IsNotExist(err) {
		t.Errorf("a file the transaction created is still there: %v", err)
	}
}
