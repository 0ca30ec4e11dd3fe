package store

import (
	"bytes"
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Reject records a rejected revision, replacing an earlier record of the
// same revision; the newest rejectionLimit are kept.
func (s *Store) Reject(r Rejection) error {
	if r.Revision == "" {
		return fmt.Errorf("record rejection: empty revision")
	}
	if r.At.IsZero() {
		r.At = time.Now()
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRejections)
		seq, err := b.NextSequence()
		if err != nil {
			return err
		}
		v, err := json.Marshal(rejectionRecord{Rejection: r, Seq: seq})
		if err != nil {
			return err
		}
		if err := b.Put([]byte(r.Revision), v); err != nil {
			return err
		}
		type aged struct {
			key []byte
			seq uint64
		}
		var all []aged
		err = b.ForEach(func(k, v []byte) error {
			var rec rejectionRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("rejection %q: %w", k, err)
			}
			all = append(all, aged{bytes.Clone(k), rec.Seq})
			return nil
		})
		if err != nil {
			return err
		}
		slices.SortFunc(all, func(a, b aged) int { return cmp.Compare(a.seq, b.seq) })
		for len(all) > rejectionLimit {
			if err := b.Delete(all[0].key); err != nil {
				return err
			}
			all = all[1:]
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record rejection of %q in agent store: %w", r.Revision, err)
	}
	return nil
}

// Rejection returns the recorded rejection of rev, and whether there is one.
func (s *Store) Rejection(rev string) (Rejection, bool, error) {
	var rec rejectionRecord
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRejections).Get([]byte(rev))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &rec)
	})
	if err != nil {
		return Rejection{}, false, fmt.Errorf("read rejection of %q from agent store: %w", rev, err)
	}
	return rec.Rejection, ok, nil
}
