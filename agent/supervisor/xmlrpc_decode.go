package supervisor

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// The decoding half of the XML-RPC codec (xmlrpc.go): supervisord's
// answers, read as a token stream.

// maxValueDepth bounds how deep arrays and structs may nest in a response.
// supervisord's deepest answer (system.multicall of getAllProcessInfo) is
// three levels deep.
const maxValueDepth = 32

// decodeResponse parses an XML-RPC methodResponse. A fault is returned as a
// *Fault error.
//
// It reads the XML as a stream of tokens and builds only the value it
// returns: an element where none belongs is an error at once, so memory
// grows with the decoded value, never with markup (a tree of the whole
// document costs over 100 bytes per empty element), and nesting is bounded
// by maxValueDepth.
func decodeResponse(data []byte) (any, error) {
	d := &rpcDecoder{d: xml.NewDecoder(bytes.NewReader(pictureControls(data)))}
	v, err := d.response()
	if err != nil {
		var f *Fault
		if errors.As(err, &f) {
			return nil, err
		}
		var syn *xml.SyntaxError
		if errors.As(err, &syn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("xml-rpc: malformed response: %w", err)
		}
		return nil, err
	}
	return v, nil
}

// rpcDecoder walks one response's tokens.
type rpcDecoder struct {
	d *xml.Decoder
}

// response reads <methodResponse> with its <params> or <fault>.
func (r *rpcDecoder) response() (any, error) {
	root, end, err := r.child()
	if err != nil {
		return nil, err
	}
	if end {
		return nil, io.ErrUnexpectedEOF
	}
	if root.Name.Local != "methodResponse" {
		return nil, fmt.Errorf("xml-rpc: malformed response: root element is <%s>, not <methodResponse>", root.Name.Local)
	}
	body, end, err := r.child()
	if err != nil {
		return nil, err
	}
	if end {
		return nil, errors.New("xml-rpc: methodResponse holds neither one params nor one fault element")
	}
	var v any
	switch body.Name.Local {
	case "params":
		v, err = r.params()
	case "fault":
		err = r.fault()
	default:
		return nil, fmt.Errorf("xml-rpc: unexpected <%s> in methodResponse", body.Name.Local)
	}
	if err != nil {
		return nil, err
	}
	if err := r.end("methodResponse holds neither one params nor one fault element"); err != nil {
		return nil, err
	}
	return v, nil
}

// params reads the inside of <params>: one <param> with one <value>.
func (r *rpcDecoder) params() (any, error) {
	const shape = "response params must hold exactly one param with one value"
	param, end, err := r.child()
	if err != nil {
		return nil, err
	}
	if end || param.Name.Local != "param" {
		return nil, errors.New("xml-rpc: " + shape)
	}
	val, end, err := r.child()
	if err != nil {
		return nil, err
	}
	if end {
		return nil, errors.New("xml-rpc: " + shape)
	}
	v, err := r.value(val, 0)
	if err != nil {
		return nil, err
	}
	if err := r.end(shape); err != nil { // </param>
		return nil, err
	}
	if err := r.end(shape); err != nil { // </params>
		return nil, err
	}
	return v, nil
}

// fault reads the inside of <fault> and returns it as a *Fault.
func (r *rpcDecoder) fault() error {
	val, end, err := r.child()
	if err != nil {
		return err
	}
	if end {
		return errors.New("xml-rpc: fault must hold one value")
	}
	v, err := r.value(val, 0)
	if err != nil {
		return err
	}
	if err := r.end("fault must hold one value"); err != nil {
		return err
	}
	s, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("xml-rpc: fault value is %T, not a struct", v)
	}
	code, ok1 := s["faultCode"].(int)
	text, ok2 := s["faultString"].(string)
	if !ok1 || !ok2 {
		return fmt.Errorf("xml-rpc: fault struct lacks an int faultCode or a string faultString: %v", s)
	}
	return &Fault{Code: code, String: text}
}

// value decodes the <value> element start opened; depth counts the arrays
// and structs around it.
func (r *rpcDecoder) value(start xml.StartElement, depth int) (any, error) {
	if start.Name.Local != "value" {
		return nil, fmt.Errorf("xml-rpc: expected <value>, found <%s>", start.Name.Local)
	}
	text, typ, err := r.text()
	if err != nil {
		return nil, err
	}
	if typ == nil {
		return unpictureControls(text), nil // a value without a type element is a string
	}
	var v any
	switch typ.Name.Local {
	case "array", "struct":
		if depth >= maxValueDepth {
			return nil, fmt.Errorf("xml-rpc: values nested deeper than %d", maxValueDepth)
		}
		if typ.Name.Local == "array" {
			v, err = r.array(depth + 1)
		} else {
			v, err = r.structure(depth + 1)
		}
	default:
		v, err = r.scalar(typ.Name.Local)
	}
	if err != nil {
		return nil, err
	}
	if _, extra, err := r.text(); err != nil {
		return nil, err
	} else if extra != nil {
		return nil, fmt.Errorf("xml-rpc: <value> holds <%s> after <%s>, not one element", extra.Name.Local, typ.Name.Local)
	}
	return v, nil
}

// scalar reads the text of a scalar type element up to its end.
func (r *rpcDecoder) scalar(typ string) (any, error) {
	raw, inner, err := r.text()
	if err != nil {
		return nil, err
	}
	if inner != nil {
		return nil, fmt.Errorf("xml-rpc: <%s> holds an element <%s>", typ, inner.Name.Local)
	}
	text := strings.TrimSpace(raw)
	switch typ {
	case "int", "i4", "i8":
		v, err := strconv.Atoi(text)
		if err != nil {
			return nil, fmt.Errorf("xml-rpc: bad <%s> %q", typ, text)
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
		return unpictureControls(raw), nil // not trimmed: spaces are part of a string
	case "double":
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("xml-rpc: bad <double> %q", text)
		}
		return v, nil
	case "nil":
		return nil, nil
	}
	return nil, fmt.Errorf("xml-rpc: unsupported value type <%s>", typ)
}

// array reads the inside of <array>: one <data> holding values.
func (r *rpcDecoder) array(depth int) (any, error) {
	const shape = "<array> must hold one <data>"
	data, end, err := r.child()
	if err != nil {
		return nil, err
	}
	if end || data.Name.Local != "data" {
		return nil, errors.New("xml-rpc: " + shape)
	}
	out := []any{}
	for {
		el, end, err := r.child()
		if err != nil {
			return nil, err
		}
		if end {
			break
		}
		v, err := r.value(el, depth)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	if err := r.end(shape); err != nil {
		return nil, err
	}
	return out, nil
}

// structure reads the inside of <struct>: members with a name and a value.
func (r *rpcDecoder) structure(depth int) (any, error) {
	shape := errors.New("xml-rpc: <struct> members must be <member><name/><value/></member>")
	out := map[string]any{}
	for {
		member, end, err := r.child()
		if err != nil {
			return nil, err
		}
		if end {
			return out, nil
		}
		if member.Name.Local != "member" {
			return nil, shape
		}
		name, end, err := r.child()
		if err != nil {
			return nil, err
		}
		if end || name.Name.Local != "name" {
			return nil, shape
		}
		key, inner, err := r.text()
		if err != nil {
			return nil, err
		}
		if inner != nil {
			return nil, shape
		}
		val, end, err := r.child()
		if err != nil {
			return nil, err
		}
		if end {
			return nil, shape
		}
		v, err := r.value(val, depth)
		if err != nil {
			return nil, err
		}
		if _, end, err := r.child(); err != nil {
			return nil, err
		} else if !end {
			return nil, shape
		}
		out[key] = v
	}
}

// child returns the next child element of the current one, or end when the
// current element closes first. Text, comments and processing
// instructions between elements are skipped.
func (r *rpcDecoder) child() (el xml.StartElement, end bool, err error) {
	for {
		tok, err := r.d.Token()
		if err != nil {
			return el, false, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			return t, false, nil
		case xml.EndElement:
			return el, true, nil
		}
	}
}

// end reads up to the end of the current element; a further child element
// is an error with the given description of the expected shape.
func (r *rpcDecoder) end(shape string) error {
	el, end, err := r.child()
	if err != nil {
		return err
	}
	if !end {
		return fmt.Errorf("xml-rpc: %s (found another <%s>)", shape, el.Name.Local)
	}
	return nil
}

// text reads character data up to the end of the current element, or up
// to its first child element, which it returns as inner (that element is
// then open, and the text is what came before it).
func (r *rpcDecoder) text() (s string, inner *xml.StartElement, err error) {
	var b strings.Builder
	for {
		tok, err := r.d.Token()
		if err != nil {
			return "", nil, err
		}
		switch t := tok.(type) {
		case xml.CharData:
			b.Write(t)
		case xml.StartElement:
			return b.String(), &t, nil
		case xml.EndElement:
			return b.String(), nil, nil
		}
	}
}
