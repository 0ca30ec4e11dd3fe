package agent

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/store"
)

// TestOpenLocksStateDir: Open holds state_dir's lock until Close, so a
// second agent on the same state refuses to start, and one started after
// Close does.
func TestOpenLocksStateDir(t *testing.T) {
	dir := t.TempDir()
	cfg := config.Default()
	cfg.Node = "web-1a"
	cfg.StateDir = filepath.Join(dir, "state")
	cfg.Supervisor.ConfDir = filepath.Join(dir, "supervisor")
	cfg.Nginx.ConfDir = filepath.Join(dir, "nginx")
	cfg.API.Socket = filepath.Join(dir, "run", "agent.sock")
	cfg.Source.URL = filepath.Join(dir, "repo")

	a, err := Open(cfg, nil)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	var locked *store.LockedError
	if b, err := Open(cfg, nil); !errors.As(err, &locked) {
		if b != nil {
			b.Close()
		}
		t.Errorf("a second Open on the same state_dir: %v; want it locked", err)
	}
	a.Close()
	a, err = Open(cfg, nil)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	a.Close()
}
