package supervisor

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
)

// This file is the small XML-RPC codec supervisord's interface needs:
// parameters are strings, booleans and ints; results are any XML-RPC value
// except dateTime.iso8601 and base64, which supervisord's API never returns.
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

// xmlNode is a generic element tree; XML-RPC is small enough to walk.
type xmlNode struct {
	XMLName xml.Name
	Text    string    `xml:",chardata"`
	Kids    []xmlNode `xml:",any"`
}

// decodeResponse parses an XML-RPC methodResponse. A fault is returned as a
// *Fault error.
func decodeResponse(data []byte) (any, error) {
	var root xmlNode
	if err := xml.Unmarshal(data, &root); err != nil {
		return nil, fmt.Errorf("xml-rpc: malformed response: %w", err)
	}
	if root.XMLName.Local != "methodResponse" {
		return nil, fmt.Errorf("xml-rpc: response is <%s>, not <methodResponse>", root.XMLName.Local)
	}
	if len(root.Kids) != 1 {
		return nil, errors.New("xml-rpc: methodResponse holds neither one params nor one fault element")
	}
	switch body := root.Kids[0]; body.XMLName.Local {
	case "params":
		if len(body.Kids) != 1 || body.Kids[0].XMLName.Local != "param" || len(body.Kids[0].Kids) != 1 {
			return nil, errors.New("xml-rpc: response params must hold exactly one param with one value")
		}
		return decodeValue(body.Kids[0].Kids[0])
	case "fault":
		if len(body.Kids) != 1 {
			return nil, errors.New("xml-rpc: fault must hold one value")
		}
		v, err := decodeValue(body.Kids[0])
		if err != nil {
			return nil, err
		}
		s, ok := v.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("xml-rpc: fault value is %T, not a struct", v)
		}
		code, ok1 := s["faultCode"].(int)
		text, ok2 := s["faultString"].(string)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("xml-rpc: fault struct lacks an int faultCode or a string faultString: %v", s)
		}
		return nil, &Fault{Code: code, String: text}
	default:
		return nil, fmt.Errorf("xml-rpc: unexpected <%s> in methodResponse", body.XMLName.Local)
	}
}

// decodeValue decodes a <value> element.
func decodeValue(n xmlNode) (any, error) {
	if n.XMLName.Local != "value" {
		return nil, fmt.Errorf("xml-rpc: expected <value>, found <%s>", n.XMLName.Local)
	}
	switch len(n.Kids) {
	case 0:
		return n.Text, nil // a value without a type element is a string
	case 1:
	default:
		return nil, fmt.Errorf("xml-rpc: <value> holds %d elements, not one", len(n.Kids))
	}
	t := n.Kids[0]
	text := strings.TrimSpace(t.Text)
	switch t.XMLName.Local {
	case "int", "i4", "i8":
		v, err := strconv.Atoi(text)
		if err != nil {
			return nil, fmt.Errorf("xml-rpc: bad <%s> %q", t.XMLName.Local, text)
		}
		return v, nil
	case "boolean":
		switch text {
		case "1":
			return true, nil
		case "0":
			return false, nil
		}
		return nil, fmt.Errorf("xml-rpc: bad <boolean> %q", text)
	case "string":
		return t.Text, nil // not trimmed: spaces are part of a string
	case "double":
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("xml-rpc: bad <double> %q", text)
		}
		return v, nil
	case "nil":
		return nil, nil
	case "array":
		if len(t.Kids) != 1 || t.Kids[0].XMLName.Local != "data" {
			return nil, errors.New("xml-rpc: <array> must hold one <data>")
		}
		out := make([]any, 0, len(t.Kids[0].Kids))
		for _, k := range t.Kids[0].Kids {
			v, err := decodeValue(k)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, nil
	case "struct":
		out := make(map[string]any, len(t.Kids))
		for _, m := range t.Kids {
			if m.XMLName.Local != "member" || len(m.Kids) != 2 || m.Kids[0].XMLName.Local != "name" {
				return nil, errors.New("xml-rpc: <struct> members must be <member><name/><value/></member>")
			}
			v, err := decodeValue(m.Kids[1])
			if err != nil {
				return nil, err
			}
			out[m.Kids[0].Text] = v
		}
		return out, nil
	default:
		return nil, fmt.Errorf("xml-rpc: unsupported value type <%s>", t.XMLName.Local)
	}
}
