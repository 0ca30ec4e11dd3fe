package agent

import (
	"context"
	"fmt"
	"time"
)

// Nginx checks and reloads nginx with the configured commands, each
// within Timeout.
type Nginx struct {
	Runner        Runner
	TestCommand   []string
	ReloadCommand []string
	Timeout       time.Duration
}

// TestAndReload runs the test command, then the reload command.
func (n *Nginx) TestAndReload(ctx context.Context) error {
	if err := n.run(ctx, n.TestCommand); err != nil {
		return fmt.Errorf("nginx configuration test failed: %w", err)
	}
	if err := n.run(ctx, n.ReloadCommand); err != nil {
		return fmt.Errorf("reload nginx: %w", err)
	}
	return nil
}

func (n *Nginx) run(ctx context.Context, argv []string) error {
	if n.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, n.Timeout)
		defer cancel()
	}
	err := n.Runner.Run(ctx, argv)
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("%w (no answer within nginx.command_timeout %s)", err, n.Timeout)
	}
	return err
}
