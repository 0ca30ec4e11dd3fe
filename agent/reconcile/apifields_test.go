package reconcile

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// TestDaemonJSONShowsEveryField keeps localapi.Daemon, whose field names are a
// stable contract and so written out by hand, in step with
// spec.DaemonFields: every attribute the table shows in the API has a
// field of its name carrying the daemon's value, null when an optional
// attribute is absent, and the environment is redacted. A new attribute
// fails here until it is added to localapi.Daemon (or marked spec.APIHidden).
func TestDaemonJSONShowsEveryField(t *testing.T) {
	// A value for every attribute, unlike its default.
	written := map[string]string{
		"command": `"app --port=$PORT"`, "proxy_path": `"/app"`, "num_procs": "2", "stop_signal": `"QUIT"`,
		"stop_wait_secs": "5", "restart": `"on-failure"`, "max_memory_mb": "64", "max_open_files": "10000",
		"environment": `{ SECRET = "hunter2" }`, "env_file": `".env.hosting"`, "restart_on_change": `"REVISION"`, "health": `{ path = "/up" }`, "enabled": "false", "singleton": "true", "port": "12000", "node": `"web-1a"`,
	}
	var all []string
	for _, f := range spec.DaemonFields {
		v, ok := written[f.Name]
		if !ok {
			t.Fatalf("%s: add a value to this test", f.Name)
		}
		if f.Type == spec.TypeHealth {
			all = append(all, f.Name+" "+v) // a block
			continue
		}
		all = append(all, f.Name+" = "+v)
	}
	full := apiJSON(t, daemonOf(t, all))
	bare := apiJSON(t, daemonOf(t, []string{"command = " + written["command"]}))
	d := daemonOf(t, all)
	for _, f := range spec.DaemonFields {
		switch f.API {
		case spec.APIValue:
			got, ok := full[f.Name]
			if !ok {
				t.Errorf("localapi.Daemon has no field %q: add it (and fill it in apiDaemon)", f.Name)
				continue
			}
			if f.Type == spec.TypeHealth {
				// An object: the block's values, then what the probes say.
				h, _ := got.(map[string]any)
				want := map[string]any{"path": "/up", "interval": "10s", "timeout": "2s", "failures": 3.0, "start_period": "0s",
					"status": localapi.HealthNotChecked, "failures_in_a_row": 0.0, "restarts": 0.0}
				if fmt.Sprint(h) != fmt.Sprint(want) {
					t.Errorf("%s = %v in the API, want %v", f.Name, got, want)
				}
			} else if want, _ := f.Text(d.Daemon); fmt.Sprint(got) != want {
				t.Errorf("%s = %v in the API, want %s", f.Name, got, want)
			}
			if !f.Required && f.Default == nil {
				if v, ok := bare[f.Name]; !ok || v != nil {
					t.Errorf("%s = %v in the API when absent, want null", f.Name, v)
				}
			}
		case spec.APIRedacted:
			if env, ok := full[f.Name].(map[string]any); !ok || env["SECRET"] != localapi.Redacted {
				t.Errorf("%s = %v in the API, want every value %s", f.Name, full[f.Name], localapi.Redacted)
			}
		}
	}
}

// daemonOf is the placed daemon acme/main/w with the given attribute lines.
func daemonOf(t *testing.T, attrs []string) *netplan.Daemon {
	t.Helper()
	src := `cluster "c" {}
shard "s" {
  node "web-1a" { index = 1 }
}
tenant "acme" {
  uid   = 10042
  shard = "s"
  webroot "main" {
    daemon "w" {
      ` + strings.Join(attrs, "\n      ") + `
    }
  }
}
`
	cfg, _, diags := spec.Load(map[string][]byte{"c.hcl": []byte(src)})
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	c, err := netplan.Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c.Daemon("acme/main/w")
}

// apiJSON is the daemon as GET /v1/daemons shows it, decoded.
func apiJSON(t *testing.T, d *netplan.Daemon) map[string]any {
	t.Helper()
	b, err := json.Marshal(apiDaemon(store.DaemonStatus{Key: d.Key, Node: "web-1a", Status: StatusRunning}, d))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}
