package agent

import (
	"context"
	"errors"

	"github.com/go-git/go-git/v5/plumbing"

	"github.com/drover-sh/drover/agent/reconcile"
	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/internal/trust"
)

// verifier is reconcile.Deps.Verify for a trust block: the policy checked
// over the source's Git cache, from the running revision to the new head,
// paths relative to the config root. A check the shallow cache cannot make
// fetches the branch's whole history once and checks again; when the
// running revision is not in that history either (the branch was
// rewritten without it), the head is checked as if nothing ran: its
// signer must be allowed to change every path.
func verifier(p *trust.Policy, src *source.Source, root string) reconcile.Verifier {
	return func(ctx context.Context, base, head string) error {
		h := plumbing.NewHash(head)
		check := func(base plumbing.Hash) error {
			st, err := src.Objects()
			if err != nil {
				return err
			}
			v, err := p.Check(st, root, base, h)
			if err != nil {
				return err
			}
			if !v.Trusted() {
				return &trust.RefusedError{Head: h, Verdict: v}
			}
			return nil
		}
		b := plumbing.ZeroHash
		if base != "" {
			b = plumbing.NewHash(base)
		}
		err := check(b)
		if !errors.Is(err, trust.ErrIncomplete) {
			return err
		}
		if err := src.Deepen(ctx); err != nil {
			return err
		}
		if err = check(b); errors.Is(err, trust.ErrIncomplete) && !b.IsZero() {
			return check(plumbing.ZeroHash)
		}
		return err
	}
}
