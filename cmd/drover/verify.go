package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/internal/gitrev"
	"github.com/drover-sh/drover/internal/trust"
)

func init() {
	var o verifyOptions
	register(&command{
		name:    "verify",
		args:    "--config AGENT.hcl [--base REV] [--head REV] [DIR]",
		summary: "Check commit signatures against the trust policy, as an agent would before applying.",
		help: `verify runs the check an agent with the trust block of AGENT.hcl makes
before it applies a new head: who signed the commits between the base (the
revision the nodes run) and the head, and whether the rules let them change
the paths they change (README, "Signed commits"). It reads the Git
repository that DIR, the config root, lies inside; rule paths are relative
to DIR, as they are to source.path on the agent. When the trust block names a
repository_policy, that file is read from the repository as the base holds
it (a change to it applies to the commits after it, and only the block's
root_signers may make one); AGENT.hcl is still needed for the root signers
and the rest of the node's policy.

--head defaults to HEAD. --base defaults to the merge base of the head with
the remote default branch (origin/HEAD), else with main: what the nodes run
before a pull request is merged. The history between them must be in the
clone (in CI, fetch with depth 0).

Exit status: 0 a node would apply the head; 1 a node would refuse it (the
reasons name each commit, path and signer) or the check could not be made;
2 usage error.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.base, "base", "", "the revision `REV` the nodes run (default: merge base with the default branch)")
			fs.StringVar(&o.head, "head", "HEAD", "the proposed revision `REV`")
			fs.StringVar(&o.agentConfig, "config", "", "read the trust block from agent configuration `FILE` (required)")
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			return runVerify(env, fs, args, o)
		},
		complete: dirArg,
		repo:     dirRepo,
	})
}

type verifyOptions struct {
	base, head, agentConfig string
}

func runVerify(env *cmdEnv, fs *pflag.FlagSet, args []string, o verifyOptions) int {
	dir, code := configDir(env, fs, args)
	if code != exitOK {
		return code
	}
	if o.agentConfig == "" {
		return usageError(env, fs, "--config AGENT.hcl is required: the trust block of the agent configuration is the policy")
	}
	fail := func(err error) int {
		fmt.Fprintf(env.stderr, "drover verify: %v\n", err)
		return exitFailure
	}
	c, files, diags := config.Load(o.agentConfig)
	printDiagnostics(env, files, diags)
	if c == nil {
		return exitFailure
	}
	if c.Trust == nil {
		return fail(fmt.Errorf("%s has no trust block: an agent with it applies every commit", o.agentConfig))
	}
	repo, err := gitrev.Open(dir)
	if err != nil {
		return fail(err)
	}
	defer repo.Close()
	head, err := repo.Resolve(o.head)
	if err != nil {
		return fail(err)
	}
	base, err := verifyBase(repo, o.base, head)
	if err != nil {
		return fail(err)
	}
	v, err := checkTrust(repo, c.Trust, base, head)
	if err != nil {
		return fail(err)
	}
	if v.Trusted() {
		fmt.Fprintf(env.stdout, "Trusted: %s.\n", verdictSummary(v, base, head))
		return exitOK
	}
	fmt.Fprintf(env.stdout, "Refused: %s.\n%s\n", verdictSummary(v, base, head), v.Reason())
	return exitFailure
}

// verifyBase is --base, or the merge base of head with the default branch.
func verifyBase(repo *gitrev.Repo, rev string, head gitrev.Rev) (gitrev.Rev, error) {
	if rev != "" {
		return repo.Resolve(rev)
	}
	branch, err := repo.DefaultBranch()
	if err != nil {
		return gitrev.Rev{}, err
	}
	tip, err := repo.Resolve(branch)
	if err != nil {
		return gitrev.Rev{}, err
	}
	mb, err := repo.MergeBase(head, tip)
	if err != nil {
		return gitrev.Rev{}, err
	}
	return gitrev.Rev{Name: branch, Hash: mb}, nil
}

// checkTrust is the agent's check (agent/verify.go) over a clone: the same
// policy, paths relative to the config root.
func checkTrust(repo *gitrev.Repo, p *trust.Policy, base, head gitrev.Rev) (*trust.Verdict, error) {
	v, err := p.Check(repo.Objects(), repo.Root(), base.Hash, head.Hash)
	if errors.Is(err, trust.ErrIncomplete) {
		return nil, fmt.Errorf("%w: the clone is shallow; fetch the whole history (git fetch --unshallow, or fetch-depth: 0)", err)
	}
	return v, err
}

// verdictSummary says which revisions were compared and how.
func verdictSummary(v *trust.Verdict, base, head gitrev.Rev) string {
	return fmt.Sprintf("%s (%s) after %s (%s), %s mode, %s checked",
		head.Name, head.Short(), base.Name, base.Short(), v.Mode, english.Count(v.Commits, "commit"))
}

// trustNote is the verdict as one line of a plan's summary.
func trustNote(v *trust.Verdict, base, head gitrev.Rev) string {
	if v.Trusted() {
		return "Trust: a node with this trust policy applies the head: " + verdictSummary(v, base, head) + "."
	}
	return "Trust: a node with this trust policy REFUSES the head: " + verdictSummary(v, base, head) + ": " +
		strings.ReplaceAll(v.Reason(), "\n", "; ") + "."
}
