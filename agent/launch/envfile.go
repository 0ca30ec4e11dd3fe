package launch

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"syscall"

	"github.com/drover-sh/drover/internal/regular"
)

// A daemon's env_file (design.md §5) is read by drover exec as the tenant,
// after privileges are dropped and the webroot entered: the kernel checks
// the tenant's rights on every directory on the way and on the file, so
// the file shows the daemon nothing its own user could not read. The last
// element is opened without following a link, and nothing but a regular
// file is read.
//
// The format, exactly (anything else is an error naming the line):
//   - lines end with "\n" (a "\r" before it is dropped); blank lines and
//     lines whose first non-blank character is '#' are ignored;
//   - a variable is NAME=VALUE, optionally after "export "; NAME is
//     [A-Za-z_][A-Za-z0-9_]*; blanks around '=' are ignored; a name is
//     set once;
//   - VALUE is empty, or 'single-quoted' (taken as written, up to the
//     next '), or "double-quoted" (escapes \" \\ \n \t \r \$; no other
//     backslash), or unquoted (up to a '#' after a blank, which starts a
//     comment, with blanks trimmed at both ends; no quote or backslash
//     inside); after a closing quote only blanks and a comment may
//     follow;
//   - "${" outside single quotes is an error: nothing is interpolated, and
//     a value that dotenv libraries would expand must not pass as literal
//     text unnoticed;
//   - no NUL byte; at most MaxEnvFile bytes and MaxEnvFileVars variables.
//
// Errors name the line and never quote a value: the file holds secrets.

// MaxEnvFile bounds an env file's size.
const MaxEnvFile = 64 << 10

// MaxEnvFileVars bounds the variables of an env file, as an environment
// block's.
const MaxEnvFileVars = 1024

// readEnvFile reads the env file name, relative to the working directory
// (the webroot, entered as the tenant).
func readEnvFile(name string) (map[string]string, error) {
	if !cleanRel(name) {
		return nil, errors.New("is not a plain path inside the webroot")
	}
	data, _, err := regular.Read(name, false, MaxEnvFile)
	if errors.Is(err, syscall.ELOOP) {
		return nil, errors.New("is a symbolic link; drover reads only a regular file in the webroot")
	}
	if errors.Is(err, regular.ErrTooLarge) {
		return nil, fmt.Errorf("is larger than %d KiB", MaxEnvFile>>10)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return nil, pe.Err
	}
	if err != nil {
		return nil, err
	}
	return ParseEnvFile(data)
}

// cleanRel reports whether p is a clean relative path below the working
// directory.
func cleanRel(p string) bool {
	return p != "" && !path.IsAbs(p) && path.Clean(p) == p && p != "." && p != ".." &&
		!strings.HasPrefix(p, "../") && !strings.ContainsAny(p, "\x00\n")
}

// ParseEnvFile parses an env file's content (see above).
func ParseEnvFile(data []byte) (map[string]string, error) {
	if len(data) > MaxEnvFile {
		return nil, fmt.Errorf("is larger than %d KiB", MaxEnvFile>>10)
	}
	env := map[string]string{}
	lineOf := map[string]int{}
	for i, line := range strings.Split(string(data), "\n") {
		n := i + 1
		line = strings.TrimSuffix(line, "\r")
		if strings.IndexByte(line, 0) >= 0 {
			return nil, fmt.Errorf("line %d: holds a NUL byte", n)
		}
		t := strings.TrimLeft(line, " \t")
		if t == "" || t[0] == '#' {
			continue
		}
		if rest, ok := strings.CutPrefix(t, "export"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
			t = strings.TrimLeft(rest, " \t")
		}
		eq := strings.IndexByte(t, '=')
		if eq < 0 {
			return nil, fmt.Errorf("line %d: not NAME=VALUE", n)
		}
		name := strings.TrimRight(t[:eq], " \t")
		if !envName(name) {
			return nil, fmt.Errorf("line %d: the text before '=' is not a variable name (letters, digits and '_', not starting with a digit)", n)
		}
		if prev, dup := lineOf[name]; dup {
			return nil, fmt.Errorf("line %d: %s is already set on line %d", n, name, prev)
		}
		v, err := envValue(strings.TrimLeft(t[eq+1:], " \t"))
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %w", n, name, err)
		}
		if len(env) == MaxEnvFileVars {
			return nil, fmt.Errorf("line %d: more than %d variables", n, MaxEnvFileVars)
		}
		env[name], lineOf[name] = v, n
	}
	return env, nil
}

var errInterpolation = errors.New(`"${" is not expanded: write the value itself, or put it in single quotes to pass "${" as written`)

// envValue parses the text after '=' (leading blanks removed).
func envValue(v string) (string, error) {
	switch {
	case v == "":
		return "", nil
	case v[0] == '\'':
		end := strings.IndexByte(v[1:], '\'')
		if end < 0 {
			return "", errors.New("no closing single quote (a value is one line)")
		}
		return v[1 : 1+end], afterQuote(v[2+end:])
	case v[0] == '"':
		return doubleQuoted(v)
	}
	if i := commentStart(v); i >= 0 {
		v = v[:i]
	}
	v = strings.TrimRight(v, " \t")
	switch {
	case strings.ContainsAny(v, `"'\`):
		return "", errors.New("a quote or backslash inside an unquoted value: quote the whole value")
	case strings.Contains(v, "${"):
		return "", errInterpolation
	}
	return v, nil
}

// doubleQuoted parses a double-quoted value and what follows it.
func doubleQuoted(v string) (string, error) {
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; c {
		case '"':
			return b.String(), afterQuote(v[i+1:])
		case '\\':
			i++
			if i == len(v) {
				return "", errors.New("no closing double quote (a value is one line)")
			}
			e, ok := escapes[v[i]]
			if !ok {
				return "", fmt.Errorf(`unknown escape \%c in double quotes (known: \" \\ \n \t \r \$)`, v[i])
			}
			b.WriteByte(e)
		case '$':
			if i+1 < len(v) && v[i+1] == '{' {
				return "", errInterpolation
			}
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("no closing double quote (a value is one line)")
}

var escapes = map[byte]byte{'"': '"', '\\': '\\', 'n': '\n', 't': '\t', 'r': '\r', '$': '$'}

// afterQuote checks what follows a closing quote: blanks, then nothing or
// a comment.
func afterQuote(rest string) error {
	rest = strings.TrimLeft(rest, " \t")
	if rest == "" || rest[0] == '#' {
		return nil
	}
	return errors.New("text after the closing quote")
}

// commentStart is the index of a '#' that follows a blank, or -1.
func commentStart(v string) int {
	for i := 1; i < len(v); i++ {
		if v[i] == '#' && (v[i-1] == ' ' || v[i-1] == '\t') {
			return i
		}
	}
	return -1
}

// envName reports whether s is a variable name: [A-Za-z_][A-Za-z0-9_]*.
func envName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return false
	}
	return true
}
