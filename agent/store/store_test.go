package store

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// openTest opens a new store in a temporary directory.
func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "agent.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// reopen closes s and opens its file again, which must not be rebuilt.
func reopen(t *testing.T, s *Store) *Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(s.Path(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	if s.Rebuilt() {
		t.Fatal("reopening an intact store rebuilt it")
	}
	return s
}

func res(key, data string, mode fs.FileMode) Resource {
	sum := sha256.Sum256([]byte(data))
	return Resource{Key: key, Mode: mode, Hash: hex.EncodeToString(sum[:]), Data: []byte(data)}
}

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 123456789, time.UTC)

// snapshot is everything a Store holds, for comparing whole states.
type snapshot struct {
	Revision  string
	At        time.Time
	Resources map[string]Resource
	Daemons   map[string]DaemonStatus
	History   []HistoryEntry
}

func snap(t *testing.T, s *Store) snapshot {
	t.Helper()
	var sn snapshot
	var err error
	if sn.Revision, sn.At, err = s.Applied(); err != nil {
		t.Fatal(err)
	}
	if sn.Resources, err = s.Resources(); err != nil {
		t.Fatal(err)
	}
	if sn.Daemons, err = s.Daemons(); err != nil {
		t.Fatal(err)
	}
	if sn.History, err = s.History(0); err != nil {
		t.Fatal(err)
	}
	return sn
}

func TestRecordRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state", "agent.db")
	s, err := Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Rebuilt() {
		t.Error("a new store reports Rebuilt")
	}
	if rev, at, err := s.Applied(); err != nil || rev != "" || !at.IsZero() {
		t.Errorf("Applied on a new store = %q, %v, %v", rev, at, err)
	}

	nginx := res("nginx/locations/acme_main.conf", "location /app { proxy_pass http://10.0.0.1:8001; }\n", 0o644)
	secret := res("supervisor/acme_main.conf", "[program:acme_main]\n", 0o600)
	empty := Resource{Key: "nginx/empty.conf", Mode: 0o644, Data: nil} // Hash computed by Record
	worker := DaemonStatus{
		Key: "acme/main/worker", Node: "web-1a", Status: "running", Revision: "abc123",
		PIDs: []int{101, 102}, Since: t0,
	}
	failing := DaemonStatus{
		Key: "acme/main/cron", Node: "web-1a", Status: "failed", Reason: "exited too quickly",
		Revision: "abc123", Attempts: 3, NextRetry: t0.Add(time.Minute), Since: t0,
	}
	err = s.Record(Change{
		Revision: "abc123",
		At:       t0,
		Put:      []Resource{nginx, secret, empty},
		Daemons:  []DaemonStatus{worker, failing},
		History:  &HistoryEntry{Revision: "abc123", Result: ResultApplied, Summary: "3 files, 2 daemons"},
	})
	if err != nil {
		t.Fatal(err)
	}

	emptySum := sha256.Sum256(nil)
	empty.Hash = hex.EncodeToString(emptySum[:])
	worker.CreatedAt, worker.UpdatedAt = t0, t0
	failing.CreatedAt, failing.UpdatedAt = t0, t0
	want := snapshot{
		Revision: "abc123",
		At:       t0,
		Resources: map[string]Resource{
			nginx.Key:  nginx,
			secret.Key: secret,
			empty.Key:  {Key: empty.Key, Mode: empty.Mode, Hash: empty.Hash, Data: []byte{}},
		},
		Daemons: map[string]DaemonStatus{worker.Key: worker, failing.Key: failing},
		History: []HistoryEntry{{Revision: "abc123", At: t0, Result: ResultApplied, Summary: "3 files, 2 daemons"}},
	}
	assertSnap(t, s, want)

	// Resource by key; returned data is a copy the caller may change.
	got, ok, err := s.Resource(nginx.Key)
	if err != nil || !ok || !reflect.DeepEqual(got, nginx) {
		t.Errorf("Resource(%q) = %+v, %v, %v", nginx.Key, got, ok, err)
	}
	got.Data[0] = 'X'
	all, _ := s.Resources()
	all[secret.Key].Data[0] = 'X'
	assertSnap(t, s, want)
	if _, ok, err := s.Resource("nginx/missing.conf"); ok || err != nil {
		t.Errorf("Resource(missing) = %v, %v", ok, err)
	}
	// Without data: the same resources, their Data nil.
	meta, err := s.ResourcesWithoutData()
	if err != nil {
		t.Fatal(err)
	}
	wantMeta := map[string]Resource{}
	for k, r := range want.Resources {
		r.Data = nil
		wantMeta[k] = r
	}
	if !reflect.DeepEqual(meta, wantMeta) {
		t.Errorf("ResourcesWithoutData() = %+v, want %+v", meta, wantMeta)
	}

	// Second apply: replace one file, delete one, update one daemon (its
	// CreatedAt is kept), delete the other; persisted across reopen.
	t1 := t0.Add(time.Hour)
	nginx2 := res(nginx.Key, "location /app { proxy_pass http://10.0.0.1:8002; }\n", 0o640)
	worker2 := worker
	worker2.Revision, worker2.CreatedAt, worker2.UpdatedAt, worker2.PIDs = "def456", time.Time{}, time.Time{}, []int{201}
	err = s.Record(Change{
		Revision:      "def456",
		At:            t1,
		Put:           []Resource{nginx2},
		Delete:        []string{secret.Key, "never/installed"},
		Daemons:       []DaemonStatus{worker2},
		DeleteDaemons: []string{failing.Key},
		History:       &HistoryEntry{Revision: "def456", Result: ResultApplied},
	})
	if err != nil {
		t.Fatal(err)
	}
	// A change with no revision leaves the applied revision alone.
	if err := s.Record(Change{At: t1.Add(time.Minute), History: &HistoryEntry{Revision: "def456", Result: ResultUnchanged}}); err != nil {
		t.Fatal(err)
	}
	s = reopen(t, s)
	worker2.CreatedAt, worker2.UpdatedAt = t0, t1
	assertSnap(t, s, snapshot{
		Revision: "def456",
		At:       t1,
		Resources: map[string]Resource{
			nginx.Key: nginx2,
			empty.Key: want.Resources[empty.Key],
		},
		Daemons: map[string]DaemonStatus{worker.Key: worker2},
		History: []HistoryEntry{
			{Revision: "def456", At: t1.Add(time.Minute), Result: ResultUnchanged},
			{Revision: "def456", At: t1, Result: ResultApplied},
			want.History[0],
		},
	})
}

func assertSnap(t *testing.T, s *Store, want snapshot) {
	t.Helper()
	got := snap(t, s)
	// Times come back from JSON/RFC 3339 in UTC; compare them as instants.
	norm := func(sn snapshot) string {
		sn.At = sn.At.UTC()
		for k, d := range sn.Daemons {
			d.NextRetry, d.Since, d.CreatedAt, d.UpdatedAt = d.NextRetry.UTC(), d.Since.UTC(), d.CreatedAt.UTC(), d.UpdatedAt.UTC()
			sn.Daemons[k] = d
		}
		for i := range sn.History {
			sn.History[i].At = sn.History[i].At.UTC()
		}
		return fmt.Sprintf("%+v", sn)
	}
	if g, w := norm(got), norm(want); g != w {
		t.Errorf("store holds\n%s\nwant\n%s", g, w)
	}
}

// TestRecordAtomic makes Record fail part-way through its transaction and
// checks that nothing of the change was written.
func TestRecordAtomic(t *testing.T) {
	s := openTest(t)
	base := Change{
		Revision: "good",
		At:       t0,
		Put:      []Resource{res("nginx/a.conf", "a", 0o644), res("nginx/b.conf", "b", 0o644)},
		Daemons:  []DaemonStatus{{Key: "acme/main/worker", Status: "running"}},
		History:  &HistoryEntry{Revision: "good", Result: ResultApplied},
	}
	if err := s.Record(base); err != nil {
		t.Fatal(err)
	}
	before := snap(t, s)

	bad := res("nginx/c.conf", "c", 0o644)
	bad.Hash = strings.Repeat("0", 64)
	for _, tc := range []struct {
		name    string
		mutate  func(*Change)
		wantErr string
	}{
		{"hash mismatch after other writes", func(c *Change) {
			c.Put = append(c.Put, bad)
		}, `put resource "nginx/c.conf": hash 0000`},
		{"empty resource key", func(c *Change) {
			c.Put = append(c.Put, Resource{Data: []byte("x")})
		}, "put resource: empty key"},
		{"put and delete the same key", func(c *Change) {
			c.Delete = append(c.Delete, "nginx/z.conf")
		}, `put resource "nginx/z.conf": it is also deleted`},
		{"empty daemon key", func(c *Change) {
			c.Daemons = append(c.Daemons, DaemonStatus{Status: "running"})
		}, "put daemon status: empty key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Everything a change can do, and each of these steps is
			// written before the failing one.
			c := Change{
				Revision:      "bad",
				At:            t0.Add(time.Hour),
				Put:           []Resource{res("nginx/a.conf", "changed", 0o600), res("nginx/z.conf", "new", 0o644)},
				Delete:        []string{"nginx/b.conf"},
				Daemons:       []DaemonStatus{{Key: "acme/main/other", Status: "provisioning"}},
				DeleteDaemons: []string{"acme/main/worker"},
				History:       &HistoryEntry{Revision: "bad", Result: ResultApplied},
			}
			tc.mutate(&c)
			err := s.Record(c)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Record = %v, want an error containing %q", err, tc.wantErr)
			}
			assertSnap(t, s, before)
		})
	}
}

func TestHistoryKeepsLast100(t *testing.T) {
	s := openTest(t)
	for i := range 150 {
		rev := fmt.Sprintf("r%03d", i)
		err := s.Record(Change{Revision: rev, At: t0.Add(time.Duration(i) * time.Second),
			History: &HistoryEntry{Revision: rev, Result: ResultApplied}})
		if err != nil {
			t.Fatal(err)
		}
	}
	all, err := s.History(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 100 || all[0].Revision != "r149" || all[99].Revision != "r050" {
		t.Fatalf("History(0): %d entries, %s..%s; want 100, r149..r050", len(all), all[0].Revision, all[len(all)-1].Revision)
	}
	for i := 1; i < len(all); i++ {
		if !all[i].At.Before(all[i-1].At) {
			t.Fatalf("History not newest first at %d", i)
		}
	}
	// Many transactions later the file is still judged intact.
	s = reopen(t, s)
	if all, _ := s.History(0); len(all) != 100 {
		t.Fatalf("after reopening, History(0) has %d entries", len(all))
	}
	five, err := s.History(5)
	if err != nil || len(five) != 5 || five[4].Revision != "r145" {
		t.Fatalf("History(5) = %v, %v", five, err)
	}
	if err := s.db.View(func(tx *bolt.Tx) error {
		if n := tx.Bucket(bucketHistory).Stats().KeyN; n != 100 {
			t.Errorf("history bucket holds %d keys, want 100", n)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

func TestRejectionsKeepLast20(t *testing.T) {
	s := openTest(t)
	for i := range 25 {
		err := s.Reject(Rejection{Revision: fmt.Sprintf("r%02d", i), At: t0.Add(time.Duration(i) * time.Second),
			Diagnostics: fmt.Sprintf("spec/acme.hcl:%d,3-9: Duplicate port", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
	for i := range 25 {
		rev := fmt.Sprintf("r%02d", i)
		r, ok, err := s.Rejection(rev)
		if err != nil {
			t.Fatal(err)
		}
		if ok != (i >= 5) {
			t.Errorf("Rejection(%s) found = %v, want %v", rev, ok, i >= 5)
		}
		if ok && (r.Revision != rev || !r.At.Equal(t0.Add(time.Duration(i)*time.Second)) || !strings.Contains(r.Diagnostics, "Duplicate port")) {
			t.Errorf("Rejection(%s) = %+v", rev, r)
		}
	}
	// Rejecting r05 again makes it the newest: the next one evicts r06.
	if err := s.Reject(Rejection{Revision: "r05", Diagnostics: "again"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Reject(Rejection{Revision: "r25", Diagnostics: "new"}); err != nil {
		t.Fatal(err)
	}
	if r, ok, _ := s.Rejection("r05"); !ok || r.Diagnostics != "again" || r.At.IsZero() {
		t.Errorf("Rejection(r05) = %+v, %v; want the newer record", r, ok)
	}
	if _, ok, _ := s.Rejection("r06"); ok {
		t.Error("r06 was kept; it was the oldest")
	}
	s = reopen(t, s)
	if _, ok, _ := s.Rejection("r25"); !ok {
		t.Error("after reopening, r25 is gone")
	}
	if err := s.Reject(Rejection{}); err == nil {
		t.Error("Reject with an empty revision succeeded")
	}
}

func TestMeta(t *testing.T) {
	s := openTest(t)
	if v, err := s.Meta(MetaSourceError); err != nil || v != "" {
		t.Fatalf("Meta on a new store = %q, %v", v, err)
	}
	if err := s.SetMeta(MetaPendingRestarts, "daemon-a daemon-b"); err != nil {
		t.Fatal(err)
	}
	if err := s.SetMeta(MetaSourceError, "dial tcp: connection refused"); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Meta(MetaPendingRestarts); v != "daemon-a daemon-b" {
		t.Errorf("Meta(pending_restarts) = %q", v)
	}
	if err := s.SetMeta(MetaSourceError, ""); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Meta(MetaSourceError); v != "" {
		t.Errorf("Meta(source_error) after clearing = %q", v)
	}
	if err := s.SetMeta("", "x"); err == nil {
		t.Error("SetMeta with an empty key succeeded")
	}
}

// Passes that end the same way in a row (a retry of the same failure) are
// counted on one entry; a different one starts a new entry.
func TestHistoryCountsRepeats(t *testing.T) {
	s := openTest(t)
	rec := func(i int, result, summary string) {
		t.Helper()
		at := t0.Add(time.Duration(i) * time.Minute)
		if err := s.Record(Change{Revision: "r1", At: at, History: &HistoryEntry{Revision: "r1", Result: result, Summary: summary}}); err != nil {
			t.Fatal(err)
		}
	}
	rec(0, ResultApplied, "2 changes")
	for i := 1; i <= 40; i++ {
		rec(i, ResultFailed, "0 changes: nginx: broken")
	}
	rec(41, ResultApplied, "1 change")
	all, err := s.History(0)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 || all[1].Result != ResultFailed || all[1].Repeats != 39 ||
		!all[1].At.Equal(t0.Add(time.Minute)) || !all[1].Last.Equal(t0.Add(40*time.Minute)) || all[0].Repeats != 0 {
		t.Fatalf("history %+v, want 3 entries, the failure once with 39 repeats", all)
	}
}
