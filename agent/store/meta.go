package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Meta returns the small value stored under key ("" if none), e.g.
// MetaSourceError.
func (s *Store) Meta(key string) (string, error) {
	var v string
	err := s.db.View(func(tx *bolt.Tx) error {
		v = string(tx.Bucket(bucketMeta).Get([]byte(key)))
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("read %q from agent store: %w", key, err)
	}
	return v, nil
}

// SetMeta stores a small value under key; "" deletes it.
func (s *Store) SetMeta(key, value string) error {
	if key == "" {
		return fmt.Errorf("set meta value: empty key")
	}
	err := s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketMeta)
		if value == "" {
			return b.Delete([]byte(key))
		}
		return b.Put([]byte(key), []byte(value))
	})
	if err != nil {
		return fmt.Errorf("write %q to agent store: %w", key, err)
	}
	return nil
}
