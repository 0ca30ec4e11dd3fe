package supervisor

import (
	"context"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// The golden request bodies were checked once with supervisord's own parser
// (supervisor.xmlrpc.supervisor_xmlrpc_handler.loads): the parameters come
// out as written, the NUL as U+FFFD.
func TestEncodeCallGolden(t *testing.T) {
	tests := []struct {
		golden string
		method string
		params []any
	}{
		{"request_reloadConfig.xml", "supervisor.reloadConfig", nil},
		{"request_stopProcessGroup.xml", "supervisor.stopProcessGroup", []any{"daemon-acme-web", true}},
		{"request_startProcessGroup.xml", "supervisor.startProcessGroup", []any{"daemon-acme-web", false}},
		{"request_readLog.xml", "supervisor.readLog", []any{-1, 2147483647}},
		{"request_escaping.xml", "supervisor.getProcessInfo", []any{"a&b<c>d\"e'f\tg\nh é \x00"}},
	}
	for _, tt := range tests {
		t.Run(tt.golden, func(t *testing.T) {
			got, err := encodeCall(tt.method, tt.params...)
			if err != nil {
				t.Fatal(err)
			}
			checkGolden(t, tt.golden, got)
		})
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (run with -update to accept):\ngot:\n%s\nwant:\n%s", name, got, want)
	}
}

func TestEncodeCallRejects(t *testing.T) {
	for _, p := range []any{int64(1), 1.5, 1 << 31, []string{"x"}} {
		if _, err := encodeCall("m", p); err == nil {
			t.Errorf("encodeCall(%T %v) succeeded", p, p)
		}
	}
}

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// response_values.xml was written by Python's xmlrpc.client.dumps, as
// supervisord writes its responses.
func TestDecodeValues(t *testing.T) {
	got, err := decodeResponse(readTestdata(t, "response_values.xml"))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{1, true, false, "plain", " spaced & <escaped> é☃ ", 2.5, nil, []any{}, map[string]any{}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v\nwant %#v", got, want)
	}
}

func TestDecodeResponse(t *testing.T) {
	wrap := func(v string) string {
		return "<?xml version='1.0'?>\n<methodResponse>\n<params>\n<param>\n" + v + "\n</param>\n</params>\n</methodResponse>\n"
	}
	tests := []struct {
		name, body string
		want       any
		err        string
	}{
		{"bare text is a string", wrap("<value> bare &amp; text </value>"), " bare & text ", ""},
		{"empty value", wrap("<value></value>"), "", ""},
		{"i4", wrap("<value><i4> -7 </i4></value>"), -7, ""},
		{"whitespace around the type", wrap("<value>\n  <int>3</int>\n</value>"), 3, ""},
		{"struct", wrap("<value><struct><member><name>a</name><value>x</value></member></struct></value>"), map[string]any{"a": "x"}, ""},
		{"nested array", wrap("<value><array><data><value><array><data><value>x</value></data></array></value></data></array></value>"), []any{[]any{"x"}}, ""},
		{"CDATA", wrap("<value><string><![CDATA[<x>]]></string></value>"), "<x>", ""},
		{"bad int", wrap("<value><int>x</int></value>"), nil, `bad <int> "x"`},
		{"bad boolean", wrap("<value><boolean>true</boolean></value>"), nil, `bad <boolean> "true"`},
		{"dateTime unsupported", wrap("<value><dateTime.iso8601>20240101T00:00:00</dateTime.iso8601></value>"), nil, "unsupported value type <dateTime.iso8601>"},
		{"two params", "<methodResponse><params><param><value>a</value></param><param><value>b</value></param></params></methodResponse>", nil, "exactly one param"},
		{"not a response", "<methodCall/>", nil, "not <methodResponse>"},
		{"not XML", "<html>502 Bad Gateway", nil, "malformed response"},
		{"fault without code", "<methodResponse><fault><value><struct></struct></value></fault></methodResponse>", nil, "lacks an int faultCode"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decodeResponse([]byte(tt.body))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestDecodeFault(t *testing.T) {
	_, err := decodeResponse(readTestdata(t, "response_fault.xml"))
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("error %v is not a *Fault", err)
	}
	if *f != (Fault{Code: FaultBadName, String: "BAD_NAME: no<such>&group"}) {
		t.Errorf("fault %#v", *f)
	}
	if !IsFault(err, FaultBadName) || IsFault(err, FaultNotRunning) {
		t.Errorf("IsFault is wrong for %v", err)
	}
}

// fixtureServer serves supervisord's XML-RPC on a unix socket: each method
// answers with testdata/response_METHOD.xml (or a fault for "fail"), and the
// last request body is kept for inspection.
func fixtureServer(t *testing.T) (socket string, lastBody func() string) {
	t.Helper()
	socket = filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	methodRE := regexp.MustCompile(`<methodName>supervisor\.(\w+)</methodName>`)
	var (
		mu   sync.Mutex
		last string
	)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body := string(b)
		mu.Lock()
		last = body
		mu.Unlock()
		if r.URL.Path != "/RPC2" || r.Method != http.MethodPost {
			http.Error(w, "not found", http.StatusNotFound)
			return
		}
		m := methodRE.FindStringSubmatch(body)
		if m == nil || m[1] == "shutdown" {
			http.Error(w, "boom", http.StatusInternalServerError)
			return
		}
		name := "response_" + m[1] + ".xml"
		switch m[1] {
		case "addProcessGroup", "removeProcessGroup":
			name = "response_fault.xml"
		case "startProcessGroup":
			name = "response_stopProcessGroup.xml"
		}
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.Write(b)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return socket, func() string {
		mu.Lock()
		defer mu.Unlock()
		return last
	}
}

func TestClientAgainstFixtures(t *testing.T) {
	socket, body := fixtureServer(t)
	c := New(socket)
	ctx := context.Background()

	added, changed, removed, err := c.ReloadConfig(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual([][]string{added, changed, removed}, [][]string{{"d"}, {"b", "b2"}, {}}) {
		t.Errorf("ReloadConfig = %q %q %q", added, changed, removed)
	}

	info, err := c.ProcessInfo(ctx, "web:web_00")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(body(), "<string>web:web_00</string>") {
		t.Errorf("request body %s", body())
	}
	want := ProcessInfo{
		Name: "web_00", Group: "web", State: "RUNNING", Description: "pid 20686, uptime 0:00:02",
		StateCode: 20, PID: 20686, Start: time.Unix(1795652154, 0), Now: time.Unix(1795652156, 0),
	}
	if !reflect.DeepEqual(info, want) {
		t.Errorf("ProcessInfo =\n%#v\nwant\n%#v", info, want)
	}

	all, err := c.AllProcessInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0].State != "FATAL" || all[0].StateCode != 200 || all[0].ExitStatus != 1 ||
		all[0].SpawnErr != "Exited too quickly (process log may have details)" || all[0].PID != 0 || !reflect.DeepEqual(all[1], want) {
		t.Errorf("AllProcessInfo = %#v", all)
	}

	if st, err := c.State(ctx); err != nil || st != "RUNNING" {
		t.Errorf("State = %q, %v", st, err)
	}

	// One process of two failed: a Fault for it, none for the other.
	err = c.StopProcessGroup(ctx, "web", true)
	if !IsFault(err, FaultFailed) || IsFault(err, FaultSuccess) || !strings.Contains(err.Error(), "FAILED: web:web_01 & co") {
		t.Errorf("StopProcessGroup error %v", err)
	}
	if !strings.Contains(body(), "<param><value><boolean>1</boolean></value></param>") {
		t.Errorf("request body %s", body())
	}
	if err := c.StartProcessGroup(ctx, "web", false); !IsFault(err, FaultFailed) {
		t.Errorf("StartProcessGroup error %v", err)
	}

	// Faults come back as *Fault, unwrapped.
	err = c.AddProcessGroup(ctx, "x")
	if f, ok := err.(*Fault); !ok || f.Code != FaultBadName {
		t.Errorf("AddProcessGroup error %#v", err)
	}
	if err := c.RemoveProcessGroup(ctx, "x"); !IsFault(err, FaultBadName) {
		t.Errorf("RemoveProcessGroup error %v", err)
	}

	// HTTP errors are wrapped with the socket.
	_, err = c.call(ctx, "supervisor.shutdown")
	if err == nil || !strings.Contains(err.Error(), "supervisord at "+socket+": supervisor.shutdown: HTTP 500") {
		t.Errorf("HTTP error %v", err)
	}
}

func TestClientTransportError(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "missing.sock")
	_, err := New(socket).State(context.Background())
	if err == nil || !strings.HasPrefix(err.Error(), "supervisord at "+socket+": supervisor.getState: ") {
		t.Fatalf("error %v", err)
	}
	var ne *net.OpError
	if !errors.As(err, &ne) {
		t.Errorf("error %v does not wrap the dial error", err)
	}
}

func TestClientContextDeadline(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "slow.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() { // accept and never answer
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = New(socket).State(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("error %v, want a deadline", err)
	}
}

// supervisord writes a string's control characters raw, which XML forbids:
// they are decoded as the bytes they are.
func TestDecodeRawControls(t *testing.T) {
	body := "<?xml version='1.0'?>\n<methodResponse><params><param><value><array><data>" +
		"<value><string>red \x1b[31m\x00\x07 tab\t \u241b kept</string></value><value>x\x01</value>" +
		"</data></array></value></param></params></methodResponse>"
	v, err := decodeResponse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []any{"red \x1b[31m\x00\x07 tab\t \x1b kept", "x\x01"}
	if !reflect.DeepEqual(v, want) {
		t.Errorf("decoded %q, want %q", v, want)
	}
}
