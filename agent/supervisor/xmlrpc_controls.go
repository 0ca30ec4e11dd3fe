package supervisor

import (
	"bytes"
	"strings"
	"unicode/utf8"
)

// supervisord (Python's xmlrpc.client) writes a string's control
// characters raw, and XML 1.0 allows none but tab, newline and carriage
// return: a process log tail holding an ESC, which any coloured log does,
// was a malformed response. Before decoding, each such byte becomes the
// Unicode control picture U+2400+byte (ESC: U+241B), and a decoded string
// maps the pictures back, so a caller gets the process's bytes. (A tenant's
// own control picture comes back as the control character: shown escaped,
// never obeyed.)

// controlPicture is the first of the control pictures, U+2400 for NUL.
const controlPicture = 0x2400

// illegalControl reports whether XML 1.0 forbids byte c.
func illegalControl(c byte) bool { return c < 0x20 && c != '\t' && c != '\n' && c != '\r' }

// pictureControls replaces the bytes XML forbids with their pictures.
func pictureControls(data []byte) []byte {
	if bytes.IndexFunc(data, func(r rune) bool { return r < 0x20 && illegalControl(byte(r)) }) < 0 {
		return data
	}
	out := make([]byte, 0, len(data)+64)
	for _, c := range data {
		if illegalControl(c) {
			out = utf8.AppendRune(out, controlPicture+rune(c))
			continue
		}
		out = append(out, c)
	}
	return out
}

// unpictureControls maps the pictures of the bytes XML forbids back.
func unpictureControls(s string) string {
	if !strings.ContainsFunc(s, isPicture) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if isPicture(r) {
			b.WriteByte(byte(r - controlPicture))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isPicture(r rune) bool {
	return r >= controlPicture && r < controlPicture+0x20 && illegalControl(byte(r-controlPicture))
}
