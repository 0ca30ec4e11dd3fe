package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/drover-sh/drover/netstate"
)

// Network returns the network state last applied, and whether there is
// one. It is what the agent re-applies at boot and compares the machine
// with to repair drift.
func (s *Store) Network() (netstate.State, bool, error) {
	var st netstate.State
	var ok bool
	err := s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketApplied).Get(keyAppliedNetwork)
		if v == nil {
			return nil
		}
		var err error
		st, err = netstate.Decode(v)
		ok = err == nil
		return err
	})
	if err != nil {
		return netstate.State{}, false, fmt.Errorf("read network state from agent store: %w", err)
	}
	if !ok {
		return s.legacyNetwork()
	}
	return st, ok, nil
}

// legacyNetworkKey is where agents before the network state had a key of
// its own recorded it: as an installed resource.
const legacyNetworkKey = "network/state.json"

// legacyNetwork reads the network state an earlier agent recorded, so a
// node upgraded and rebooted with its Git server down still gets its
// addresses back before the first fetch. The next pass records it in its
// own place and forgets the resource.
func (s *Store) legacyNetwork() (netstate.State, bool, error) {
	r, ok, err := s.Resource(legacyNetworkKey)
	if err != nil || !ok {
		return netstate.State{}, false, err
	}
	st, err := netstate.Decode(r.Data)
	if err != nil {
		return netstate.State{}, false, fmt.Errorf("read network state from agent store: %w", err)
	}
	return st, true, nil
}

// putNetwork records the network state of a change.
func putNetwork(b *bolt.Bucket, c Change) error {
	switch {
	case c.Network != nil && c.DeleteNetwork:
		return fmt.Errorf("record network state: it is both put and deleted in the same change")
	case c.Network != nil:
		if err := b.Put(keyAppliedNetwork, c.Network.Encode()); err != nil {
			return fmt.Errorf("record network state: %w", err)
		}
	case c.DeleteNetwork:
		if err := b.Delete(keyAppliedNetwork); err != nil {
			return fmt.Errorf("forget network state: %w", err)
		}
	}
	return nil
}
