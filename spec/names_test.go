package spec_test

import (
	"reflect"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// TestDaemonNames pins every name a daemon takes on a node: the validator
// checks exactly these for collisions.
func TestDaemonNames(t *testing.T) {
	for _, tc := range []struct {
		procs int
		want  []spec.NodeName
	}{
		{1, []spec.NodeName{
			{NS: spec.NSProgram, Name: "daemon-acme-ws"},
			{NS: spec.NSProcess, Name: "daemon-acme-ws"},
			{NS: spec.NSCgroup, Name: "drover/daemon-acme-ws"},
			{NS: spec.NSExecSpec, Name: "daemon-acme-ws.json"},
		}},
		{2, []spec.NodeName{
			{NS: spec.NSProgram, Name: "daemon-acme-ws"},
			{NS: spec.NSProcess, Name: "daemon-acme-ws_00"},
			{NS: spec.NSProcess, Name: "daemon-acme-ws_01"},
			{NS: spec.NSCgroup, Name: "drover/daemon-acme-ws_00"},
			{NS: spec.NSCgroup, Name: "drover/daemon-acme-ws_01"},
			{NS: spec.NSExecSpec, Name: "daemon-acme-ws.json"},
		}},
	} {
		if got := spec.DaemonNames("acme", "ws", tc.procs); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("DaemonNames(acme, ws, %d) = %v, want %v", tc.procs, got, tc.want)
		}
	}
	want := []spec.NodeName{{NS: spec.NSNginx, Name: "locations/acme_main.conf"}, {NS: spec.NSNginx, Name: "servers/acme_main.conf"}}
	if got := spec.WebrootNames("acme", "main"); !reflect.DeepEqual(got, want) {
		t.Errorf("WebrootNames(acme, main) = %v, want %v", got, want)
	}
}
