package launch

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/drover-sh/drover/internal/regular"
)

// PasswdFile is the account database drover trusts for tenants: the local
// file only, never NSS (LDAP, sssd), so a lookup is a local read that cannot
// hang on a network service, and the agent and `drover exec` see the same
// accounts.
var PasswdFile = "/etc/passwd"

// maxPasswdBytes bounds the account file: some 500,000 accounts.
const maxPasswdBytes = 64 << 20

// Account is one passwd entry.
type Account struct {
	Name       string
	UID, GID   uint32
	Home       string
	LoginShell string
}

// ErrNoAccount is returned for a uid without a passwd entry.
var ErrNoAccount = errors.New("no account")

// Passwd is a parsed passwd file, by uid.
type Passwd struct {
	path  string
	byUID map[uint32][]Account
}

// ReadPasswd parses a passwd file. Lines that are not seven fields with
// 32-bit uid and gid (comments, NIS "+" lines) are skipped: they name no
// account drover could run as.
func ReadPasswd(path string) (*Passwd, error) {
	return readPasswd(path, func(uint32) bool { return true })
}

// ReadPasswdOf is ReadPasswd keeping only the entries of uid: drover exec
// looks up one uid in a file holding every tenant of the node.
func ReadPasswdOf(path string, uid uint32) (*Passwd, error) {
	return readPasswd(path, func(u uint32) bool { return u == uid })
}

func readPasswd(path string, keep func(uid uint32) bool) (*Passwd, error) {
	data, _, err := regular.Read(path, true, maxPasswdBytes)
	if errors.Is(err, regular.ErrTooLarge) {
		return nil, fmt.Errorf("read accounts: %s is larger than %d MiB", path, maxPasswdBytes>>20)
	}
	if err != nil {
		return nil, fmt.Errorf("read accounts: %w", err)
	}
	p := &Passwd{path: path, byUID: map[uint32][]Account{}}
	for len(data) > 0 {
		var line []byte
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			line, data = data, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		// The uid decides first, without copying the line: drover exec
		// keeps one account of a file holding every tenant of the node
		// (3,000 lines: 0.26 ms per start before, BenchmarkReadPasswdOf).
		if uid, ok := uidField(line); !ok || !keep(uid) {
			continue
		}
		if a, ok := parsePasswdLine(string(line)); ok {
			p.byUID[a.UID] = append(p.byUID[a.UID], a)
		}
	}
	return p, nil
}

// uidField is the uid of a passwd line, its third field, read as
// parsePasswdLine reads it (decimal digits, 32 bits); ok is false when the
// line has no such field.
func uidField(line []byte) (uint32, bool) {
	for range 2 {
		i := bytes.IndexByte(line, ':')
		if i < 0 {
			return 0, false
		}
		line = line[i+1:]
	}
	field, _, _ := bytes.Cut(line, []byte{':'})
	if len(field) == 0 {
		return 0, false
	}
	var n uint64
	for _, c := range field {
		if c < '0' || c > '9' {
			return 0, false
		}
		if n = n*10 + uint64(c-'0'); n > 1<<32-1 {
			return 0, false
		}
	}
	return uint32(n), true
}

// parsePasswdLine reads one passwd line: seven fields, a name that is not
// a NIS "+" or "-" entry, 32-bit uid and gid.
func parsePasswdLine(line string) (Account, bool) {
	if strings.Count(line, ":") != 6 {
		return Account{}, false
	}
	var f [7]string
	rest := line
	for i := range f[:6] {
		f[i], rest, _ = strings.Cut(rest, ":")
	}
	f[6] = rest
	if f[0] == "" || strings.HasPrefix(f[0], "+") || strings.HasPrefix(f[0], "-") {
		return Account{}, false
	}
	uid, err1 := strconv.ParseUint(f[2], 10, 32)
	gid, err2 := strconv.ParseUint(f[3], 10, 32)
	if err1 != nil || err2 != nil {
		return Account{}, false
	}
	return Account{Name: f[0], UID: uint32(uid), GID: uint32(gid), Home: f[5], LoginShell: f[6]}, true
}

// LookupUID returns the account of uid. A uid without an entry is
// ErrNoAccount; a uid several names share is an error too: it belongs to
// more than one account, so to no tenant alone.
func (p *Passwd) LookupUID(uid uint32) (Account, error) {
	accts := p.byUID[uid]
	if len(accts) == 0 {
		return Account{}, fmt.Errorf("uid %d: %w in %s", uid, ErrNoAccount, p.path)
	}
	for _, a := range accts[1:] {
		if a.Name != accts[0].Name {
			return Account{}, fmt.Errorf("uid %d is shared by accounts %q and %q in %s", uid, accts[0].Name, a.Name, p.path)
		}
	}
	return accts[0], nil
}

// Accounts finds the local account of a uid (a Passwd, or a fake).
type Accounts interface {
	LookupUID(uid uint32) (Account, error)
}

// CheckTenant checks that uid is the tenant's own account: its passwd entry
// carries the tenant's name. It returns the account. The agent and drover
// exec both check with it, so they refuse with the same words.
func CheckTenant(accts Accounts, tenant string, uid uint32) (Account, error) {
	a, err := accts.LookupUID(uid)
	if errors.Is(err, ErrNoAccount) {
		return Account{}, fmt.Errorf("uid %d has no passwd entry; create the tenant's user first (useradd --uid %d %s)", uid, uid, tenant)
	}
	if err != nil {
		return Account{}, err
	}
	if a.Name != tenant {
		return Account{}, fmt.Errorf("uid %d belongs to user %q, not to tenant %q; a tenant runs only as its own user", uid, a.Name, tenant)
	}
	return a, nil
}
