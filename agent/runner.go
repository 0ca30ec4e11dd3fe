package agent

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"
)

// Runner runs external commands (nginx -t, nginx -s reload).
type Runner interface {
	Run(ctx context.Context, argv []string) error
}

// execRunner is the real Runner. Errors carry the command's output, which
// is what an operator needs to see (nginx explains its failures there).
type execRunner struct{}

func (execRunner) Run(ctx context.Context, argv []string) error {
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

var _ Runner = execRunner{}
