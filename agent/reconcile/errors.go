package reconcile

import (
	"errors"
	"fmt"
)

// The reconciler's errors say what trying again can do, as Flux's
// controllers' do: a rejected revision stalls until the branch moves on; an
// unreachable source is tried again at the next poll; anything else fails
// the pass, which is retried with backoff (see scheduleNodeRetry).

// RejectedError is a revision applied not at all: invalid, unreadable, not
// for this node, or refused by the poison guard. Retrying cannot help.
type RejectedError struct {
	Revision string
	// Reason says why, with the diagnostics; it is what the store, the
	// history and `drover status` keep.
	Reason string
}

func (e *RejectedError) Error() string {
	return fmt.Sprintf("revision %s rejected: %s", short(e.Revision), e.Reason)
}

// rejectedf is a RejectedError of rev.
func rejectedf(rev, format string, args ...any) error {
	return &RejectedError{Revision: rev, Reason: fmt.Sprintf(format, args...)}
}

// UnreachableError is a source that could not be read (the head, a fetch):
// the node keeps what it runs.
type UnreachableError struct{ Err error }

func (e *UnreachableError) Error() string { return "source unreachable: " + e.Err.Error() }
func (e *UnreachableError) Unwrap() error { return e.Err }

// outcomeOf is the outcome a pass's error stands for (nil: applied; a
// *FailedError or anything else: failed).
func outcomeOf(err error) Outcome {
	var rej *RejectedError
	var unreachable *UnreachableError
	switch {
	case err == nil:
		return OutcomeApplied
	case errors.As(err, &rej):
		return OutcomeRejected
	case errors.As(err, &unreachable):
		return OutcomeUnreachable
	}
	return OutcomeFailed
}

// FailedError is a step of an apply pass that went wrong as a whole (a
// write, supervisord or nginx): what the other steps did stands, and the
// pass is tried again with backoff.
type FailedError struct {
	// Step names the step: "network", "exec specs", "supervisord", "nginx",
	// "store".
	Step string
	Err  error
}

func (e *FailedError) Error() string { return e.Step + ": " + e.Err.Error() }
func (e *FailedError) Unwrap() error { return e.Err }
