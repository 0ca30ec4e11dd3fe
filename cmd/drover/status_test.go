package main

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

// TestStatusHelpNamesEveryField keeps `drover help status` in step with
// what `drover status --json` prints: the help's field lines name exactly
// the top-level fields of statusJSON, and every field inside them is
// named too. A field added to localapi.Status or localapi.Daemon fails
// here until the help describes it.
func TestStatusHelpNamesEveryField(t *testing.T) {
	full := statusJSON{
		Status: localapi.Status{
			LastError: "x", SourceError: "x", NetworkError: "x",
			Network: &localapi.Network{}, Rejected: &localapi.Rejection{}, Restarts: &localapi.Restarts{},
			Daemons: map[string]int{"running": 1}, History: []localapi.History{{}},
			Conditions: []localapi.Condition{{}}, Pool: &localapi.Pool{Members: []localapi.PoolMember{{}}},
			Suspension: &localapi.Suspension{Reason: "x", RolledBackFrom: "x"},
		},
		DaemonList: []localapi.Daemon{{Reason: "x", NextRetry: &time.Time{}, FailoverFrom: "x", RestartedByOperator: &time.Time{}}},
	}
	b, err := json.Marshal(full)
	if err != nil {
		t.Fatal(err)
	}
	var top map[string]any
	if err := json.Unmarshal(b, &top); err != nil {
		t.Fatal(err)
	}
	var want []string
	for k := range top {
		want = append(want, k)
	}
	sort.Strings(want)
	// The help's field lines: two spaces, the name, two or more spaces.
	var got []string
	for _, m := range regexp.MustCompile(`(?m)^  ([a-z_]+)  +\S`).FindAllStringSubmatch(statusHelp, -1) {
		got = append(got, m[1])
	}
	sort.Strings(got)
	if !slices.Equal(got, want) {
		t.Errorf("the help of drover status describes the fields %v; drover status --json prints %v", got, want)
	}
	words := regexp.MustCompile(`[a-z_]+`).FindAllString(statusHelp, -1)
	for name, v := range top {
		if name == "daemons" {
			continue // its keys are statuses, not fields
		}
		for _, field := range nestedKeys(v) {
			if !slices.Contains(words, field) {
				t.Errorf("the help of drover status does not name %s.%s", name, field)
			}
		}
	}
}

// nestedKeys are the field names of an object, or of a list's first one.
func nestedKeys(v any) []string {
	if l, ok := v.([]any); ok && len(l) > 0 {
		v = l[0]
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	return keys
}

// TestStatusText: drover status prints counts in English ("1 route",
// "1 drift repair") and --json prints statusJSON, counts under daemons and
// the list under daemon_list.
func TestStatusText(t *testing.T) {
	st := localapi.Status{Node: "web-1a", Revision: "abc", LastResult: localapi.OutcomeApplied,
		Network: &localapi.Network{TenantInterface: "tenant0", TransitInterface: "eth0", Transit: "fd00::1",
			Addresses: 1, Routes: 1, NftTable: "drover", DriftRepairs: 1},
		Daemons: map[string]int{"running": 1}, History: []localapi.History{}, Head: "def",
		Pool:       &localapi.Pool{Members: []localapi.PoolMember{{Name: "web-1a", State: "alive"}, {Name: "web-1b", State: "dead", Out: true}}},
		Suspension: &localapi.Suspension{Revision: "abc", RolledBackFrom: "def", Reason: "incident 42"}}
	daemons := []localapi.Daemon{{Key: "acme/main/ws", Status: "running", PIDs: []int{42}, FailoverFrom: "web-1b", Reason: "ok"}}
	c := serveStatus(t, st, daemons)

	var out, errOut strings.Builder
	if code := runStatus(&cmdEnv{stdout: &out, stderr: &errOut}, c, false); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := "network:   1 tenant address on tenant0, transit fd00::1 on eth0, 1 route, table ip6 drover (1 drift repair)\n"
	for _, want := range []string{want,
		"pool:      NO QUORUM (singletons stopped): web-1a alive since never; web-1b dead since never (its daemons run elsewhere)\n",
		"failover from web-1b; ok",
		"suspended at abc since never (rolled back from def), head is def: incident 42\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("drover status printed\n%s\nwant\n%s", out.String(), want)
		}
	}

	out.Reset()
	if code := runStatus(&cmdEnv{stdout: &out, stderr: &errOut}, c, true); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got struct {
		Daemons    map[string]int    `json:"daemons"`
		DaemonList []localapi.Daemon `json:"daemon_list"`
	}
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil {
		t.Fatal(err)
	}
	if got.Daemons["running"] != 1 || len(got.DaemonList) != 1 || got.DaemonList[0].Key != "acme/main/ws" {
		t.Errorf("drover status --json printed %s", out.String())
	}
}

// serveStatus serves the local API of a node in state st on a socket of
// the test's own and returns a client of it.
func serveStatus(t *testing.T, st localapi.Status, daemons []localapi.Daemon) *localapi.Client {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "api.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: localapi.Handler(statusNode{st, daemons})}
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return localapi.NewClient(sock)
}

// statusNode is a node that only answers status questions.
type statusNode struct {
	st      localapi.Status
	daemons []localapi.Daemon
}

func (n statusNode) Name() string                        { return n.st.Node }
func (n statusNode) Status() (localapi.Status, error)    { return n.st, nil }
func (n statusNode) Daemons() ([]localapi.Daemon, error) { return n.daemons, nil }
func (n statusNode) Retry(string) (bool, error)          { return false, nil }
func (n statusNode) Restart(string) (bool, error)        { return false, nil }
func (n statusNode) Logs(context.Context, string, localapi.LogQuery) (localapi.Logs, bool, error) {
	return localapi.Logs{}, false, nil
}
func (n statusNode) Event(localapi.Event) error { return nil }
func (n statusNode) Reconcile(context.Context) localapi.Result {
	return localapi.Result{Outcome: localapi.OutcomeUnchanged}
}

func (n statusNode) RequestPass() {}

func (n statusNode) Suspend(string) (localapi.Suspended, error) { return localapi.Suspended{}, nil }
func (n statusNode) Resume(context.Context) localapi.Resumed    { return localapi.Resumed{} }
func (n statusNode) Rollback(context.Context, string, string) (localapi.Result, error) {
	return localapi.Result{}, nil
}
