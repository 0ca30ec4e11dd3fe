package secret

import (
	"bytes"
	"errors"
	"fmt"
)

// The text header of an age file (age-encryption.org/v1): a version line,
// one stanza per recipient ("-> TYPE ARGS" and base64 body lines, the last
// one shorter than 64 columns), then "--- MAC". Reading it needs no key;
// it tells how many recipients the file was encrypted to and of what kind.

const (
	ageVersionLine = "age-encryption.org/v1"
	stanzaPrefix   = "-> "
	macPrefix      = "--- "
	// maxHeaderLines bounds the walk over a hand-made header.
	maxHeaderLines = 4096
)

// x25519Stanzas counts the stanzas of an age file's header, all of which
// must be X25519 ones (what Seal writes).
func x25519Stanzas(file []byte) (int, error) {
	rest := file
	line := func() (string, bool) {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			return "", false
		}
		l := string(rest[:i])
		rest = rest[i+1:]
		return l, true
	}
	if l, ok := line(); !ok || l != ageVersionLine {
		return 0, fmt.Errorf("does not start with %q", ageVersionLine)
	}
	n := 0
	for range maxHeaderLines {
		l, ok := line()
		switch {
		case !ok:
			return 0, errors.New("header has no end")
		case len(l) >= len(macPrefix) && l[:len(macPrefix)] == macPrefix:
			if n == 0 {
				return 0, errors.New("header names no recipient")
			}
			return n, nil
		case len(l) >= len(stanzaPrefix) && l[:len(stanzaPrefix)] == stanzaPrefix:
			args := bytes.Fields([]byte(l[len(stanzaPrefix):]))
			if len(args) == 0 || string(args[0]) != "X25519" {
				return 0, fmt.Errorf("has a recipient stanza %q; only X25519 recipients are used", l)
			}
			n++
		}
	}
	return 0, errors.New("header is too long")
}
