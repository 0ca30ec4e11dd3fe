package launch

import (
	"errors"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/drover-sh/drover/internal/testenv"
)

func TestPasswdCheckTenant(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	testenv.WriteFile(t, path, `root:x:0:0:root:/root:/bin/bash
# a comment
+@nis::::::
alice:x:1000:1000:Alice:/home/alice:/bin/zsh
acme:x:10042:10042::/var/www/storage/acme:/bin/bash
broken:x:10043
wide:x:4294967296:10:::/bin/sh
toor:x:0:0::/root:/bin/sh
twin1:x:10050:10050:::
twin2:x:10050:10050:::
`, 0o644)
	pw, err := ReadPasswd(path)
	if err != nil {
		t.Fatal(err)
	}
	a, err := CheckTenant(pw, "acme", 10042)
	if err != nil || a != (Account{Name: "acme", UID: 10042, GID: 10042, Home: "/var/www/storage/acme", LoginShell: "/bin/bash"}) {
		t.Errorf("acme: %+v, %v", a, err)
	}
	for _, c := range []struct {
		tenant string
		uid    uint32
		want   []string
	}{
		{"evil", 1000, []string{"uid 1000", `user "alice"`, `tenant "evil"`}},
		{"evil", 10042, []string{"uid 10042", `user "acme"`, `tenant "evil"`}},
		{"acme", 10043, []string{"uid 10043 has no passwd entry", "useradd --uid 10043 acme"}},
		{"twin1", 10050, []string{`uid 10050 is shared by accounts "twin1" and "twin2"`}},
	} {
		_, err := CheckTenant(pw, c.tenant, c.uid)
		for _, w := range c.want {
			if err == nil || !strings.Contains(err.Error(), w) {
				t.Errorf("%s uid %d: err = %v, want %q", c.tenant, c.uid, err, w)
			}
		}
		// drover exec reads only the uid's entries, with the same answer.
		one, err2 := ReadPasswdOf(path, c.uid)
		if err2 != nil {
			t.Fatal(err2)
		}
		if _, err2 = CheckTenant(one, c.tenant, c.uid); err2 == nil || err2.Error() != err.Error() {
			t.Errorf("%s uid %d from ReadPasswdOf: %v, want %v", c.tenant, c.uid, err2, err)
		}
	}
	// Two names of uid 0: ambiguous, like every shared uid; uid 4294967296
	// is skipped, not cut to 0.
	if _, err := pw.LookupUID(0); err == nil || !strings.Contains(err.Error(), `"root" and "toor"`) || strings.Contains(err.Error(), "wide") {
		t.Errorf("uid 0: %v", err)
	}
	if _, err := pw.LookupUID(10043); !errors.Is(err, ErrNoAccount) {
		t.Errorf("line with three fields: %v, want no account", err)
	}
	if _, err := ReadPasswd(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing passwd file was read")
	}
}

// BenchmarkReadPasswdOf is drover exec's look-up of one tenant in the
// account file of a node with 3,000 tenants (paid at every daemon start).
func BenchmarkReadPasswdOf(b *testing.B) {
	var s strings.Builder
	s.WriteString("root:x:0:0:root:/root:/bin/bash\n")
	for i := range 3000 {
		fmt.Fprintf(&s, "t%05d:x:%d:%d::/var/www/storage/t%05d:/bin/sh\n", i, 10000+i, 10000+i, i)
	}
	path := filepath.Join(b.TempDir(), "passwd")
	testenv.WriteFile(b, path, s.String(), 0o644)
	for b.Loop() {
		pw, err := ReadPasswdOf(path, 11500)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := pw.LookupUID(11500); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUIDFieldReadsAsTheParser: the uid drover reads first to skip other
// accounts' lines is the one parsePasswdLine reads from a whole line.
func TestUIDFieldReadsAsTheParser(t *testing.T) {
	for _, line := range []string{
		"a:x:10000:10000::/h:/bin/sh", "a:x:010000:1:::", "a:x:+1:1:::", "a:x:-1:1:::", "a:x:1_0:1:::",
		"a:x:4294967295:1:::", "a:x:4294967296:1:::", "a:x:99999999999999999999:1:::", "a:x::1:::",
		"a:x:1", "a:x", "a", "", ":x:5:5:::", "a:x:5:5::", "a:x:5:5::::", "a:x: 5:5:::", "a:x:5 :5:::",
	} {
		uid, ok := uidField([]byte(line))
		a, parsed := parsePasswdLine(line)
		if parsed && (!ok || uid != a.UID) {
			t.Errorf("%q: uidField = %d, %v; the parser reads uid %d", line, uid, ok, a.UID)
		}
		if want, err := strconv.ParseUint(strings.Split(line+"::", ":")[2], 10, 32); ok != (err == nil) || ok && uint64(uid) != want {
			t.Errorf("%q: uidField = %d, %v; ParseUint = %d, %v", line, uid, ok, want, err)
		}
	}
}
