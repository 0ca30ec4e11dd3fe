// Package testplan gives tests the node plan of a config repository held
// in memory, failing the test on any error.
package testplan

import (
	"testing"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

// NodePlan loads files (name → HCL) and returns the plan of node.
func NodePlan(t testing.TB, files map[string]string, node string) *netplan.NodePlan {
	t.Helper()
	srcs := map[string][]byte{}
	for n, s := range files {
		srcs[n] = []byte(s)
	}
	cfg, _, diags := spec.Load(srcs)
	if diags.HasErrors() {
		t.Fatalf("config invalid: %v", diags)
	}
	c, err := netplan.Compute(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Node(node)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
