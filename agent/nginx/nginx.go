// Package nginx tests and reloads nginx with the operator's commands, each
// within its deadline: the side-effect seam beside agent/supervisor and
// agent/network. The files nginx loads are rendered by render and installed
// by the agent; this package only runs the commands.
package nginx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Runner runs external commands (nginx -t, nginx -s reload). Exec is the
// real one; tests model nginx with their own.
type Runner interface {
	Run(ctx context.Context, argv []string) error
}

// Nginx checks and reloads nginx with the configured commands, each within
// Timeout (0: the context's deadline only).
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
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (no answer within nginx.command_timeout %s)", err, n.Timeout)
	}
	return err
}

// Exec is the real Runner. Errors carry the command's output, which is what
// an operator needs to see (nginx explains its failures there).
type Exec struct{}

// Run runs argv and waits for it.
func (Exec) Run(ctx context.Context, argv []string) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	// At the deadline the command is killed; a child it left holding the
	// output pipe must not keep the call waiting.
	cmd.WaitDelay = time.Second
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("running %q: %w: %s", strings.Join(argv, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

var _ Runner = Exec{}
