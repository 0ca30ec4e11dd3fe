package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// newRoot builds drover's command tree from the registered commands, its
// output going to env's streams. cobra parses the flags (before or after
// the positional arguments; "--" ends them), prints the help and answers
// shell completion (the hidden __complete command the completion scripts
// call); each command's run does the rest.
func newRoot(env *cmdEnv) *cobra.Command {
	root := &cobra.Command{
		SuggestionsMinimumDistance: 2,
		Use:                        "drover",
		Args:                       cobra.ArbitraryArgs,
		SilenceErrors:              true, // run prints them, and the exit status says which kind
		SilenceUsage:               true,
		CompletionOptions:          cobra.CompletionOptions{DisableDefaultCmd: true}, // drover completion is a command of its own
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				usage(env.stderr)
				return exitStatus(exitUsage)
			}
			return unknownCommand(env, cmd, args[0])
		},
	}
	root.SetIn(env.stdin)
	root.SetOut(env.stdout)
	root.SetErr(env.stderr)
	root.SetHelpFunc(func(cmd *cobra.Command, _ []string) {
		if cmd == root {
			usage(env.stdout)
			return
		}
		commandHelp(env.stdout, cmd)
	})
	root.SetHelpCommand(helpCommand(env))
	for _, c := range commands {
		root.AddCommand(c.cobra(env))
	}
	return root
}

// cobra is c as a cobra command.
func (c *command) cobra(env *cmdEnv) *cobra.Command {
	cmd := &cobra.Command{
		Use:                   strings.TrimSpace(c.name + " " + c.args),
		Short:                 c.summary,
		Long:                  c.help,
		Hidden:                c.hidden,
		Args:                  cobra.ArbitraryArgs, // each run checks its own
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exitWith(c.run(env, cmd.Flags(), args))
		},
	}
	fs := cmd.Flags()
	fs.SortFlags = false // in the order the command defines them
	if c.flags != nil {
		c.flags(fs)
	}
	// -h and --help print the help, as cobra's own flag would, but are
	// not listed among the command's flags.
	fs.BoolP("help", "h", false, "print this help")
	_ = fs.MarkHidden("help")
	c.completions(cmd)
	return cmd
}

// commandHelp prints the help of one command: `drover help NAME` and
// `drover NAME --help`.
func commandHelp(w io.Writer, cmd *cobra.Command) {
	fmt.Fprintf(w, "Usage: drover %s\n\n%s\n", cmd.Use, cmd.Short)
	if flags := cmd.LocalFlags().FlagUsages(); flags != "" {
		fmt.Fprintf(w, "\nFlags:\n%s", flags)
	}
	if cmd.Long != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(cmd.Long))
	}
}

// helpCommand is `drover help [COMMAND]`: the list of commands, or one
// command's help (a hidden one's too).
func helpCommand(env *cmdEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "help [COMMAND]",
		Short: "Print the list of commands, or a command's flags.",
		Args:  cobra.ArbitraryArgs,
		ValidArgsFunction: func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var names []cobra.Completion
			for _, c := range cmd.Root().Commands() {
				if c.IsAvailableCommand() && strings.HasPrefix(c.Name(), prefix) {
					names = append(names, cobra.CompletionWithDesc(c.Name(), c.Short))
				}
			}
			return names, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				usage(env.stdout)
				return nil
			}
			for _, c := range cmd.Root().Commands() {
				if c.Name() == args[0] && c != cmd {
					commandHelp(env.stdout, c)
					return nil
				}
			}
			fmt.Fprintf(env.stderr, "drover: unknown command %q\n", args[0])
			return exitStatus(exitUsage)
		},
	}
}

// unknownCommand says that name is no command, and which one was meant
// when it is close to one.
func unknownCommand(env *cmdEnv, root *cobra.Command, name string) error {
	fmt.Fprintf(env.stderr, "drover: unknown command %q\n", name)
	if s := root.SuggestionsFor(name); len(s) > 0 {
		fmt.Fprintf(env.stderr, "Did you mean %q?\n", s[0])
	}
	fmt.Fprintf(env.stderr, "Run 'drover help' for the list of commands.\n")
	return exitStatus(exitUsage)
}

// oneDashLongFlags rewrites a long flag given with one dash ("-json",
// "-node=web-1a") as "--json": drover parsed its command line with Go's
// flag package before, which takes both, so scripts written then keep
// working. Only the flags of the command named first are rewritten, up to
// "--"; a flag's separate value is left as it is, and "-n 5" stays a
// short flag.
func oneDashLongFlags(root *cobra.Command, args []string) []string {
	var fs *pflag.FlagSet
	for _, c := range root.Commands() {
		if c.Name() == args[0] {
			fs = c.Flags()
		}
	}
	if fs == nil {
		return args
	}
	out := append([]string(nil), args...)
	for i := 1; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		var f *pflag.Flag
		switch {
		case strings.HasPrefix(a, "--"):
			f = fs.Lookup(name)
		case len(name) == 1:
			f = fs.ShorthandLookup(name)
		default:
			if f = fs.Lookup(name); f != nil {
				out[i] = "-" + a
			}
		}
		if f != nil && !hasValue && f.NoOptDefVal == "" {
			i++ // its value
		}
	}
	return out
}
