package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Reads: what is installed, statuses and history, each in one View
// transaction, values copied out of it.

// Applied returns the revision last applied and when; "" if none yet.
func (s *Store) Applied() (revision string, at time.Time, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketApplied)
		revision = string(b.Get(keyAppliedRevision))
		if v := b.Get(keyAppliedAt); v != nil {
			t, err := time.Parse(time.RFC3339Nano, string(v))
			if err != nil {
				return fmt.Errorf("applied time %q: %w", v, err)
			}
			at = t
		}
		return nil
	})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("read applied revision from agent store: %w", err)
	}
	return revision, at, nil
}

// Resources returns every installed resource, keyed by Key. The values are
// copies, the caller's to keep.
func (s *Store) Resources() (map[string]Resource, error) {
	out := map[string]Resource{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return eachResource(tx, func(r Resource) error {
			r.Data = bytes.Clone(r.Data)
			out[r.Key] = r
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read resources from agent store: %w", err)
	}
	return out, nil
}

// ResourcesWithoutData returns every installed resource, keyed by Key,
// without its Data: for comparing by Hash, it reads only the resources'
// metadata (not their contents' pages, nor a copy of them).
func (s *Store) ResourcesWithoutData() (map[string]Resource, error) {
	out := map[string]Resource{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketResources).ForEach(func(k, v []byte) error {
			var m resourceMeta
			if err := json.Unmarshal(v, &m); err != nil {
				return fmt.Errorf("resource %q: %w", k, err)
			}
			key := string(k)
			out[key] = Resource{Key: key, Owner: m.Owner, Mode: m.Mode, Hash: m.Hash}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read resources from agent store: %w", err)
	}
	return out, nil
}

// Resource returns one installed resource, and whether it exists.
func (s *Store) Resource(key string) (Resource, bool, error) {
	var r Resource
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketResources).Get([]byte(key))
		if v == nil {
			return nil
		}
		var err error
		r, err = readResource([]byte(key), v, tx.Bucket(bucketResourceData))
		ok = err == nil
		return err
	})
	if err != nil {
		return Resource{}, false, fmt.Errorf("read resource %q from agent store: %w", key, err)
	}
	return r, ok, nil
}

// eachResource calls fn with every resource, its Data only valid during tx.
// bucketResources and bucketResourceData hold the same keys, so both are
// read in step rather than looking each key up.
func eachResource(tx *bolt.Tx, fn func(Resource) error) error {
	mc, dc := tx.Bucket(bucketResources).Cursor(), tx.Bucket(bucketResourceData).Cursor()
	mk, mv := mc.First()
	dk, dv := dc.First()
	for ; mk != nil || dk != nil; mk, mv, dk, dv = nextPair(mc, dc) {
		if !bytes.Equal(mk, dk) {
			return fmt.Errorf("resource %q: metadata and contents are out of step (contents for %q)", mk, dk)
		}
		var m resourceMeta
		if err := json.Unmarshal(mv, &m); err != nil {
			return fmt.Errorf("resource %q: %w", mk, err)
		}
		if len(dv) != m.Size {
			return fmt.Errorf("resource %q: contents are %d bytes, want %d", mk, len(dv), m.Size)
		}
		if err := fn(Resource{Key: string(mk), Owner: m.Owner, Mode: m.Mode, Hash: m.Hash, Data: dv}); err != nil {
			return err
		}
	}
	return nil
}

func nextPair(mc, dc *bolt.Cursor) (mk, mv, dk, dv []byte) {
	mk, mv = mc.Next()
	dk, dv = dc.Next()
	return
}

func readResource(k, v []byte, data *bolt.Bucket) (Resource, error) {
	var m resourceMeta
	if err := json.Unmarshal(v, &m); err != nil {
		return Resource{}, fmt.Errorf("resource %q: %w", k, err)
	}
	d := data.Get(k)
	if len(d) != m.Size {
		return Resource{}, fmt.Errorf("resource %q: stored data is missing or has the wrong size", k)
	}
	return Resource{Key: string(k), Owner: m.Owner, Mode: m.Mode, Hash: m.Hash, Data: bytes.Clone(d)}, nil
}

// Daemons returns every daemon's status, keyed by Key.
func (s *Store) Daemons() (map[string]DaemonStatus, error) {
	out := map[string]DaemonStatus{}
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketDaemons).ForEach(func(k, v []byte) error {
			var d DaemonStatus
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("daemon %q: %w", k, err)
			}
			out[d.Key] = d
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read daemons from agent store: %w", err)
	}
	return out, nil
}

// History returns up to n entries, newest first; n <= 0 means all kept.
func (s *Store) History(n int) ([]HistoryEntry, error) {
	var out []HistoryEntry
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHistory).Cursor()
		for k, v := c.Last(); k != nil && (n <= 0 || len(out) < n); k, v = c.Prev() {
			var h HistoryEntry
			if err := json.Unmarshal(v, &h); err != nil {
				return fmt.Errorf("history entry %x: %w", k, err)
			}
			out = append(out, h)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read history from agent store: %w", err)
	}
	return out, nil
}
