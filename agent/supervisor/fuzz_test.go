package supervisor

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// FuzzDecodeResponse feeds supervisord's recorded answers, and mutations of
// them, to the XML-RPC decoder: whatever arrives on the socket, the decoder
// returns a value or an error, never panics, and never builds a value nested
// deeper than maxValueDepth.
func FuzzDecodeResponse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "response_*.xml"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no seed responses in testdata (%v)", err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(nested(maxValueDepth + 1)))
	f.Add([]byte("<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>10</int></value></member></struct></value></fault></methodResponse>"))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeResponse(data)
		if err != nil {
			if v != nil {
				t.Fatalf("decodeResponse returned both %#v and %v", v, err)
			}
			var fault *Fault
			if errors.As(err, &fault) && fault == nil {
				t.Fatal("nil *Fault error")
			}
			return
		}
		if d := depth(t, v); d > maxValueDepth {
			t.Fatalf("decoded value nested %d deep, more than %d", d, maxValueDepth)
		}
	})
}

// depth returns how deep arrays and structs nest in v, and fails on a type
// the decoder must never return.
func depth(t *testing.T, v any) int {
	switch v := v.(type) {
	case nil, int, bool, string, float64:
		return 0
	case []any:
		d := 0
		for _, e := range v {
			d = max(d, depth(t, e))
		}
		return d + 1
	case map[string]any:
		d := 0
		for _, e := range v {
			d = max(d, depth(t, e))
		}
		return d + 1
	}
	t.Fatalf("decoded value of type %T", v)
	return 0
}

// nested is a response holding arrays nested n deep.
func nested(n int) string {
	return "<methodResponse><params><param>" + strings.Repeat("<value><array><data>", n) +
		"<value>x</value>" + strings.Repeat("</data></array></value>", n) + "</param></params></methodResponse>"
}

// FuzzListen feeds supervisord's event stream, and mutations of it, to the
// event-listener protocol: Listen ends with nil or an error, never panics,
// hands over only events with a name, and allocates for a payload only as
// its bytes arrive (a header claiming 16 MB is not 16 MB of memory).
func FuzzListen(f *testing.F) {
	var all strings.Builder
	for i, e := range streamEvents {
		text := eventText(21+i, e.name, e.payload)
		f.Add([]byte(text))
		all.WriteString(text)
	}
	f.Add([]byte(all.String()))
	f.Add([]byte(fmt.Sprintf("ver:3.0 eventname:TICK_5 len:%d\n", maxEventLen)))
	f.Fuzz(func(t *testing.T, data []byte) {
		err := Listen(strings.NewReader(string(data)), io.Discard, func(e Event) error {
			if e.Name == "" || e.Header["eventname"] != e.Name {
				t.Fatalf("event without a name: %#v", e)
			}
			if len(e.Data) > len(data) {
				t.Fatalf("event data of %d bytes from %d bytes of input", len(e.Data), len(data))
			}
			return nil
		})
		_ = err // any error is fine; a panic or a hang is not
	})
}

// TestDecodeBoundsMemory pins what the fuzz target found: markup where none
// belongs cost over 150 bytes of memory per input byte when the decoder
// built a tree of the whole document first (652 MB for 4 MB of "<a/>").
func TestDecodeBoundsMemory(t *testing.T) {
	tests := []struct{ name, body, err string }{
		{"elements inside a string", "<methodResponse><params><param><value><string>" + strings.Repeat("<a/>", 1<<20) + "</string></value></param></params></methodResponse>", "<string> holds an element <a>"},
		{"deep nesting", nested(100000), "nested deeper than 32"},
		{"elements inside a name", "<methodResponse><params><param><value><struct><member><name>" + strings.Repeat("<a></a>", 1<<19) + "</name></member></struct></value></param></params></methodResponse>", "members must be"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			_, err := decodeResponse([]byte(tt.body))
			runtime.ReadMemStats(&after)
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("error %v, want one containing %q", err, tt.err)
			}
			if alloc := after.TotalAlloc - before.TotalAlloc; alloc > uint64(4*len(tt.body)) {
				t.Errorf("decoding %d bytes allocated %d bytes", len(tt.body), alloc)
			}
		})
	}
}

// TestListenPayloadAllocatesAsRead: a header announcing the largest payload
// allocates nothing when the payload never comes.
func TestListenPayloadAllocatesAsRead(t *testing.T) {
	in := fmt.Sprintf("ver:3.0 eventname:TICK_5 len:%d\nshort", maxEventLen)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	err := Listen(strings.NewReader(in), io.Discard, func(Event) error { return nil })
	runtime.ReadMemStats(&after)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("error %v, want an unexpected EOF", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 1<<20 {
		t.Errorf("a %d-byte stream allocated %d bytes", len(in), alloc)
	}
}
