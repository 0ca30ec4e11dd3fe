package source

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// DefaultTimeout bounds one Head or one Fetch when Options.Timeout is zero.
const DefaultTimeout = 2 * time.Minute

// errDeadline is the cause of a context cut by the source's own deadline,
// told apart from a deadline of the caller's.
var errDeadline = errors.New("source timeout")

// withDeadline bounds one operation by the source's timeout.
func (s *Source) withDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeoutCause(ctx, s.timeout(), errDeadline)
}

func (s *Source) timeout() time.Duration {
	if s.opts.Timeout > 0 {
		return s.opts.Timeout
	}
	return DefaultTimeout
}

// cut explains the error of an operation whose context is done: go-git's
// own error is then only a symptom (a closed connection, a killed
// process). When the source's deadline cut it, the error says what timed
// out, after how long and against which URL. Other errors pass unchanged.
func (s *Source) cut(ctx context.Context, op string, err error) error {
	if dl, ok := ctx.Deadline(); ok && err != nil && !time.Now().Before(dl) {
		// A dial or read deadline set from ctx's may fire just before
		// ctx itself is done.
		<-ctx.Done()
	}
	switch {
	case err == nil || ctx.Err() == nil:
		return err
	case errors.Is(context.Cause(ctx), errDeadline):
		return &sourceError{kind: ErrTimeout, msg: fmt.Sprintf("%s %s timed out after %s", op, s.shown, s.timeout())}
	case !errors.Is(err, ctx.Err()):
		return fmt.Errorf("%w (%v)", ctx.Err(), err)
	}
	return err
}
