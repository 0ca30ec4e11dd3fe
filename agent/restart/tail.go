package restart

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Tail bounds are what a status keeps of a process's stderr.
const (
	TailLines = 10
	TailBytes = 2048
)

// CleanTail is the end of a process's output as a status shows it: at
// most TailLines lines and TailBytes bytes, valid UTF-8, without control
// characters other than newlines and tabs (the output is the tenant's: a
// terminal escape in it must not reach an operator's terminal), without
// the trailing newline. A first line cut by the byte bound is dropped.
func CleanTail(raw string) string {
	raw = strings.TrimRight(raw, "\n")
	cut := false
	if len(raw) > TailBytes {
		raw, cut = raw[len(raw)-TailBytes:], true
	}
	lines := strings.Split(raw, "\n")
	if cut && len(lines) > 1 {
		lines = lines[1:]
	}
	if len(lines) > TailLines {
		lines = lines[len(lines)-TailLines:]
	}
	for i, l := range lines {
		lines[i] = strings.Map(func(r rune) rune {
			switch {
			case r == utf8.RuneError:
				return '?'
			case r == '\t':
				return r
			case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
				return -1
			}
			return r
		}, strings.ToValidUTF8(l, "?"))
	}
	return strings.Join(lines, "\n")
}

// LastLine is the tail's last non-empty line, for one-line reasons.
func LastLine(tail string) string {
	lines := strings.Split(strings.TrimRight(tail, "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if s := strings.TrimSpace(lines[i]); s != "" {
			return s
		}
	}
	return ""
}
