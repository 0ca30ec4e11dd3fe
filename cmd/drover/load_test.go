package main

import (
	"runtime/debug"
	"testing"
)

// TestLoaderSetsCollectorPercent: a command that decodes a repository
// collects at collectorPercent, unless GOGC says otherwise.
func TestLoaderSetsCollectorPercent(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "")
	if _, err := newLoader(); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != collectorPercent {
		t.Errorf("GOGC unset: the collector's percent is %d, want %d", got, collectorPercent)
	}
	t.Setenv("GOGC", "100")
	if _, err := newLoader(); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC=100: the collector's percent is %d, want GOGC's 100", got)
	}
}
