package supervisor

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestBatchRequestsInParallel: a batched call sends its multicall requests
// at once (supervisord moves 4 KB of each connection per turn of its main
// loop, so one connection at a time made answers about thousands of
// processes take seconds), and each call's result still lands at its own
// index.
func TestBatchRequestsInParallel(t *testing.T) {
	const requests = 4
	socket := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu             sync.Mutex
		inflight, most int
		allIn          = make(chan struct{})
		groupRE        = regexp.MustCompile(`<string>(g\d+)</string>`)
		fault, ok      = faultXML(FaultBadName, "BAD_NAME"), "<value><boolean>1</boolean></value>"
		bad            = func(g string) bool { return strings.HasSuffix(g, "7") }
		closeOnce      sync.Once
	)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		inflight++
		most = max(most, inflight)
		if inflight == requests {
			closeOnce.Do(func() { close(allIn) })
		}
		mu.Unlock()
		select { // hold every answer until all requests are in
		case <-allIn:
		case <-time.After(3 * time.Second):
		}
		var out strings.Builder
		out.WriteString("<?xml version='1.0'?><methodResponse><params><param><value><array><data>")
		for _, m := range groupRE.FindAllStringSubmatch(string(body), -1) {
			if bad(m[1]) {
				out.WriteString(fault)
			} else {
				out.WriteString(ok)
			}
		}
		out.WriteString("</data></array></value></param></params></methodResponse>")
		mu.Lock()
		inflight--
		mu.Unlock()
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, out.String())
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	groups := make([]string, (requests-1)*batchSize+1)
	for i := range groups {
		groups[i] = fmt.Sprintf("g%d", i)
	}
	errs := New(socket).Batch(context.Background(), OpAdd, groups)
	if most != requests {
		t.Errorf("%d multicall requests in flight at most, want all %d at once", most, requests)
	}
	for i, g := range groups {
		if got := IsFault(errs[i], FaultBadName); got != bad(g) || !bad(g) && errs[i] != nil {
			t.Fatalf("%s: error %v", g, errs[i])
		}
	}
}

// faultXML is a fault struct as supervisord puts it in a multicall answer.
func faultXML(code int, text string) string {
	return fmt.Sprintf("<value><struct><member><name>faultCode</name><value><int>%d</int></value></member>"+
		"<member><name>faultString</name><value><string>%s</string></value></member></struct></value>", code, text)
}
