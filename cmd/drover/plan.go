package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/internal/gitrev"
	"github.com/drover-sh/drover/review"
	"github.com/drover-sh/drover/spec"
)

func init() {
	var o planOptions
	register(&command{
		name:    "plan",
		args:    "[--base REV] [--head REV] [--node NAME] [--format text|markdown|json] [--detailed-exitcode] [--all-warnings] [--config AGENT.hcl] [DIR]",
		summary: "Show what a change of the config repository does to every node.",
		help: `plan compares two revisions of the config repository read straight from
its Git repository (DIR, the config root, lies inside it) and shows, per
node, the programs it restarts and stops, the daemons added, changed,
removed and moved between nodes (with the reason), port, address and route
changes, and the unified diff of every rendered file. Environment values
are never shown: they hold secrets.

--head defaults to the working tree, uncommitted and untracked files
included (ignored files excepted). --base defaults to the merge base of the
head with the remote default branch (origin/HEAD), else with main.

Validation errors of the head come first, and make the exit status 1.
Warnings come last: the first 3 of each kind in full, then a count
(--all-warnings prints every one; --format json always lists every one).
--format markdown is ready to post as a pull-request comment; --format json
has a stable schema (see README, "Reviewing changes").

When --config names an agent configuration with a trust block, a note says
whether a node with it would apply the committed head (drover verify's
check); it does not change the exit status.

Exit status: 0 success; with --detailed-exitcode 0 no change, 2 changes;
1 invalid head or error; 2 usage error without --detailed-exitcode.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&o.base, "base", "", "compare against revision `REV` (default: merge base with the default branch)")
			fs.StringVar(&o.head, "head", "", "the proposed revision `REV` (default: the working tree)")
			fs.StringVar(&o.node, "node", "", "show only node `NAME`")
			fs.StringVar(&o.format, "format", "text", "output `FORMAT`: text, markdown or json")
			fs.BoolVar(&o.detailed, "detailed-exitcode", false, "exit 0 when nothing changes, 2 when something does, 1 on error")
			fs.StringVar(&o.agentConfig, "config", "", "read rendered paths from agent configuration `FILE`")
			fs.BoolVar(&o.allWarnings, "all-warnings", false, "print every warning in full (by default: the first 3 of each kind, then a count)")
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			return runPlan(env, fs, args, o)
		},
		complete: dirArg,
		repo:     dirRepo,
	})
}

type planOptions struct {
	base, head, node, format, agentConfig string
	detailed, allWarnings                 bool
}

func runPlan(env *cmdEnv, fs *pflag.FlagSet, args []string, o planOptions) int {
	dir, code := configDir(env, fs, args)
	if code != exitOK {
		return code
	}
	switch o.format {
	case "text", "markdown", "json":
	default:
		return usageError(env, fs, "--format must be text, markdown or json, not %q", o.format)
	}
	fail := func(err error) int {
		fmt.Fprintf(env.stderr, "drover plan: %v\n", err)
		return exitFailure
	}
	ac := config.Default()
	if o.agentConfig != "" {
		c, files, diags := config.Load(o.agentConfig)
		printDiagnostics(env, files, diags)
		if c == nil {
			return exitFailure
		}
		ac = c
	}
	loader, err := newLoader()
	if err != nil {
		return fail(err)
	}
	repo, err := gitrev.Open(dir)
	if err != nil {
		return fail(err)
	}
	defer repo.Close()
	r := &review.Report{Node: o.node}

	// The head: a commit, or the working tree on top of HEAD.
	var headRev gitrev.Rev
	var headFiles map[string]gitrev.Blob
	if o.head != "" {
		if headRev, err = repo.Resolve(o.head); err != nil {
			return fail(err)
		}
		if headFiles, err = repo.Files(headRev); err != nil {
			return fail(err)
		}
		r.Head = review.Revision{Label: o.head, Commit: headRev.Hash.String()}
	} else {
		if headFiles, err = repo.WorkTree(loader.MaxBytes); err != nil {
			return fail(err)
		}
		r.Head = review.Revision{Label: "working tree"}
		if headRev, err = repo.Head(); err == nil {
			r.Head.Commit = headRev.Hash.String()
			r.Head.Note = "on " + headRev.Name
			if headRev.Name == "HEAD" {
				r.Head.Note = "detached HEAD"
			}
			if committed, err := repo.Files(headRev); err == nil && !sameFiles(committed, headFiles) {
				r.Head.Note += ", uncommitted changes"
			}
		} else if o.base == "" {
			return fail(err)
		}
	}

	// The base: a revision, or the merge base with the default branch.
	var baseRev gitrev.Rev
	if o.base != "" {
		if baseRev, err = repo.Resolve(o.base); err != nil {
			return fail(err)
		}
		r.Base = review.Revision{Label: o.base, Commit: baseRev.Hash.String()}
	} else {
		branch, err := repo.DefaultBranch()
		if err != nil {
			return fail(err)
		}
		tip, err := repo.Resolve(branch)
		if err != nil {
			return fail(err)
		}
		mb, err := repo.MergeBase(headRev, tip)
		if err != nil {
			return fail(err)
		}
		baseRev = gitrev.Rev{Name: branch, Hash: mb}
		r.Base = review.Revision{Label: branch, Commit: mb.String()}
		if mb != tip.Hash {
			r.Base.Note = "merge base"
		}
	}
	baseFiles, err := repo.Files(baseRev)
	if err != nil {
		return fail(err)
	}
	if ac.Trust != nil {
		if r.Notes, err = planTrust(r, repo, ac, baseRev, headRev, o.head == ""); err != nil {
			return fail(err)
		}
	}

	// A base file whose content the head also has is read from the head:
	// the working tree is already in memory, Git objects are not.
	byHash := make(map[string]gitrev.Blob, len(headFiles))
	for _, b := range headFiles {
		if b.Kind == spec.Regular {
			byHash[b.Hash] = b
		}
	}
	for name, b := range baseFiles {
		if h, ok := byHash[b.Hash]; ok && b.Kind == spec.Regular {
			baseFiles[name] = h
		}
	}
	baseCfg, _, baseDiags, err := loader.Load(baseFiles)
	if err != nil {
		return fail(err)
	}
	headCfg, hclFiles, headDiags, err := loader.Load(headFiles)
	if err != nil {
		return fail(err)
	}
	color := o.format == "text" && isTerminal(env.stdout)
	r.Diagnostics, r.DiagnosticText = review.Diagnostics(hclFiles, headDiags,
		spec.DiagnosticPrinter{Color: color, AllWarnings: o.allWarnings, MoreHint: allWarningsHint})
	if baseCfg == nil {
		errs := 0
		for _, d := range baseDiags {
			if d.Severity == hcl.DiagError {
				errs++
			}
		}
		r.Notes = append(r.Notes, fmt.Sprintf("The base %s is not a valid configuration (%s): every node is compared with an empty configuration.",
			r.Base, english.Count(errs, "error")))
	}
	if headCfg != nil {
		p, err := review.Compute(baseCfg, headCfg, review.Options{Render: ac.RenderOptions(), Node: o.node})
		if err != nil {
			return fail(err)
		}
		r.Plan = p
	}
	if err := writeReport(env.stdout, r, o.format, color); err != nil {
		return fail(err)
	}
	switch {
	case !r.Valid():
		return exitFailure
	case o.detailed && r.Changed():
		return 2
	}
	return exitOK
}

func writeReport(w io.Writer, r *review.Report, format string, color bool) error {
	switch format {
	case "markdown":
		return review.WriteMarkdown(w, r)
	case "json":
		return review.WriteJSON(w, r)
	}
	return review.WriteText(w, r, color)
}

// planTrust adds the trust verdict of the head to the report's notes, when
// the agent configuration has a trust block: the committed head is checked
// (uncommitted changes are signed by nobody).
func planTrust(r *review.Report, repo *gitrev.Repo, ac *config.Config, base, head gitrev.Rev, workTree bool) ([]string, error) {
	if head.Hash.IsZero() {
		return append(r.Notes, "Trust: the head has no commit: a node applies only signed commits."), nil
	}
	v, err := checkTrust(repo, ac.Trust, base, head)
	if err != nil {
		return nil, err
	}
	notes := append(r.Notes, trustNote(v, base, head))
	if workTree && strings.Contains(r.Head.Note, "uncommitted") {
		notes = append(notes, "Trust: uncommitted changes are signed by nobody: commit them signed before a node can apply them.")
	}
	return notes, nil
}

// sameFiles reports whether two snapshots hold the same config files.
func sameFiles(a, b map[string]gitrev.Blob) bool {
	if len(a) != len(b) {
		return false
	}
	for name, x := range a {
		if y, ok := b[name]; !ok || x.Hash != y.Hash {
			return false
		}
	}
	return true
}

// isTerminal reports whether w is a terminal that wants colours.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
