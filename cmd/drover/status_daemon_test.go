package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

// TestStatusDaemon: drover status TENANT/WEBROOT/DAEMON prints one daemon
// in full, a "key: value" line each and its stderr indented below; --json
// prints the API's object; a daemon elsewhere is an error with where to
// look (exit 1), a malformed one a usage error (exit 2).
func TestStatusDaemon(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	port, path := 20001, "/ws"
	d := localapi.Daemon{Key: "acme/main/crash", Status: "crash-looping", Command: "node server.js",
		Reason:  "exit status 1 after 2s (3 failed runs in a row): Error: Cannot find module x; starting again in 8s",
		Restart: "always", Restarts: 4, FailedRuns: 3,
		LastExit:  &localapi.Exit{Started: at, At: at.Add(2 * time.Second), Status: 1, Text: "exit status 1 after 2s"},
		NextRetry: new(at.Add(10 * time.Second)), PIDs: []int{}, ProxyPort: &port, ProxyPath: &path,
		Host: "fd00:5ccd:1::f72f", Node: "n1", Revision: "abc123", Since: at.Add(-time.Minute), UpdatedAt: at.Add(2 * time.Second),
		Stderr: "npm WARN x\nError: Cannot find module x"}
	c := serveStatus(t, localapi.Status{Node: "n1"}, []localapi.Daemon{d})
	fs := lookup("status").cobra(&cmdEnv{}).Flags()

	var out, errOut strings.Builder
	env := &cmdEnv{stdout: &out, stderr: &errOut}
	if code := runStatusDaemon(env, fs, c, "acme/main/crash", false); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := "daemon:      acme/main/crash\n" +
		"status:      crash-looping since " + when(at.Add(-time.Minute)) + "\n" +
		"reason:      exit status 1 after 2s (3 failed runs in a row): Error: Cannot find module x; starting again in 8s\n" +
		"restart:     always\n" +
		"restarts:    4\n" +
		"failed runs: 3 in a row\n" +
		"last exit:   exit status 1 after 2s (started " + when(at) + ", ended " + when(at.Add(2*time.Second)) + ")\n" +
		"next retry:  " + when(at.Add(10*time.Second)) + "\n" +
		"pids:        -\n" +
		"port:        20001 (nginx proxies /ws)\n" +
		"address:     fd00:5ccd:1::f72f\n" +
		"node:        n1\n" +
		"revision:    abc123\n" +
		"command:     node server.js\n" +
		"updated:     " + when(at.Add(2*time.Second)) + "\n" +
		"stderr:\n" +
		"  npm WARN x\n" +
		"  Error: Cannot find module x\n"
	if out.String() != want {
		t.Errorf("drover status acme/main/crash printed\n%s\nwant\n%s", out.String(), want)
	}

	out.Reset()
	if code := runStatusDaemon(env, fs, c, "acme/main/crash", true); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var got localapi.Daemon
	if err := json.Unmarshal([]byte(out.String()), &got); err != nil || got.Key != d.Key || got.LastExit == nil ||
		got.LastExit.Status != 1 || got.Restarts != 4 || got.Stderr != d.Stderr {
		t.Errorf("drover status --json acme/main/crash printed %s (%v)", out.String(), err)
	}

	out.Reset()
	if code := runStatusDaemon(env, fs, c, "acme/main/nope", false); code != exitFailure || out.Len() > 0 ||
		errOut.String() != "drover status: daemon acme/main/nope does not run on node n1\n"+
			"drover status lists the daemons of this node; drover placement says where each runs.\n" {
		t.Errorf("a daemon elsewhere: exit %d, %q", code, errOut.String())
	}
	errOut.Reset()
	if code := runStatusDaemon(env, fs, c, "acme/main", false); code != exitUsage || !strings.Contains(errOut.String(), `"acme/main" is not TENANT/WEBROOT/DAEMON`) {
		t.Errorf("a malformed key: exit %d, %q", code, errOut.String())
	}
}
