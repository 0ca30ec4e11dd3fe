package store

import (
	"bytes"
	"encoding/gob"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// resources3000 is a large node: 3,000 files, about 5 MB in all (nginx
// locations and supervisord programs of 200 B to 3.3 KB).
func resources3000() ([]Resource, int64) {
	var rs []Resource
	var total int64
	for i := range 3000 {
		line := fmt.Sprintf("    proxy_set_header X-Tenant-%04d $host; # padding to a realistic size\n", i)
		data := strings.Repeat(line, 3+i%45)
		root := "nginx/locations"
		if i%2 == 1 {
			root = "supervisor"
		}
		rs = append(rs, res(fmt.Sprintf("%s/t%04d_main.conf", root, i), data, 0o644))
		total += int64(len(data))
	}
	return rs, total
}

func openBench(b *testing.B) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "agent.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkRecord3000 records a full apply of 3,000 resources (each
// replacing the last one's), with its history entry, in one transaction.
func BenchmarkRecord3000(b *testing.B) {
	rs, total := resources3000()
	s := openBench(b)
	b.SetBytes(total)
	i := 0
	for b.Loop() {
		rev := fmt.Sprintf("rev%d", i)
		i++
		if err := s.Record(Change{Revision: rev, Put: rs, History: &HistoryEntry{Revision: rev, Result: ResultApplied}}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkResources3000 reads 3,000 resources back, contents copied.
func BenchmarkResources3000(b *testing.B) {
	rs, total := resources3000()
	s := openBench(b)
	if err := s.Record(Change{Revision: "r", Put: rs}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(total)
	for b.Loop() {
		got, err := s.Resources()
		if err != nil || len(got) != len(rs) {
			b.Fatal(len(got), err)
		}
	}
}

// BenchmarkOpen3000 opens a store of 3,000 resources, with every check
// Open makes (page walk, tx.Check, every value decoded and hashed).
func BenchmarkOpen3000(b *testing.B) {
	rs, total := resources3000()
	path := filepath.Join(b.TempDir(), "agent.db")
	s, err := Open(path, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Record(Change{Revision: "r", Put: rs}); err != nil {
		b.Fatal(err)
	}
	s.Close()
	b.SetBytes(total)
	for b.Loop() {
		s, err := Open(path, nil)
		if err != nil || s.Rebuilt() {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkLayout compares ways to store 3,000 resources in bbolt, writing
// all in one transaction and reading all back: the layout the store uses
// (JSON metadata, contents raw in a second bucket; its write also verifies
// each hash), one JSON value per
// resource (contents base64-encoded), and one gob value per resource.
func BenchmarkLayout(b *testing.B) {
	rs, total := resources3000()
	type jsonResource struct {
		Mode uint32 `json:"mode"`
		Hash string `json:"hash"`
		Data []byte `json:"data"`
	}
	layouts := []struct {
		name  string
		write func(tx *bolt.Tx, r Resource) error
		read  func(tx *bolt.Tx) error
	}{
		{"json-meta+raw", func(tx *bolt.Tx, r Resource) error {
			meta, data := tx.Bucket(bucketResources), tx.Bucket(bucketResourceData)
			return putResource(meta, data, r, nil)
		}, func(tx *bolt.Tx) error {
			return eachResource(tx, func(r Resource) error {
				_ = bytes.Clone(r.Data)
				return nil
			})
		}},
		{"json-base64", func(tx *bolt.Tx, r Resource) error {
			v, err := json.Marshal(jsonResource{uint32(r.Mode), r.Hash, r.Data})
			if err != nil {
				return err
			}
			return tx.Bucket(bucketResources).Put([]byte(r.Key), v)
		}, func(tx *bolt.Tx) error {
			return tx.Bucket(bucketResources).ForEach(func(k, v []byte) error {
				var r jsonResource
				return json.Unmarshal(v, &r)
			})
		}},
		{"gob", func(tx *bolt.Tx, r Resource) error {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(r); err != nil {
				return err
			}
			return tx.Bucket(bucketResources).Put([]byte(r.Key), buf.Bytes())
		}, func(tx *bolt.Tx) error {
			return tx.Bucket(bucketResources).ForEach(func(k, v []byte) error {
				var r Resource
				return gob.NewDecoder(bytes.NewReader(v)).Decode(&r)
			})
		}},
	}
	for _, l := range layouts {
		s := openBench(b)
		writeAll := func() {
			err := s.db.Update(func(tx *bolt.Tx) error {
				for _, r := range rs {
					if err := l.write(tx, r); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		writeAll() // so that read has something to read when run alone
		b.Run("write/"+l.name, func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				writeAll()
			}
		})
		b.Run("read/"+l.name, func(b *testing.B) {
			b.SetBytes(total)
			for b.Loop() {
				if err := s.db.View(l.read); err != nil {
					b.Fatal(err)
				}
			}
		})
		var size int64
		_ = s.db.View(func(tx *bolt.Tx) error { size = tx.Size(); return nil })
		b.Logf("%s: file pages %.1f MB for %.1f MB of contents", l.name, float64(size)/1e6, float64(total)/1e6)
	}
}
