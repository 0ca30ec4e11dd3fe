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

// Planner plans successive revisions the way the agent does: one
// spec.Loader reusing the unchanged files' models, each plan computed from
// the last (netplan.ComputeFrom), so the plans share the daemons and
// webroots of unchanged tenants.
type Planner struct {
	loader *spec.Loader
	last   *netplan.Cluster
}

// NewPlanner returns a Planner that has planned nothing yet.
func NewPlanner() *Planner { return &Planner{loader: spec.NewLoader()} }

// NodePlan loads files (name → HCL), each file's content its own hash, and
// returns the plan of node computed from the last one.
func (p *Planner) NodePlan(t testing.TB, files map[string]string, node string) *netplan.NodePlan {
	t.Helper()
	entries := map[string]spec.Entry{}
	for n, s := range files {
		data := []byte(s)
		entries[n] = spec.Entry{Kind: spec.Regular, Hash: s, Parallel: true, Read: func() ([]byte, error) { return data, nil }}
	}
	cfg, _, diags, err := p.loader.Load(entries)
	if err != nil || diags.HasErrors() {
		t.Fatalf("config invalid: %v %v", err, diags)
	}
	c, err := netplan.ComputeFrom(p.last, cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.last = c
	np, err := c.Node(node)
	if err != nil {
		t.Fatal(err)
	}
	return np
}
