package main

import (
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/localapi"
)

// TestStatusPrintsConditionsFirst: the node's conditions come before
// anything else drover status prints, each with its fix; a node without
// any prints none.
func TestStatusPrintsConditionsFirst(t *testing.T) {
	st := localapi.Status{Node: "web-1a", Revision: "abc", Daemons: map[string]int{}, History: []localapi.History{},
		Conditions: []localapi.Condition{
			{Name: "supervisord", Problem: "supervisord does not answer", Fix: "start supervisord"},
			{Name: "nginx_user", Problem: "nginx's workers run as nobody (uid 65534)", Fix: "user www-data;"},
		}}
	var out, errOut strings.Builder
	if code := runStatus(&cmdEnv{stdout: &out, stderr: &errOut}, serveStatus(t, st, nil), false); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	want := `PROBLEM supervisord: supervisord does not answer
  fix: start supervisord
PROBLEM nginx_user: nginx's workers run as nobody (uid 65534)
  fix: user www-data;

node:      web-1a
`
	if !strings.HasPrefix(out.String(), want) {
		t.Errorf("drover status printed\n%s\nwant it to begin with\n%s", out.String(), want)
	}

	st.Conditions = []localapi.Condition{}
	out.Reset()
	if code := runStatus(&cmdEnv{stdout: &out, stderr: &errOut}, serveStatus(t, st, nil), false); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if !strings.HasPrefix(out.String(), "node:") {
		t.Errorf("drover status without conditions printed\n%s", out.String())
	}
}
