package lease

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/internal/testenv"
)

func TestWriteRead(t *testing.T) {
	path := filepath.Join(testenv.PrivateDir(t), "lease")
	want := Lease{Expires: Now() + int64(3*time.Second), QuorumSince: Now() - int64(time.Minute), Programs: []string{"daemon-acme-cron", "daemon-acme_2-queue-1"}}
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := Read(path)
	if err != nil || got.Expires != want.Expires || got.QuorumSince != want.QuorumSince || !slices.Equal(got.Programs, want.Programs) {
		t.Fatalf("Read = %+v, %v; want %+v", got, err, want)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("lease mode %v, %v; want 0600", fi.Mode(), err)
	}
	// A second write replaces it, and leaves no temporary file.
	want.Programs = nil
	if err := Write(path, want); err != nil {
		t.Fatal(err)
	}
	if got, err := Read(path); err != nil || len(got.Programs) != 0 {
		t.Errorf("Read after rewrite = %+v, %v", got, err)
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("directory holds %d entries, want only the lease", len(ents))
	}
}

// TestWriteRefusesOpenDir: a directory others can write is refused, and so
// is a lease naming a program drover would not write.
func TestWriteRefuses(t *testing.T) {
	dir := testenv.PrivateDir(t)
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	err := Write(filepath.Join(dir, "lease"), Lease{Expires: 1})
	if err == nil || !strings.Contains(err.Error(), "has mode 0777: others could replace the lease; chmod 700") {
		t.Errorf("open directory: %v", err)
	}
	if err := Write(filepath.Join(dir, "missing", "lease"), Lease{}); err == nil || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing directory: %v", err)
	}
	dir = testenv.PrivateDir(t)
	if err := Write(filepath.Join(dir, "lease"), Lease{Programs: []string{"daemon-a:b"}}); err == nil || !strings.Contains(err.Error(), `program "daemon-a:b" is not a name drover gives a daemon`) {
		t.Errorf("bad name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "lease")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused lease was written: %v", err)
	}
}

func TestReadRefuses(t *testing.T) {
	dir := testenv.PrivateDir(t)
	write := func(name, content string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good", `{"expires_boottime_ns":5,"programs":["daemon-a-b"]}`, 0o600)
	if err := os.Symlink(good, filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "none"), "no lease file"},
		{"oversize", write("big", `{"programs":["`+strings.Repeat("x", MaxBytes)+`"]}`, 0o600), "larger than 1048576 bytes"},
		{"not json", write("junk", "expires=5", 0o600), "invalid character"},
		{"truncated", write("cut", `{"expires_boottime_ns":5,"prog`, 0o600), "unexpected end of JSON input"},
		{"supervisord pattern", write("star", `{"programs":["daemon-*"]}`, 0o600), `program "daemon-*"`},
		{"group:process", write("colon", `{"programs":["daemon-a-b:daemon-a-b_00"]}`, 0o600), `program "daemon-a-b:daemon-a-b_00"`},
		{"not a daemon", write("events", `{"programs":["drover-events"]}`, 0o600), `program "drover-events"`},
		{"empty name", write("empty", `{"programs":["daemon-"]}`, 0o600), `program "daemon-"`},
		{"upper case", write("upper", `{"programs":["daemon-Acme-x"]}`, 0o600), `program "daemon-Acme-x"`},
		{"writable by others", write("open", `{}`, 0o666), "mode 0666 lets others write it"},
		{"symlink", filepath.Join(dir, "link"), "too many levels of symbolic links"},
		{"directory", dir, "not a regular file"},
	} {
		_, err := Read(c.path)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
		if c.name == "missing" && !errors.Is(err, ErrNoLease) {
			t.Errorf("missing: %v is not ErrNoLease", err)
		}
	}
	if l, err := Read(good); err != nil || l.Expires != 5 {
		t.Errorf("good: %+v, %v", l, err)
	}
}

func TestValidAndExpiresIn(t *testing.T) {
	l := Lease{Expires: 1000}
	if !l.Valid(999) || l.Valid(1000) || l.Valid(1001) {
		t.Error("a lease holds strictly before Expires")
	}
	if (Lease{}).Valid(Now()) {
		t.Error("the zero lease holds")
	}
	a := Now()
	e := ExpiresIn(3 * time.Second)
	if b := Now(); e < a+int64(3*time.Second) || e > b+int64(3*time.Second) {
		t.Errorf("ExpiresIn(3s) = %d, not 3s after now (%d..%d)", e, a, b)
	}
	if e := ExpiresIn(time.Duration(math.MaxInt64)); e != math.MaxInt64 {
		t.Errorf("ExpiresIn(max) = %d, want saturation", e)
	}
	if !(Lease{Expires: ExpiresIn(time.Duration(math.MaxInt64))}).Valid(Now()) {
		t.Error("a saturated lease does not hold")
	}
	if d := time.Until(Time(ExpiresIn(time.Minute))); d < 59*time.Second || d > time.Minute {
		t.Errorf("Time(ExpiresIn(1m)) is %s away", d)
	}
	if ExpiresIn(-time.Second) >= Now() {
		t.Error("ExpiresIn of a negative duration is not in the past")
	}
}

// TestOwner: a lease file or directory of another user is refused.
func TestOwner(t *testing.T) {
	testenv.RequireRoot(t) // to give them away
	dir := testenv.PrivateDir(t)
	path := filepath.Join(dir, "lease")
	if err := Write(path, Lease{Expires: 1}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(path, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), "is owned by uid 65534, not root") {
		t.Errorf("Read of nobody's lease: %v", err)
	}
	if err := os.Chown(dir, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	if err := Write(path, Lease{Expires: 1}); err == nil || !strings.Contains(err.Error(), "is owned by uid 65534, not root") {
		t.Errorf("Write into nobody's directory: %v", err)
	}
}
