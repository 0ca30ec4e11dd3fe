package supervisor

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"maps"
	"math"
	"slices"
)

// This file and xmlrpc_decode.go are the small XML-RPC codec supervisord's
// interface needs: parameters are strings, booleans and ints; results are
// any XML-RPC value except dateTime.iso8601 and base64, which supervisord's
// API never returns.
//
// Decoded values are Go values: int, bool, string, float64, nil,
// []any (array) and map[string]any (struct).

// encodeCall renders an XML-RPC methodCall.
func encodeCall(method string, params ...any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("<?xml version=\"1.0\"?>\n<methodCall><methodName>")
	xml.EscapeText(&b, []byte(method))
	b.WriteString("</methodName><params>")
	for i, p := range params {
		b.WriteString("<param>")
		if err := encodeValue(&b, p); err != nil {
			return nil, fmt.Errorf("xml-rpc: parameter %d of %s: %w", i+1, method, err)
		}
		b.WriteString("</param>")
	}
	b.WriteString("</params></methodCall>\n")
	return b.Bytes(), nil
}

// encodeValue renders one <value>: string, bool, int, []any (array) or
// map[string]any (struct, members sorted by name).
func encodeValue(b *bytes.Buffer, p any) error {
	b.WriteString("<value>")
	switch v := p.(type) {
	case string:
		b.WriteString("<string>")
		// EscapeText also replaces characters XML cannot carry (NUL, most
		// control characters) with U+FFFD, so the body is always
		// well-formed.
		xml.EscapeText(b, []byte(v))
		b.WriteString("</string>")
	case bool:
		if v {
			b.WriteString("<boolean>1</boolean>")
		} else {
			b.WriteString("<boolean>0</boolean>")
		}
	case int:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return fmt.Errorf("%d does not fit a 32-bit int", v)
		}
		fmt.Fprintf(b, "<int>%d</int>", v)
	case []any:
		b.WriteString("<array><data>")
		for _, e := range v {
			if err := encodeValue(b, e); err != nil {
				return err
			}
		}
		b.WriteString("</data></array>")
	case map[string]any:
		b.WriteString("<struct>")
		for _, k := range slices.Sorted(maps.Keys(v)) {
			b.WriteString("<member><name>")
			xml.EscapeText(b, []byte(k))
			b.WriteString("</name>")
			if err := encodeValue(b, v[k]); err != nil {
				return err
			}
			b.WriteString("</member>")
		}
		b.WriteString("</struct>")
	default:
		return fmt.Errorf("unsupported type %T", p)
	}
	b.WriteString("</value>")
	return nil
}
