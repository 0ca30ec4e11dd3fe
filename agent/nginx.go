package agent

import (
	"context"
	"fmt"
)

// Nginx checks and reloads nginx with the configured commands.
type Nginx struct {
	Runner        Runner
	TestCommand   []string
	ReloadCommand []string
}

// TestAndReload runs the test command, then the reload command.
func (n *Nginx) TestAndReload(ctx context.Context) error {
	if err := n.Runner.Run(ctx, n.TestCommand); err != nil {
		return fmt.Errorf("nginx configuration test failed: %w", err)
	}
	if err := n.Runner.Run(ctx, n.ReloadCommand); err != nil {
		return fmt.Errorf("reload nginx: %w", err)
	}
	return nil
}
