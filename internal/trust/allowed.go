package trust

import (
	"fmt"
	"path"
	"strings"
	"time"

	"golang.org/x/crypto/ssh"
)

// An allowedSigner is one line of the allowed_signers format that
// `ssh-keygen -Y verify` reads and git uses for gpg.format=ssh
// (ssh-keygen(1), "ALLOWED SIGNERS"):
//
//	principals [options] keytype base64-key [comment]
//
// principals is a comma-separated list of names (the signer as reasons
// name it); the options drover honours are namespaces="git,…" (the
// signature's namespace must match one of the patterns) and
// valid-after/valid-before (compared with the commit's committer time, as
// git does). cert-authority is refused: list the signers' own keys.
// drover also takes a bare "keytype base64-key [comment]", named by its
// comment.
type allowedSigner struct {
	principals  string
	key         ssh.PublicKey
	namespaces  []string // patterns; nil: any namespace
	validAfter  time.Time
	validBefore time.Time
}

// parseAllowedSigner parses one line. It fails with a message saying what
// is wrong with it.
func parseAllowedSigner(line string) (*allowedSigner, error) {
	line = strings.TrimSpace(line)
	var a allowedSigner
	if !isKeyType(firstField(line)) {
		a.principals, line = cutField(line)
		if !isKeyType(firstField(line)) {
			var opts string
			opts, line = cutField(line)
			if err := a.parseOptions(opts); err != nil {
				return nil, err
			}
		}
	}
	key, comment, _, rest, err := ssh.ParseAuthorizedKey([]byte(line))
	if err != nil {
		return nil, fmt.Errorf("no public key after the principals and options (want \"alice@example.com ssh-ed25519 AAAA…\"): %w", err)
	}
	if len(strings.TrimSpace(string(rest))) > 0 {
		return nil, fmt.Errorf("one key per line")
	}
	if _, ok := key.(*ssh.Certificate); ok {
		return nil, fmt.Errorf("a certificate is not a signer key: list the signer's own public key")
	}
	a.key = key
	if a.principals == "" {
		a.principals = comment
	}
	if a.principals == "" {
		a.principals = ssh.FingerprintSHA256(key)
	}
	return &a, nil
}

// parseOptions reads the comma-separated options field; values may be
// quoted and then hold commas.
func (a *allowedSigner) parseOptions(opts string) error {
	for opts != "" {
		var opt string
		opt, opts = cutOption(opts)
		name, value, _ := strings.Cut(opt, "=")
		value = strings.Trim(value, `"`)
		switch strings.ToLower(name) {
		case "namespaces":
			a.namespaces = strings.Split(value, ",")
		case "valid-after", "valid-before":
			t, err := parseSSHTime(value)
			if err != nil {
				return fmt.Errorf("option %s: %w", name, err)
			}
			if strings.EqualFold(name, "valid-after") {
				a.validAfter = t
			} else {
				a.validBefore = t
			}
		case "cert-authority":
			return fmt.Errorf("cert-authority is not supported: list the signers' own keys")
		default:
			return fmt.Errorf("unknown option %q (drover knows namespaces, valid-after and valid-before)", name)
		}
	}
	return nil
}

// accepts reports whether the line lets its key sign in namespace ns at
// time t.
func (a *allowedSigner) accepts(ns string, t time.Time) bool {
	if !a.validAfter.IsZero() && t.Before(a.validAfter) {
		return false
	}
	if !a.validBefore.IsZero() && !t.Before(a.validBefore) {
		return false
	}
	if a.namespaces == nil {
		return true
	}
	for _, p := range a.namespaces {
		if ok, _ := path.Match(strings.TrimSpace(p), ns); ok {
			return true
		}
	}
	return false
}

// parseSSHTime reads YYYYMMDD[HHMM[SS]][Z]: UTC with Z, else local time,
// as ssh-keygen reads it.
func parseSSHTime(s string) (time.Time, error) {
	loc := time.Local
	if strings.HasSuffix(s, "Z") || strings.HasSuffix(s, "z") {
		s, loc = s[:len(s)-1], time.UTC
	}
	for _, layout := range []string{"20060102", "200601021504", "20060102150405"} {
		if len(s) == len(layout) {
			if t, err := time.ParseInLocation(layout, s, loc); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time like 20260131 or 202601311200Z", s)
}

func isKeyType(s string) bool {
	return strings.HasPrefix(s, "ssh-") || strings.HasPrefix(s, "ecdsa-") || strings.HasPrefix(s, "sk-")
}

func firstField(s string) string {
	f, _ := cutField(s)
	return f
}

// cutField splits off the first white-space separated field; a quoted
// stretch inside it may hold spaces.
func cutField(s string) (field, rest string) {
	s = strings.TrimLeft(s, " \t")
	quoted := false
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case (r == ' ' || r == '\t') && !quoted:
			return s[:i], strings.TrimLeft(s[i:], " \t")
		}
	}
	return s, ""
}

// cutOption splits off the first comma-separated option; commas inside
// quotes belong to the value.
func cutOption(s string) (opt, rest string) {
	quoted := false
	for i, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
		case r == ',' && !quoted:
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}
