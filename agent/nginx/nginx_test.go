package nginx

import (
	"context"
	"strings"
	"testing"
	"time"
)

// A command that hangs is killed at the deadline, and the error says which
// setting bounds it; a failing command's output is in its error.
func TestDeadlineAndOutput(t *testing.T) {
	n := &Nginx{Runner: Exec{}, TestCommand: []string{"sleep", "30"}, ReloadCommand: []string{"true"}, Timeout: 200 * time.Millisecond}
	start := time.Now()
	err := n.TestAndReload(context.Background())
	if err == nil || !strings.Contains(err.Error(), "nginx.command_timeout") || time.Since(start) > 10*time.Second {
		t.Errorf("hanging test command: %v after %s", err, time.Since(start))
	}
	n = &Nginx{Runner: Exec{}, TestCommand: []string{"sh", "-c", "echo 'unknown directive \"x\"' >&2; exit 1"}, ReloadCommand: []string{"true"}}
	if err := n.TestAndReload(context.Background()); err == nil || !strings.Contains(err.Error(), `unknown directive "x"`) ||
		!strings.HasPrefix(err.Error(), "nginx configuration test failed") {
		t.Errorf("failing test command: %v", err)
	}
	n = &Nginx{Runner: Exec{}, TestCommand: []string{"true"}, ReloadCommand: []string{"true"}}
	if err := n.TestAndReload(context.Background()); err != nil {
		t.Errorf("working commands: %v", err)
	}
}
