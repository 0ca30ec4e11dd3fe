package launch

import (
	"testing"

	"github.com/drover-sh/drover/spec"
)

// TestSpecRulesMirrored: the bounds and names drover exec uses are spec's
// (launch keeps copies so that it does not import spec).
func TestSpecRulesMirrored(t *testing.T) {
	for _, c := range []struct {
		name      string
		got, want int64
	}{
		{"MinUID", minUID, spec.MinUID},
		{"MaxUID", maxUID, spec.MaxUID},
		{"MinMaxOpenFiles", minMaxOpenFiles, spec.MinMaxOpenFiles},
		{"MaxMaxOpenFiles", maxMaxOpenFiles, spec.MaxMaxOpenFiles},
	} {
		if c.got != c.want {
			t.Errorf("launch's %s is %d, spec's %d", c.name, c.got, c.want)
		}
	}
	if got, want := memoryCgroup("daemon-acme-ws_01"), spec.MemoryCgroup("daemon-acme-ws_01"); got != want {
		t.Errorf("memory cgroup %q, spec's %q", got, want)
	}
}
