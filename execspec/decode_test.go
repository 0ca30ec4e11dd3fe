package execspec_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/drover-sh/drover/execspec"
	"github.com/drover-sh/drover/render"
)

// decodeJSON is what drover exec did before Decode: encoding/json, strict
// about unknown fields and data after the object.
func decodeJSON(data []byte) (execspec.Spec, error) {
	var s execspec.Spec
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return execspec.Spec{}, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return execspec.Spec{}, errors.New("data after the spec")
	}
	return s, nil
}

// specs the agent could write: every field, odd text, no environment.
var decodeSpecs = []execspec.Spec{
	{Program: "daemon-acme-ws", Command: "php artisan queue:work --tries=3", User: "acme", UID: 10000, Home: "/srv/acme",
		Dir: "/srv/acme/webroots/main", Env: map[string]string{"HOST": "fd00::1", "PORT": "15000"}, EnvFile: ".env", MaxMemoryMB: 512, MaxOpenFiles: 1 << 20},
	{Program: "p", Command: "x", UID: math.MaxUint32, Env: nil},
	{Program: "p", Command: "x", Env: map[string]string{}},
	{Command: "echo \"$HOME\" 'a\\b' <&> \u2028\u2029 \x00\x01\x1f\x7f é 🎉 \ufffd",
		Env: map[string]string{"Ünïcode\t": "line\nbreak\r\"quoted\"", "": "", "K=V": "<script>&amp;</script>"}},
	{Command: "\xff\xfe invalid UTF-8 becomes U+FFFD", MaxMemoryMB: math.MaxInt, MaxOpenFiles: math.MinInt},
}

// TestDecodeReadsWhatRenderWrites: every spec as the agent writes it
// (render.EncodeExecSpec) and as compact JSON decodes to what encoding/json
// makes of the same bytes.
func TestDecodeReadsWhatRenderWrites(t *testing.T) {
	for i, s := range decodeSpecs {
		compact, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		for _, data := range [][]byte{render.EncodeExecSpec(s), compact} {
			want, err := decodeJSON(data)
			if err != nil {
				t.Fatalf("spec %d: encoding/json: %v", i, err)
			}
			got, err := execspec.Decode(data)
			if err != nil {
				t.Errorf("spec %d: %v\n%s", i, err, data)
				continue
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("spec %d: decoded\n%#v\nencoding/json\n%#v", i, got, want)
			}
		}
	}
}

// TestDecodeRefuses: malformed specs, and what encoding/json would take
// leniently, are refused with the reason.
func TestDecodeRefuses(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{``, "an object expected"},
		{`[]`, "an object expected"},
		{`{"program":"a",}`, "a member name expected"},
		{`{"program":"a"`, "',' or '}' expected"},
		{`{"program":"a"} {}`, "data after the spec"},
		{`{"program":"a"} x`, "data after the spec"},
		{`{"user_override":"root"}`, `unknown field "user_override"`},
		{`{"Program":"a"}`, `unknown field "Program"`},
		{`{"program":"a","program":"b"}`, `member "program" given twice`},
		{`{"env":{"K":"a","K":"b"}}`, `environment variable "K" given twice`},
		{`{"env":{"K":null}}`, "a string expected"},
		{`{"env":[]}`, "an object expected"},
		{`{"program":null}`, "a string expected"},
		{`{"program":1}`, "a string expected"},
		{`{"uid":"1000"}`, "not an integer"},
		{`{"uid":-1}`, "cannot unmarshal number -1 into uint32 field uid"},
		{`{"uid":-0}`, "cannot unmarshal number -0 into uint32 field uid"},
		{`{"uid":4294967296}`, "cannot unmarshal number 4294967296 into uint32"},
		{`{"uid":1e3}`, "not an integer"},
		{`{"uid":1000.5}`, "not an integer"},
		{`{"uid":01000}`, "not an integer"},
		{`{"uid":+1000}`, "not an integer"},
		{`{"uid":-}`, "not an integer"},
		{`{"max_memory_mb":9223372036854775808}`, "cannot unmarshal number 9223372036854775808 into int"},
		{`{"command":"a` + "\x01" + `"}`, "control character 0x01"},
		{`{"command":"a` + "\xff" + `"}`, "invalid UTF-8"},
		{`{"command":"a\x"}`, `invalid escape '\x'`},
		{`{"command":"\u12"}`, "invalid \\u escape"},
		{`{"command":"\u12`, "short \\u escape"},
		{`{"command":"\u+123"}`, "invalid \\u escape"},
		{`{"command":"\ud800"}`, "lone UTF-16 surrogate"},
		{`{"command":"\udc00\ud800"}`, "lone UTF-16 surrogate"},
		{`{"command":"\ud800\u0041"}`, "lone UTF-16 surrogate"},
		{`{"command":"abc`, "unterminated string"},
		{`{"command":"abc\`, "unterminated string"},
	} {
		_, err := execspec.Decode([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Decode(%q) = %v, want an error with %q", c.in, err, c.want)
		}
	}
}

// FuzzDecode: whatever Decode accepts, encoding/json decodes to the same
// spec; whatever encoding/json decodes, its own encoding of the result
// (what the agent writes) Decode reads back exactly.
func FuzzDecode(f *testing.F) {
	for _, s := range decodeSpecs {
		f.Add(render.EncodeExecSpec(s))
	}
	for _, in := range []string{`{"command":"\ud83c\udf89 \u00e9 \/ \b\f\n\r\t"}`, `{"uid":0,"env":null}`, ` {"env":{}} `} {
		f.Add([]byte(in))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := execspec.Decode(data)
		want, jerr := decodeJSON(data)
		if err == nil {
			if jerr != nil {
				t.Fatalf("Decode took %q, encoding/json refuses it: %v", data, jerr)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("Decode(%q) =\n%#v\nencoding/json:\n%#v", data, got, want)
			}
		}
		if jerr != nil {
			return
		}
		written := render.EncodeExecSpec(want)
		back, err := execspec.Decode(written)
		if err != nil {
			t.Fatalf("Decode refuses what the agent writes: %v\n%s", err, written)
		}
		if !reflect.DeepEqual(back, want) {
			t.Fatalf("Decode(%q) =\n%#v\nwant\n%#v", written, back, want)
		}
	})
}
