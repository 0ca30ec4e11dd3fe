package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// logBuffer collects what a slog.Logger writes.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func newLog() (*slog.Logger, *logBuffer) {
	lb := &logBuffer{}
	return slog.New(slog.NewTextHandler(lb, nil)), lb
}

// writeRealStore creates a store at path holding n resources (one of them
// spanning several pages), written over a few transactions so that the
// file has free pages, then closes it.
func writeRealStore(t *testing.T, path string, n int) {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := Change{Revision: "abc", History: &HistoryEntry{Revision: "abc", Result: ResultApplied}}
	for i := range n {
		data := strings.Repeat(fmt.Sprintf("line %d\n", i), 40)
		if i == 0 {
			data = strings.Repeat("large ", 10000)
		}
		c.Put = append(c.Put, res(fmt.Sprintf("nginx/locations/t%04d.conf", i), data, 0o644))
		c.Daemons = append(c.Daemons, DaemonStatus{Key: fmt.Sprintf("t%04d/main/worker", i), Status: "running"})
	}
	if err := s.Record(c); err != nil {
		t.Fatal(err)
	}
	c = Change{Revision: "def", Put: c.Put[:min(n, 10)], History: &HistoryEntry{Revision: "def", Result: ResultApplied}}
	for i := range c.Put {
		c.Put[i] = res(c.Put[i].Key, "replaced", 0o600)
	}
	if err := s.Record(c); err != nil {
		t.Fatal(err)
	}
	if err := s.Reject(Rejection{Revision: "bad", Diagnostics: "spec/acme.hcl:1,1-2: Oops"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(MetaSourceError, "def"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

// usedSize is the size a bbolt file's pages take (its high-water mark);
// the file itself may be longer.
func usedSize(t *testing.T, path string) int64 {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	_ = db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n
}

// openRebuilt opens path, expecting a rebuild, and checks the old file was
// moved aside intact, the WARN says why, and the new store works.
func openRebuilt(t *testing.T, path, wantReason string) {
	t.Helper()
	old, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	log, logs := newLog()
	s, err := Open(path, log)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if !s.Rebuilt() {
		t.Fatal("Rebuilt() = false")
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "rebuilding") || !strings.Contains(l, wantReason) {
		t.Errorf("log does not warn about the rebuild with reason %q:\n%s", wantReason, l)
	}
	copies, _ := corruptCopies(path)
	if len(copies) == 0 {
		t.Fatal("no PATH.corrupt-* file")
	}
	if moved, _ := os.ReadFile(copies[len(copies)-1].name); !bytes.Equal(moved, old) {
		t.Error("the moved-aside file differs from the original")
	}
	if rev, _, err := s.Applied(); rev != "" || err != nil {
		t.Errorf("rebuilt store: Applied = %q, %v", rev, err)
	}
	if err := s.Record(Change{Revision: "fresh", Put: []Resource{res("nginx/x.conf", "x", 0o644)}}); err != nil {
		t.Errorf("rebuilt store: Record: %v", err)
	}
}

func TestOpenGarbageRebuilds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		data   []byte
		reason string
	}{
		{"short text", []byte("hello, not a database\n"), "bbolt cannot open it"},
		{"random 64 KiB", randomBytes(1, 64<<10), "bbolt cannot open it"},
		{"zero pages", make([]byte, 16<<10), "bbolt cannot open it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agent.db")
			if err := os.WriteFile(path, tc.data, 0o600); err != nil {
				t.Fatal(err)
			}
			openRebuilt(t, path, tc.reason)
		})
	}
}

func TestOpenTruncatedRebuilds(t *testing.T) {
	src := filepath.Join(t.TempDir(), "real.db")
	writeRealStore(t, src, 300)
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	used := usedSize(t, src)

	path := filepath.Join(t.TempDir(), "agent.db")
	if err := os.WriteFile(path, full[:used/2], 0o600); err != nil {
		t.Fatal(err)
	}
	openRebuilt(t, path, "truncated")

	// Any cut: never a panic, and either a rebuild or an intact store.
	for _, n := range []int64{0, 1, 100, 4095, 4096, 8191, 8192, 8193, 3 * 4096, used / 3, used - 4096, used - 1, used, int64(len(full)) - 1} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agent.db")
			if err := os.WriteFile(path, full[:n], 0o600); err != nil {
				t.Fatal(err)
			}
			assertUsable(t, path, n >= used, n > 0 && n < used)
		})
	}
}

// assertUsable opens path and checks that the store works, and that it was
// (or was not) rebuilt where that is known.
func assertUsable(t *testing.T, path string, wantIntact, wantRebuilt bool) {
	t.Helper()
	s, err := Open(path, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	defer s.Close()
	if wantRebuilt && !s.Rebuilt() {
		t.Error("not rebuilt")
	}
	if wantIntact && s.Rebuilt() {
		t.Error("rebuilt an intact store")
	}
	rs, err := s.Resources()
	if err != nil {
		t.Fatalf("Resources: %v", err)
	}
	if !s.Rebuilt() && wantIntact && len(rs) != 300 {
		t.Errorf("intact store has %d resources, want 300", len(rs))
	}
	if _, err := s.Daemons(); err != nil {
		t.Errorf("Daemons: %v", err)
	}
	if err := s.Record(Change{Revision: "next", Put: []Resource{res("nginx/x.conf", "x", 0o644)}}); err != nil {
		t.Errorf("Record: %v", err)
	}
}

// TestOpenDamagedPagesNeverPanics damages pages of a real store in many
// ways: whatever bbolt would make of them, Open returns a usable store,
// rebuilt unless every value still reads back.
func TestOpenDamagedPagesNeverPanics(t *testing.T) {
	src := filepath.Join(t.TempDir(), "real.db")
	writeRealStore(t, src, 300)
	full, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	pages := int(usedSize(t, src) / 4096)
	const runs = 300
	rebuilt := 0
	for seed := range uint64(runs) {
		data := bytes.Clone(full)
		rng := rand.New(rand.NewPCG(seed, 7))
		off := (2 + rng.IntN(pages-2)) * 4096 // the meta pages have TestOpenGarbageRebuilds
		var how string
		switch seed % 5 {
		case 0:
			how = "random page"
			copy(data[off:], randomBytes(seed, 4096))
		case 1:
			how = "zeroed page"
			clear(data[off : off+4096])
		case 2:
			how = "random header fields"
			copy(data[off+8:off+16], randomBytes(seed, 8))
		case 3:
			how = "random element headers"
			copy(data[off+16:], randomBytes(seed, 32))
		case 4:
			how = "flipped bytes"
			for range 8 {
				data[off+16+rng.IntN(4080)] ^= byte(1 + rng.IntN(255))
			}
		}
		path := filepath.Join(t.TempDir(), "agent.db")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Run(fmt.Sprintf("%d %s at %d", seed, how, off), func(t *testing.T) {
			s, err := Open(path, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer s.Close()
			if s.Rebuilt() {
				rebuilt++
			} else {
				// Damage Open let through (unused space, a key's bytes)
				// must not break reads.
				if _, err := s.Resources(); err != nil {
					t.Errorf("not rebuilt, but Resources: %v", err)
				}
				if _, err := s.Daemons(); err != nil {
					t.Errorf("not rebuilt, but Daemons: %v", err)
				}
				if _, err := s.History(0); err != nil {
					t.Errorf("not rebuilt, but History: %v", err)
				}
			}
			if err := s.Record(Change{Revision: "next", Put: []Resource{res("nginx/x.conf", "x", 0o644)}}); err != nil {
				t.Errorf("Record: %v", err)
			}
		})
	}
	t.Logf("%d of %d damaged stores rebuilt", rebuilt, runs)
	if rebuilt < runs/2 {
		t.Errorf("only %d of %d damaged stores rebuilt", rebuilt, runs)
	}
}

// TestOpenFailedCheckRebuilds makes a store whose pages are all readable
// but which tx.Check rejects: its high-water mark is raised past a page
// that nothing uses or frees.
func TestOpenFailedCheckRebuilds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	writeRealStore(t, path, 3)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := newestMeta(data)
	if !ok {
		t.Fatal("no meta page")
	}
	ne := binary.NativeEndian
	b := data[(m.txid%2)*uint64(m.pageSize)+16:][:64]
	ne.PutUint64(b[40:], m.pgid+1)
	h := fnv.New64a()
	h.Write(b[:56])
	ne.PutUint64(b[56:], h.Sum64())
	if need := int(m.pgid+1) * int(m.pageSize); len(data) < need {
		data = append(data, make([]byte, need-len(data))...)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	openRebuilt(t, path, fmt.Sprintf("bbolt consistency check failed: page %d: unreachable unfreed", m.pgid))
}

func TestOpenOtherSchemaRebuilds(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edit   func(tx *bolt.Tx) error
		reason string
	}{
		{"newer version", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketSchema).Put(keySchemaVersion, []byte("2"))
		}, `schema version is \"2\", this agent uses 1`},
		{"no version", func(tx *bolt.Tx) error {
			return tx.Bucket(bucketSchema).Delete(keySchemaVersion)
		}, "no schema version"},
		{"foreign bbolt file", func(tx *bolt.Tx) error {
			if err := tx.DeleteBucket(bucketSchema); err != nil {
				return err
			}
			_, err := tx.CreateBucket([]byte("someone_else"))
			return err
		}, "no schema bucket"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "agent.db")
			writeRealStore(t, path, 3)
			db, err := bolt.Open(path, 0o600, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := db.Update(tc.edit); err != nil {
				t.Fatal(err)
			}
			db.Close()
			openRebuilt(t, path, tc.reason)
		})
	}
}

func TestOpenKeepsThreeCorruptCopies(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	for i := range 5 {
		if err := os.WriteFile(path, []byte(fmt.Sprintf("garbage %d", i)), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path, nil)
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	copies, err := corruptCopies(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(copies) != 3 {
		t.Fatalf("corrupt copies: %v, want 3", copies)
	}
	for i, c := range copies {
		if b, _ := os.ReadFile(c.name); string(b) != fmt.Sprintf("garbage %d", i+2) {
			t.Errorf("%s holds %q, want the newest three", c.name, b)
		}
	}
}

func TestOpenWhileOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetMeta("k", "v"); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	s2, err := Open(path, nil)
	if err == nil {
		s2.Close()
		t.Fatal("second Open succeeded")
	}
	if want := "open agent store " + path + ": another process has it open (gave up after 1s)"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if d := time.Since(start); d > 10*openTimeout {
		t.Errorf("second Open took %s", d)
	}
	if copies, _ := corruptCopies(path); len(copies) != 0 {
		t.Errorf("a store in use was moved aside: %v", copies)
	}
	if v, err := s.Meta("k"); v != "v" || err != nil {
		t.Errorf("first store after the failed Open: Meta = %q, %v", v, err)
	}
}

func TestOpenUnopenablePathIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "agent.db")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(path, nil); err == nil {
		s.Close()
		t.Fatal("Open of a directory succeeded")
	}
	if copies, _ := corruptCopies(path); len(copies) != 0 {
		t.Errorf("moved aside: %v", copies)
	}
}

func randomBytes(seed uint64, n int) []byte {
	rng := rand.New(rand.NewPCG(seed, 99))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
	return b
}
