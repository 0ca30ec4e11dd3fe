package execspec

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// Decode reads an exec spec: one JSON object as encoding/json writes a
// Spec, with nothing but white space after it. It is stricter than
// encoding/json and never more lenient: every member is named exactly (no
// case folding) and at most once, a member it does not know is an error,
// strings are valid UTF-8 without lone surrogates, integers have no
// fraction or exponent and fit their field, and only env may be null. What
// it accepts, encoding/json decodes to the same Spec (FuzzDecode); what
// encoding/json writes, it accepts (the same fuzz test, and
// TestDecodeReadsWhatRenderWrites).
//
// drover exec reads its spec with it because it is paid at every process
// start: encoding/json's reflection and its package's weight cost about
// 0.15 ms of CPU per start, a tenth of the wrapper's (BenchmarkExecStart).
func Decode(data []byte) (Spec, error) {
	d := decoder{data: data}
	var s Spec
	seen := map[string]bool{}
	err := d.object(func(key string) error {
		if seen[key] {
			return d.errorf("member %q given twice", key)
		}
		seen[key] = true
		var err error
		switch key {
		case "program":
			s.Program, err = d.str()
		case "command":
			s.Command, err = d.str()
		case "user":
			s.User, err = d.str()
		case "uid":
			var n uint64
			n, err = d.unsigned(key, 32)
			s.UID = uint32(n)
		case "home":
			s.Home, err = d.str()
		case "dir":
			s.Dir, err = d.str()
		case "env":
			s.Env, err = d.env()
		case "env_file":
			s.EnvFile, err = d.str()
		case "max_memory_mb":
			s.MaxMemoryMB, err = d.signed(key)
		case "max_open_files":
			s.MaxOpenFiles, err = d.signed(key)
		default:
			return d.errorf("unknown field %q", key)
		}
		return err
	})
	if err != nil {
		return Spec{}, err
	}
	if d.space(); d.i < len(d.data) {
		return Spec{}, errors.New("data after the spec")
	}
	return s, nil
}

// decoder reads JSON from data at offset i.
type decoder struct {
	data []byte
	i    int
}

func (d *decoder) errorf(format string, args ...any) error {
	return fmt.Errorf("offset %d: %s", d.i, fmt.Sprintf(format, args...))
}

// space skips JSON white space.
func (d *decoder) space() {
	for d.i < len(d.data) {
		switch d.data[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// next skips white space and consumes c, or fails naming what it wanted.
func (d *decoder) next(c byte, what string) error {
	d.space()
	if d.i >= len(d.data) {
		return d.errorf("unexpected end of the spec, %s expected", what)
	}
	if d.data[d.i] != c {
		return d.errorf("%s expected, found %q", what, d.data[d.i])
	}
	d.i++
	return nil
}

// peek skips white space and returns the next byte (0 at the end).
func (d *decoder) peek() byte {
	d.space()
	if d.i >= len(d.data) {
		return 0
	}
	return d.data[d.i]
}

// object reads an object, calling member for each key with the decoder at
// the key's value.
func (d *decoder) object(member func(key string) error) error {
	if err := d.next('{', "an object"); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.errorf("a member name expected")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if err := d.next(':', "':'"); err != nil {
			return err
		}
		d.space()
		if err := member(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errorf("',' or '}' expected")
		}
	}
}

// env reads the environment: an object of strings, or null (no map).
func (d *decoder) env() (map[string]string, error) {
	if d.literal("null") {
		return nil, nil
	}
	env := map[string]string{}
	err := d.object(func(key string) error {
		if _, dup := env[key]; dup {
			return d.errorf("environment variable %q given twice", key)
		}
		v, err := d.str()
		env[key] = v
		return err
	})
	return env, err
}

// literal consumes word if the data continues with it.
func (d *decoder) literal(word string) bool {
	if !strings.HasPrefix(string(d.data[d.i:min(len(d.data), d.i+len(word))]), word) {
		return false
	}
	d.i += len(word)
	return true
}

// str reads a string: its bytes up to the closing quote, escapes resolved.
func (d *decoder) str() (string, error) {
	if err := d.next('"', "a string"); err != nil {
		return "", err
	}
	start := d.i
	var b []byte // the decoded string, once it holds an escape
	for d.i < len(d.data) {
		c := d.data[d.i]
		switch {
		case c == '"':
			d.i++
			if b == nil {
				return string(d.data[start : d.i-1]), nil
			}
			return string(b), nil
		case c < 0x20:
			return "", d.errorf("control character %#02x in a string", c)
		case c == '\\':
			if b == nil {
				b = append(make([]byte, 0, 2*(d.i-start)+16), d.data[start:d.i]...)
			}
			var err error
			if b, err = d.escape(b); err != nil {
				return "", err
			}
		case c < utf8.RuneSelf:
			b = appendIf(b, c)
			d.i++
		default:
			r, n := utf8.DecodeRune(d.data[d.i:])
			if r == utf8.RuneError && n == 1 {
				return "", d.errorf("invalid UTF-8 in a string")
			}
			if b != nil {
				b = append(b, d.data[d.i:d.i+n]...)
			}
			d.i += n
		}
	}
	return "", d.errorf("unterminated string")
}

// appendIf appends c to b once b is in use (a string with an escape).
func appendIf(b []byte, c byte) []byte {
	if b == nil {
		return nil
	}
	return append(b, c)
}

// escape resolves the escape at d.i (a backslash) onto b.
func (d *decoder) escape(b []byte) ([]byte, error) {
	if d.i+1 >= len(d.data) {
		return nil, d.errorf("unterminated string")
	}
	c := d.data[d.i+1]
	d.i += 2
	switch c {
	case '"', '\\', '/':
		return append(b, c), nil
	case 'b':
		return append(b, '\b'), nil
	case 'f':
		return append(b, '\f'), nil
	case 'n':
		return append(b, '\n'), nil
	case 'r':
		return append(b, '\r'), nil
	case 't':
		return append(b, '\t'), nil
	case 'u':
		r, err := d.hex4()
		if err != nil {
			return nil, err
		}
		if utf16.IsSurrogate(r) {
			var lo rune = -1
			if d.literal(`\u`) {
				if lo, err = d.hex4(); err != nil {
					return nil, err
				}
			}
			if r = utf16.DecodeRune(r, lo); r == utf8.RuneError {
				return nil, d.errorf("a lone UTF-16 surrogate in a string")
			}
		}
		return utf8.AppendRune(b, r), nil
	}
	return nil, d.errorf("invalid escape '\\%c' in a string", c)
}

// hex4 reads the four hex digits of a \u escape.
func (d *decoder) hex4() (rune, error) {
	if d.i+4 > len(d.data) {
		return 0, d.errorf("short \\u escape")
	}
	n, err := strconv.ParseUint(string(d.data[d.i:d.i+4]), 16, 32) // no sign, no '_' in base 16
	if err != nil {
		return 0, d.errorf("invalid \\u escape")
	}
	d.i += 4
	return rune(n), nil
}

// number returns the number token at d.i: a JSON integer (-?(0|[1-9][0-9]*)),
// or an error for anything else, fractions and exponents included.
func (d *decoder) number(field, into string) (string, error) {
	start := d.i
	for d.i < len(d.data) && strings.IndexByte("+-.0123456789eE", d.data[d.i]) >= 0 {
		d.i++
	}
	tok := string(d.data[start:d.i])
	digits := strings.TrimPrefix(tok, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" || len(digits) > 1 && digits[0] == '0' {
		return "", d.errorf("cannot unmarshal %q into %s field %s: not an integer", tok, into, field)
	}
	return tok, nil
}

// unsigned reads a non-negative integer of at most bits bits.
func (d *decoder) unsigned(field string, bits int) (uint64, error) {
	tok, err := d.number(field, "uint"+strconv.Itoa(bits))
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(tok, 10, bits)
	if err != nil {
		return 0, d.errorf("cannot unmarshal number %s into uint%d field %s", tok, bits, field)
	}
	return n, nil
}

// signed reads an integer that fits an int.
func (d *decoder) signed(field string) (int, error) {
	tok, err := d.number(field, "int")
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseInt(tok, 10, strconv.IntSize)
	if err != nil {
		return 0, d.errorf("cannot unmarshal number %s into int field %s", tok, field)
	}
	return int(n), nil
}
