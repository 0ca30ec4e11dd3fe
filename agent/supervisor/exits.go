package supervisor

import (
	"context"
	"fmt"
)

// drover, not supervisord, decides whether and when a process that exited
// is started again (programs are rendered with autorestart=false): these
// are the calls it makes for that.

// StartProcesses starts each named process ("group:name") in one request
// per batchSize names, without waiting for it to leave STARTING;
// errs[i] is the fault for names[i] (ALREADY_STARTED when it runs).
func (c *Client) StartProcesses(ctx context.Context, names []string) []error {
	errs := make([]error, len(names))
	c.batches(ctx, "supervisor.startProcess", names, func(n string) []any { return []any{n, false} }, func(i int, _ any, err error) {
		errs[i] = err
	})
	return errs
}

// StderrTails returns up to max bytes of the end of each named process's
// stderr log, in one request per batchSize names. The text is the
// process's own output: the tenant's, to be cleaned before it is shown.
func (c *Client) StderrTails(ctx context.Context, names []string, max int) ([]string, []error) {
	const method = "supervisor.tailProcessStderrLog"
	tails := make([]string, len(names))
	errs := make([]error, len(names))
	c.batches(ctx, method, names, func(n string) []any { return []any{n, 0, max} }, func(i int, v any, err error) {
		if errs[i] = err; err != nil {
			return
		}
		// [bytes, offset, overflow]
		if list, ok := v.([]any); ok && len(list) == 3 {
			if s, ok := list[0].(string); ok {
				if len(s) > max {
					s = s[len(s)-max:]
				}
				tails[i] = s
				return
			}
		}
		errs[i] = c.wrap(method, fmt.Errorf("result is %T, not [string, int, bool]", v))
	})
	return tails, errs
}
