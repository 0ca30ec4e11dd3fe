// Package store is the drover agent's record of what it applied, kept in a
// bbolt file under state_dir: the applied revision, every resource it
// installed (contents, mode, hash), per-daemon status, recent history and
// rejections, and a few small values about the source.
//
// It is a cache: everything in it can be recovered by applying from Git
// again. Open therefore rebuilds an unusable file instead of failing (see
// Open), and Record writes a whole change in one transaction, so the store
// never describes half an apply.
package store

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/drover-sh/drover/netstate"
	"github.com/drover-sh/drover/render"
)

const (
	// historyLimit is how many HistoryEntry values Record keeps.
	historyLimit = 100
	// rejectionLimit is how many Rejection values Reject keeps.
	rejectionLimit = 20
)

// Results of a reconcile, for HistoryEntry.Result. The store does not
// reject others: refusing a whole Change over a label would lose the rest.
const (
	ResultApplied   = "applied"
	ResultRejected  = "rejected"
	ResultFailed    = "failed"
	ResultUnchanged = "unchanged"
)

// Store is the agent's bbolt store. Its methods are safe for concurrent use.
type Store struct {
	db      *bolt.DB
	path    string
	rebuilt bool
}

// Resource is a file the agent installed.
type Resource struct {
	Key   string // "{root}/{path}", e.g. "nginx/locations/acme_main.conf"
	Owner render.Owner
	Mode  fs.FileMode
	Hash  string // sha256 of Data, lowercase hex
	Data  []byte
}

// resourceMeta is a Resource without its Data, as stored in bucketResources.
type resourceMeta struct {
	Owner render.Owner `json:"owner,omitzero"`
	Mode  fs.FileMode  `json:"mode"`
	Hash  string       `json:"hash"`
	Size  int          `json:"size"`
}

// DaemonStatus is the agent's view of one daemon on this node.
type DaemonStatus struct {
	Key       string    `json:"key"` // "tenant/webroot/daemon"
	Node      string    `json:"node"`
	Status    string    `json:"status"` // provisioning, running, stopped, crash-looping, failed
	Reason    string    `json:"reason,omitempty"`
	Revision  string    `json:"revision"`
	PIDs      []int     `json:"pids,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	NextRetry time.Time `json:"next_retry,omitzero"`
	Since     time.Time `json:"since,omitzero"`      // in this Status since
	CreatedAt time.Time `json:"created_at,omitzero"` // first applied
	UpdatedAt time.Time `json:"updated_at,omitzero"` // last applied
	// Restarts counts the starts after a process ended (agent/restart).
	Restarts int `json:"restarts,omitempty"`
	// LastExit is how a process last ended; Stderr the cleaned end of its
	// stderr log then.
	LastExit *Exit  `json:"last_exit,omitempty"`
	Stderr   string `json:"stderr,omitempty"`
	// OOMKills is the OOM-kill count of the daemon's memory cgroup when
	// its last exit was recorded: one more means the kernel ended it.
	OOMKills int `json:"oom_kills,omitempty"`
	// OperatorRestartAt is when an operator last restarted the daemon
	// (drover restart).
	OperatorRestartAt time.Time `json:"operator_restart_at,omitzero"`
}

// Exit is how a daemon's process ended.
type Exit struct {
	// Started and At are when the run began and ended (supervisord's
	// times: whole seconds); both tell one exit from the next.
	Started time.Time `json:"started"`
	At      time.Time `json:"at"`
	// Status is the exit status, -1 when a signal killed it.
	Status int `json:"status"`
	// Text says it in words: "exit status 1 after 2s".
	Text string `json:"text"`
}

// HistoryEntry is one reconcile.
type HistoryEntry struct {
	Revision string    `json:"revision"`
	At       time.Time `json:"at"`
	Result   string    `json:"result"` // ResultApplied, ResultRejected, ResultFailed, ResultUnchanged
	Summary  string    `json:"summary,omitempty"`
	// Repeats counts the passes after the first that ended the same way
	// (revision, result and summary) in a row, Last when the last did: a
	// retry of the same failure is counted, not appended.
	Repeats int       `json:"repeats,omitempty"`
	Last    time.Time `json:"last,omitzero"`
}

// same reports whether h ended the way e did.
func (h HistoryEntry) same(e HistoryEntry) bool {
	return h.Revision == e.Revision && h.Result == e.Result && h.Summary == e.Summary
}

// Rejection is a revision that failed validation and was not applied.
type Rejection struct {
	Revision    string    `json:"revision"`
	At          time.Time `json:"at"`
	Diagnostics string    `json:"diagnostics"`
}

// rejectionRecord is a Rejection as stored; Seq orders them for trimming.
type rejectionRecord struct {
	Rejection
	Seq uint64 `json:"seq"`
}

// Change is everything one apply changed. Record writes it atomically.
type Change struct {
	Revision      string         // new applied revision; "" = unchanged
	At            time.Time      // when; zero means now
	Put           []Resource     // installed or replaced resources; an empty Hash is computed
	Delete        []string       // keys of resources no longer installed
	Daemons       []DaemonStatus // upserted by Key
	DeleteDaemons []string       // keys of daemons removed
	History       *HistoryEntry  // appended; the last historyLimit are kept
	// Network is the network state now applied; nil = unchanged.
	Network *netstate.State
	// DeleteNetwork forgets the network state (after an uninstall).
	DeleteNetwork bool
}

// Close closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Rebuilt reports whether Open found the file unusable and started afresh.
func (s *Store) Rebuilt() bool { return s.rebuilt }

// Path is the store's file.
func (s *Store) Path() string { return s.path }

// Record writes c in one transaction: if any part of it is invalid (an
// empty key, a Hash that does not match its Data, a key both put and
// deleted) or fails, nothing of it is written. Data is only read during the
// call.
//
// Daemons keep the CreatedAt already stored when theirs is zero (or get
// c.At if new), and get c.At as UpdatedAt when theirs is zero. A History
// entry with a zero At gets c.At.
func (s *Store) Record(c Change) error {
	if c.At.IsZero() {
		c.At = time.Now()
	}
	deleted := make(map[string]bool, len(c.Delete))
	for _, k := range c.Delete {
		deleted[k] = true
	}
	// Put in key order: bbolt fills pages sequentially instead of splitting.
	puts := slices.Clone(c.Put)
	slices.SortStableFunc(puts, func(a, b Resource) int { return strings.Compare(a.Key, b.Key) })

	err := s.db.Update(func(tx *bolt.Tx) error {
		if c.Revision != "" {
			b := tx.Bucket(bucketApplied)
			if err := b.Put(keyAppliedRevision, []byte(c.Revision)); err != nil {
				return err
			}
			if err := b.Put(keyAppliedAt, []byte(c.At.Format(time.RFC3339Nano))); err != nil {
				return err
			}
		}

		meta, data := tx.Bucket(bucketResources), tx.Bucket(bucketResourceData)
		for _, k := range c.Delete {
			if err := meta.Delete([]byte(k)); err != nil {
				return fmt.Errorf("delete resource %q: %w", k, err)
			}
			if err := data.Delete([]byte(k)); err != nil {
				return fmt.Errorf("delete resource %q: %w", k, err)
			}
		}
		for _, r := range puts {
			if err := putResource(meta, data, r, deleted); err != nil {
				return err
			}
		}
		if err := putNetwork(tx.Bucket(bucketApplied), c); err != nil {
			return err
		}

		daemons := tx.Bucket(bucketDaemons)
		for _, k := range c.DeleteDaemons {
			if err := daemons.Delete([]byte(k)); err != nil {
				return fmt.Errorf("delete daemon %q: %w", k, err)
			}
		}
		for _, d := range c.Daemons {
			if err := putDaemon(daemons, d, c.At); err != nil {
				return err
			}
		}

		if c.History != nil {
			h := *c.History
			if h.At.IsZero() {
				h.At = c.At
			}
			if err := appendHistory(tx.Bucket(bucketHistory), h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record change to agent store: %w", err)
	}
	return nil
}

func putResource(meta, data *bolt.Bucket, r Resource, deleted map[string]bool) error {
	if r.Key == "" {
		return fmt.Errorf("put resource: empty key")
	}
	if deleted[r.Key] {
		return fmt.Errorf("put resource %q: it is also deleted in the same change", r.Key)
	}
	sum := sha256.Sum256(r.Data)
	hash := hex.EncodeToString(sum[:])
	if r.Hash == "" {
		r.Hash = hash
	} else if r.Hash != hash {
		return fmt.Errorf("put resource %q: hash %s does not match its data (sha256 %s)", r.Key, r.Hash, hash)
	}
	v, err := json.Marshal(resourceMeta{Owner: r.Owner, Mode: r.Mode, Hash: r.Hash, Size: len(r.Data)})
	if err != nil {
		return fmt.Errorf("put resource %q: %w", r.Key, err)
	}
	if err := meta.Put([]byte(r.Key), v); err != nil {
		return fmt.Errorf("put resource %q: %w", r.Key, err)
	}
	// bbolt references r.Data until commit, which happens before Record
	// returns: no copy needed. An empty file is stored as an empty value.
	d := r.Data
	if d == nil {
		d = []byte{}
	}
	if err := data.Put([]byte(r.Key), d); err != nil {
		return fmt.Errorf("put resource %q: %w", r.Key, err)
	}
	return nil
}

func putDaemon(b *bolt.Bucket, d DaemonStatus, at time.Time) error {
	if d.Key == "" {
		return fmt.Errorf("put daemon status: empty key")
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = at
		if old := b.Get([]byte(d.Key)); old != nil {
			var prev DaemonStatus
			if err := json.Unmarshal(old, &prev); err == nil && !prev.CreatedAt.IsZero() {
				d.CreatedAt = prev.CreatedAt
			}
		}
	}
	if d.UpdatedAt.IsZero() {
		d.UpdatedAt = at
	}
	v, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("put daemon status %q: %w", d.Key, err)
	}
	if err := b.Put([]byte(d.Key), v); err != nil {
		return fmt.Errorf("put daemon status %q: %w", d.Key, err)
	}
	return nil
}

func appendHistory(b *bolt.Bucket, h HistoryEntry) error {
	if k, v := b.Cursor().Last(); k != nil {
		var last HistoryEntry
		if json.Unmarshal(v, &last) == nil && last.same(h) {
			last.Repeats++
			last.Last = h.At
			v, err := json.Marshal(last)
			if err != nil {
				return fmt.Errorf("count history for %q: %w", h.Revision, err)
			}
			return b.Put(bytes.Clone(k), v)
		}
	}
	v, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("append history for %q: %w", h.Revision, err)
	}
	seq, err := b.NextSequence()
	if err != nil {
		return fmt.Errorf("append history for %q: %w", h.Revision, err)
	}
	if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), v); err != nil {
		return fmt.Errorf("append history for %q: %w", h.Revision, err)
	}
	// Keep the newest historyLimit: walk back from the end, delete the rest.
	c := b.Cursor()
	var drop [][]byte
	n := 0
	for k, _ := c.Last(); k != nil; k, _ = c.Prev() {
		if n++; n > historyLimit {
			drop = append(drop, bytes.Clone(k))
		}
	}
	for _, k := range drop {
		if err := b.Delete(k); err != nil {
			return fmt.Errorf("trim history: %w", err)
		}
	}
	return nil
}
