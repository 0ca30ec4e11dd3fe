package store

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// openTimeout bounds the wait for bbolt's own file lock. The agent holds
// agent.lock (see Lock) before opening the store, so a wait here means some
// other process (a bbolt CLI, a stray agent on another state_dir layout) has
// the file open; waiting longer would not help.
var openTimeout = time.Second

// keepCorrupt is how many moved-aside stores (PATH.corrupt-<unix time>) are
// kept for a post-mortem; older ones are removed.
const keepCorrupt = 3

// corruptError says why an existing store file cannot be used.
type corruptError struct{ reason string }

func (e *corruptError) Error() string { return e.reason }

func corrupt(format string, args ...any) error {
	return &corruptError{reason: fmt.Sprintf(format, args...)}
}

// Open opens the store at path, creating it (and its directory, 0700) if
// missing. The store is a cache of what the agent applied, so a file that
// cannot be used — not a bbolt file, failing bbolt's consistency check,
// truncated, or written with another SchemaVersion — is moved aside to
// PATH.corrupt-<unix time>, a WARN is logged, and a fresh store is created;
// Rebuilt then reports true and the agent re-applies from Git.
//
// Errors that a rebuild cannot fix are returned: the directory or file
// cannot be opened at all, or another process holds the file open (Open gives
// up after openTimeout rather than waiting).
func Open(path string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open agent store %s: %w", path, err)
	}
	db, err := openChecked(path)
	if err == nil {
		return &Store{db: db, path: path}, nil
	}
	var ce *corruptError
	if !errors.As(err, &ce) {
		return nil, err
	}
	aside, mvErr := moveAside(path)
	if mvErr != nil {
		return nil, fmt.Errorf("move unusable agent store %s aside (%s): %w", path, ce.reason, mvErr)
	}
	log.Warn("agent store is unusable; rebuilding it from scratch, the agent will re-apply from Git",
		"path", path, "reason", ce.reason, "moved_to", aside)
	if db, err = openChecked(path); err != nil {
		return nil, fmt.Errorf("create fresh agent store %s: %w", path, err)
	}
	return &Store{db: db, path: path, rebuilt: true}, nil
}

// openChecked opens path with bbolt, creating it if missing, and makes sure
// it holds all buckets and the schema version. An existing file is checked
// first (see checkExisting); one that cannot be used is reported as a
// *corruptError.
//
// bbolt trusts its file: a damaged one can make it panic, or fault on a
// page past the end of a truncated file. Both happen in this goroutine
// (SetPanicOnFault turns a fault into a panic) and are recovered as
// corruption.
func openChecked(path string) (db *bolt.DB, err error) {
	o := &opener{path: path}
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			o.release()
			db, err = nil, corrupt("bbolt panicked reading the file: %v", r)
		}
	}()

	if info, statErr := os.Stat(path); statErr == nil && info.Mode().IsRegular() && info.Size() > 0 {
		if err := o.checkExisting(); err != nil {
			return nil, err
		}
	}
	if db, err = o.open(false, true); err != nil {
		return nil, err
	}
	if err = db.Update(createBuckets); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("initialise agent store %s: %w", path, err)
	}
	return db, nil
}

// opener opens one store file with bbolt, keeping every *os.File bbolt
// opens so that they can be released after a panic.
type opener struct {
	path  string
	files []*os.File
}

// open opens the file, read-only or not, loading the freelist or not.
// Once the file is open, any failure but waiting for its lock means the
// contents are unusable: a *corruptError.
func (o *opener) open(readOnly, preload bool) (*bolt.DB, error) {
	opened := false
	db, err := bolt.Open(o.path, 0o600, &bolt.Options{
		Timeout:         openTimeout,
		ReadOnly:        readOnly,
		PreLoadFreelist: preload, // always on in read-write mode
		OpenFile: func(name string, flag int, perm os.FileMode) (*os.File, error) {
			f, err := os.OpenFile(name, flag, perm)
			if f != nil {
				opened = true
				o.files = append(o.files, f)
			}
			return f, err
		},
	})
	switch {
	case err == nil:
		return db, nil
	case errors.Is(err, berrors.ErrTimeout):
		return nil, fmt.Errorf("open agent store %s: another process has it open (gave up after %s)", o.path, openTimeout)
	case !opened:
		return nil, fmt.Errorf("open agent store %s: %w", o.path, err)
	default:
		return nil, corrupt("bbolt cannot open it: %v", err)
	}
}

// release closes every file bbolt opened, which drops its flock; closing
// one already closed just errors.
func (o *opener) release() {
	for _, f := range o.files {
		_ = f.Close()
	}
}

// checkExisting checks an existing file through read-only handles, so a
// damaged one is never written to, and under bbolt's shared lock, so a file
// another process is writing is never judged.
func (o *opener) checkExisting() error {
	// Opening without the freelist reads only the two meta pages.
	lock, err := o.open(true, false)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := checkPages(o.path); err != nil {
		return err
	}
	// The pages are sound; load the freelist here rather than in
	// tx.Check's goroutine, where a panic could not be recovered.
	ro, err := o.open(true, true)
	if err != nil {
		return err
	}
	defer ro.Close()
	return check(ro)
}

// check returns a *corruptError unless db is a consistent store of this
// SchemaVersion, or a bbolt file with no buckets yet. db must be long
// enough for its pages and have its freelist loaded.
func check(db *bolt.DB) error {
	return db.View(func(tx *bolt.Tx) error {
		// Touch every page in this goroutine first, where a panic or a fault
		// is recovered; tx.Check then walks the same pages in its own one.
		if err := walk(tx); err != nil {
			return err
		}
		var problems []string
		for err := range tx.Check() {
			problems = append(problems, err.Error())
		}
		if len(problems) > 0 {
			if len(problems) > 3 {
				problems = append(problems[:3], fmt.Sprintf("and %d more", len(problems)-3))
			}
			return corrupt("bbolt consistency check failed: %s", strings.Join(problems, "; "))
		}
		if err := checkSchema(tx); err != nil {
			return err
		}
		return checkValues(tx)
	})
}

// checkValues decodes every value the store wrote and checks every
// resource's contents against its hash. bbolt has no checksums of its own
// for keys and values, so this is what notices a flipped bit in them.
func checkValues(tx *bolt.Tx) error {
	if tx.Bucket(bucketSchema) == nil {
		return nil // a new file
	}
	for _, name := range allBuckets {
		if tx.Bucket(name) == nil {
			return corrupt("bucket %s is missing", name)
		}
	}
	if v := tx.Bucket(bucketApplied).Get(keyAppliedAt); v != nil {
		if _, err := time.Parse(time.RFC3339Nano, string(v)); err != nil {
			return corrupt("applied time %q is not a time", v)
		}
	}
	err := eachResource(tx, func(r Resource) error {
		if sum := sha256.Sum256(r.Data); hex.EncodeToString(sum[:]) != r.Hash {
			return fmt.Errorf("resource %q does not match its hash", r.Key)
		}
		return nil
	})
	if err != nil {
		return corrupt("%v", err)
	}
	decode := func(name []byte, into func() any) error {
		return tx.Bucket(name).ForEach(func(k, v []byte) error {
			if err := json.Unmarshal(v, into()); err != nil {
				return corrupt("%s %q: %v", name, k, err)
			}
			return nil
		})
	}
	if err := decode(bucketDaemons, func() any { return new(DaemonStatus) }); err != nil {
		return err
	}
	if err := decode(bucketHistory, func() any { return new(HistoryEntry) }); err != nil {
		return err
	}
	return decode(bucketRejections, func() any { return new(rejectionRecord) })
}

// walk reads every key and value of every bucket.
func walk(tx *bolt.Tx) error {
	var visit func(b *bolt.Bucket) error
	visit = func(b *bolt.Bucket) error {
		return b.ForEach(func(k, v []byte) error {
			if v == nil {
				if sub := b.Bucket(k); sub != nil {
					return visit(sub)
				}
			}
			return nil
		})
	}
	return tx.ForEach(func(_ []byte, b *bolt.Bucket) error { return visit(b) })
}

func checkSchema(tx *bolt.Tx) error {
	b := tx.Bucket(bucketSchema)
	if b == nil {
		empty := true
		_ = tx.ForEach(func([]byte, *bolt.Bucket) error { empty = false; return nil })
		if empty {
			return nil // a new file
		}
		return corrupt("it has no schema bucket")
	}
	v := b.Get(keySchemaVersion)
	if v == nil {
		return corrupt("it has no schema version")
	}
	if string(v) != strconv.Itoa(SchemaVersion) {
		return corrupt("schema version is %q, this agent uses %d", v, SchemaVersion)
	}
	return nil
}

func createBuckets(tx *bolt.Tx) error {
	for _, name := range allBuckets {
		if _, err := tx.CreateBucketIfNotExists(name); err != nil {
			return fmt.Errorf("create bucket %s: %w", name, err)
		}
	}
	b := tx.Bucket(bucketSchema)
	if b.Get(keySchemaVersion) == nil {
		return b.Put(keySchemaVersion, []byte(strconv.Itoa(SchemaVersion)))
	}
	return nil
}

// moveAside renames path to path.corrupt-<unix time> and removes all but
// the newest keepCorrupt such files. Names stay unique and in order even for
// several rebuilds within a second: the time is bumped past the newest copy.
func moveAside(path string) (string, error) {
	copies, err := corruptCopies(path)
	if err != nil {
		return "", err
	}
	ts := time.Now().Unix()
	if n := len(copies); n > 0 && copies[n-1].ts >= ts {
		ts = copies[n-1].ts + 1
	}
	aside := fmt.Sprintf("%s.corrupt-%d", path, ts)
	if err := os.Rename(path, aside); err != nil {
		return "", err
	}
	copies = append(copies, corruptCopy{aside, ts})
	for len(copies) > keepCorrupt {
		_ = os.Remove(copies[0].name)
		copies = copies[1:]
	}
	return aside, nil
}

// corruptCopy is a moved-aside store.
type corruptCopy struct {
	name string
	ts   int64 // the unix time in its name
}

// corruptCopies lists path's moved-aside copies, oldest first.
func corruptCopies(path string) ([]corruptCopy, error) {
	matches, err := filepath.Glob(globEscape(path) + ".corrupt-*")
	if err != nil {
		return nil, err
	}
	var copies []corruptCopy
	for _, m := range matches {
		ts, err := strconv.ParseInt(strings.TrimPrefix(m, path+".corrupt-"), 10, 64)
		if err == nil {
			copies = append(copies, corruptCopy{m, ts})
		}
	}
	slices.SortFunc(copies, func(a, b corruptCopy) int { return cmp.Compare(a.ts, b.ts) })
	return copies, nil
}

// globEscape quotes the glob metacharacters in s.
func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
