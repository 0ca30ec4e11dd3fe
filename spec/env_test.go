package spec_test

import (
	"maps"
	"testing"

	"github.com/drover-sh/drover/spec"
)

// TestEnvironmentIsSortedByName: a daemon's environment comes out of the
// model sorted by name whatever order the file wrote it in, and every
// variable is found by Lookup, Value and Map; a name not set is not.
func TestEnvironmentIsSortedByName(t *testing.T) {
	repo := baseRepo()
	delete(repo, tenantFile)
	repo[tenantFile+".json"] = `{"tenant": {"acme": {"uid": 10042, "shard": "web-1", "webroot": {"main": {"daemon": {"worker": {
  "command": "app",
  "environment": {"ZED": "z", "APP_ENV": "production", "MIDDLE": "", "B": "two words"}
}}}}}}}`
	d := mustLoad(t, repo).Tenants[0].Webroots[0].Daemons[0]
	want := spec.Env{{"APP_ENV", "production"}, {"B", "two words"}, {"MIDDLE", ""}, {"ZED", "z"}}
	if len(d.Environment) != len(want) {
		t.Fatalf("environment = %q, want %q", d.Environment, want)
	}
	for i, v := range want {
		if d.Environment[i] != v {
			t.Errorf("environment[%d] = %q, want %q", i, d.Environment[i], v)
		}
		if got, ok := d.Environment.Lookup(v.Name); !ok || got != v.Value {
			t.Errorf("Lookup(%q) = %q, %v", v.Name, got, ok)
		}
		if got := d.Environment.Value(v.Name); got != v.Value {
			t.Errorf("Value(%q) = %q", v.Name, got)
		}
	}
	for _, name := range []string{"", "A", "APP", "C", "ZEDS", "zed"} {
		if got, ok := d.Environment.Lookup(name); ok {
			t.Errorf("Lookup(%q) = %q, true for a name not set", name, got)
		}
	}
	if m := d.Environment.Map(); !maps.Equal(m, map[string]string{"APP_ENV": "production", "B": "two words", "MIDDLE": "", "ZED": "z"}) {
		t.Errorf("Map() = %v", m)
	}
}
