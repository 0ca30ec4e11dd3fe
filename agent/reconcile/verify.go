package reconcile

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/internal/trust"
)

// Verifier checks that revision head may follow base, the running
// revision ("" for none), by the trust policy (internal/trust): a
// *trust.RefusedError when the policy refuses it; any other error when the
// check could not be made.
type Verifier func(ctx context.Context, base, head string) error

// checkTrust runs the Verifier on a fetched revision before it is parsed:
// a revision the policy refuses is rejected like an invalid one (the node
// keeps the last good revision, the reason names commit, path and signer);
// one that could not be checked is tried again at the next poll.
func (a *Reconciler) checkTrust(ctx context.Context, rev string, took *Result) error {
	if a.verify == nil {
		return nil
	}
	start := time.Now()
	err := a.verify(ctx, a.planRev, rev)
	took.took("verify", start)
	var refused *trust.RefusedError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &refused):
		a.metrics.untrusted.Inc()
		return rejectedf(rev, "the trust policy refuses it (%s mode, %s checked):\n%s",
			refused.Verdict.Mode, english.Count(refused.Verdict.Commits, "commit"), refused.Verdict.Reason())
	}
	return &UnreachableError{Err: fmt.Errorf("verify the signatures of %s: %w", short(rev), err)}
}
