package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/pmezard/go-difflib/difflib"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/edit"
	"github.com/drover-sh/drover/spec"
)

func init() {
	var f daemonFlags
	register(&command{
		name:    "daemon",
		args:    "add|set|enable|disable|rm TENANT/WEBROOT/DAEMON [FLAGS] [DIR]",
		summary: "Add, change, enable, disable or remove a daemon in the config files.",
		help: `The daemon is edited in the file that declares its webroot; only its block
changes (formatted the way hclwrite formats HCL), every comment and the rest of
the file stay as they are. The whole repository is validated with the edit
before anything is written: an edit that would make it invalid is refused,
nothing changes, and the diagnostics say why. drover never commits: review
the change with git diff or drover plan, then commit it.

  add      declares a new daemon: --command is required.
  set      changes attributes: the value flags, --env K=V, --unset-env K,
           --unset ATTR (an optional attribute: ` + strings.Join(edit.Unsettable, ", ") + `).
  enable   removes enabled = false.
  disable  sets enabled = false.
  rm       removes the daemon block and the comment lines directly above it.

--dry-run prints the change as a unified diff instead of writing it.`,
		flags: func(fs *pflag.FlagSet) { f.define(fs) },
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			return runDaemon(env, fs, args, &f)
		},
		complete: completeDaemon,
		repo: func(args []string) string {
			if len(args) > 2 {
				return args[2]
			}
			return ""
		},
	})
}

// completeDaemon completes drover daemon's subcommand, then its
// TENANT/WEBROOT/DAEMON from the repository (the TENANT/WEBROOT/ of a
// daemon to add), then DIR.
func completeDaemon(cc *compContext, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	switch len(args) {
	case 0:
		return words(slices.Sorted(maps.Keys(daemonAllowed))...)(cc, args, prefix)
	case 1:
		if args[0] == "add" {
			return webrootPrefixes(cc, prefix)
		}
		return repoKeys(cc, prefix)
	case 2:
		return dirs(cc, args, prefix)
	}
	return nothing(cc, args, prefix)
}

// daemonFlags are the flags of drover daemon; which ones a subcommand
// accepts is checked after parsing. Every attribute of spec.DaemonFields
// with a Usage has a value flag.
type daemonFlags struct {
	values           map[string]any // by flag name: a *string or *int
	env              []edit.EnvVar
	unsetEnv, unset  []string
	disabled, dryRun bool
}

func (f *daemonFlags) define(fs *pflag.FlagSet) {
	f.values = map[string]any{}
	for _, a := range spec.DaemonFields {
		switch {
		case a.Usage == "":
		case a.Type == spec.TypeString:
			p := new(string)
			fs.StringVar(p, a.Flag(), "", a.Usage)
			f.values[a.Flag()] = p
		case a.Type == spec.TypeNumber:
			p := new(int)
			fs.IntVar(p, a.Flag(), 0, a.Usage)
			f.values[a.Flag()] = p
		case a.Type == spec.TypeBool:
			p := new(bool)
			fs.BoolVar(p, a.Flag(), false, a.Usage)
			f.values[a.Flag()] = p
		}
	}
	fs.Func("env", "set environment variable `K=V` (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok {
			return fmt.Errorf("%q is not K=V", s)
		}
		f.env = append(f.env, edit.EnvVar{Key: k, Value: v})
		return nil
	})
	fs.Func("unset-env", "remove environment variable `K` (repeatable)", func(s string) error {
		f.unsetEnv = append(f.unsetEnv, s)
		return nil
	})
	fs.Func("unset", "remove optional attribute `ATTR` (repeatable)", func(s string) error {
		f.unset = append(f.unset, s)
		return nil
	})
	fs.BoolVar(&f.disabled, "disabled", false, "add the daemon disabled (enabled = false)")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the change as a diff, write nothing")
}

// attrs turns the flags given on the command line into edit.Attrs.
func (f *daemonFlags) attrs(given map[string]bool) edit.Attrs {
	a := edit.Attrs{Values: map[string]any{}}
	for _, fd := range spec.DaemonFields {
		if !given[fd.Flag()] {
			continue
		}
		switch p := f.values[fd.Flag()].(type) {
		case *string:
			a.Values[fd.Name] = *p
		case *int:
			a.Values[fd.Name] = *p
		case *bool:
			a.Values[fd.Name] = *p
		}
	}
	if f.disabled {
		a.Values["enabled"] = false
	}
	a.Env, a.UnsetEnv, a.Unset = f.env, f.unsetEnv, f.unset
	return a
}

// daemonAllowed lists the flags a subcommand accepts besides --dry-run:
// add and set take every attribute's flag.
var daemonAllowed = func() map[string][]string {
	var attrs []string
	for _, a := range spec.DaemonFields {
		if a.Usage != "" {
			attrs = append(attrs, a.Flag())
		}
	}
	return map[string][]string{
		"add":     append(slices.Clip(attrs), "env", "disabled"),
		"set":     append(slices.Clip(attrs), "env", "unset-env", "unset"),
		"enable":  {},
		"disable": {},
		"rm":      {},
	}
}()

func runDaemon(env *cmdEnv, fs *pflag.FlagSet, args []string, f *daemonFlags) int {
	if len(args) < 2 {
		return usageError(env, fs, "expected a subcommand (add, set, enable, disable, rm) and TENANT/WEBROOT/DAEMON")
	}
	sub := args[0]
	ok, known := daemonAllowed[sub]
	if !known {
		return usageError(env, fs, "unknown subcommand %q: use add, set, enable, disable or rm", sub)
	}
	key, err := edit.ParseKey(args[1])
	if err != nil {
		return usageError(env, fs, "%v", err)
	}
	dir, code := configDir(env, fs, args[2:])
	if code != exitOK {
		return code
	}
	given := map[string]bool{}
	var bad []string
	fs.Visit(func(fl *pflag.Flag) {
		given[fl.Name] = true
		if fl.Name != "dry-run" && !slices.Contains(ok, fl.Name) {
			bad = append(bad, "--"+fl.Name)
		}
	})
	if len(bad) > 0 {
		return usageError(env, fs, "%s does not take %s", sub, strings.Join(bad, ", "))
	}
	if sub == "set" && len(given) == 0 || sub == "set" && len(given) == 1 && given["dry-run"] {
		return usageError(env, fs, "set needs at least one change (--command, --env, --unset, ...)")
	}
	if sub == "add" && !given["command"] {
		return usageError(env, fs, "add needs --command")
	}
	max, err := maxConfigBytes()
	if err != nil {
		fmt.Fprintf(env.stderr, "drover: %v\n", err)
		return exitFailure
	}
	repo, err := edit.Open(dir)
	if err != nil {
		fmt.Fprintf(env.stderr, "drover daemon: %v\n", err)
		return exitFailure
	}
	repo.MaxBytes = max
	var e *edit.Edit
	switch sub {
	case "add":
		e, err = repo.Add(key, f.attrs(given))
	case "set":
		e, err = repo.Set(key, f.attrs(given))
	case "enable", "disable":
		e, err = repo.SetEnabled(key, sub == "enable")
	case "rm":
		e, err = repo.Remove(key)
	}
	var invalid *edit.InvalidError
	if errors.As(err, &invalid) {
		printDiagnostics(env, invalid.Edit.Files, invalid.Edit.Diags)
		fmt.Fprintf(env.stderr, "drover daemon %s: refused: %v.\n", sub, err)
		return exitFailure
	}
	if err != nil {
		fmt.Fprintf(env.stderr, "drover daemon %s: %v\n", sub, err)
		return exitFailure
	}
	if !e.Changed() {
		fmt.Fprintf(env.stdout, "Nothing to change: %s is already as asked (%s).\n", key, e.File)
		return exitOK
	}
	printDiagnostics(env, e.Files, e.Diags) // warnings
	if f.dryRun {
		diff, _ := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
			A: difflib.SplitLines(string(e.Before)), B: difflib.SplitLines(string(e.After)),
			FromFile: "a/" + e.File, ToFile: "b/" + e.File, Context: 3,
		})
		fmt.Fprint(env.stdout, diff)
		return exitOK
	}
	if err := repo.Write(e); err != nil {
		fmt.Fprintf(env.stderr, "drover daemon %s: %v\n", sub, err)
		return exitFailure
	}
	verb, rest, _ := strings.Cut(e.Summary, " ")
	fmt.Fprintf(env.stdout, "%s %s in %s. Review with git diff or drover plan, then commit.\n", pastTense[verb], rest, e.File)
	return exitOK
}

// pastTense words the first word of an edit.Edit summary for the report.
var pastTense = map[string]string{"add": "Added", "change": "Changed", "enable": "Enabled", "disable": "Disabled", "remove": "Removed"}
