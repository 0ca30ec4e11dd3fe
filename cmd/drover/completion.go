package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// completionShells are the shells drover completion writes a script for.
var completionShells = []string{"bash", "zsh", "fish"}

func init() {
	register(&command{
		name:    "completion",
		args:    "bash|zsh|fish",
		summary: "Print the shell completion script for bash, zsh or fish.",
		help: `Install it once, then start a new shell:
  bash  drover completion bash > /etc/bash_completion.d/drover (with the bash-completion package)
  zsh   drover completion zsh > "${fpath[1]}/_drover" (with compinit)
  fish  drover completion fish > ~/.config/fish/completions/drover.fish
or load it into the running shell only: source <(drover completion bash).

Commands, flags and their fixed values are completed, and names: the
TENANT/WEBROOT/DAEMON of status, retry, logs and restart from the running
agent (with each daemon's status; as root), or from the config repository
in the current directory when no agent answers within a second; those of
drover daemon, and --node, --tenant and --shard, from the repository (DIR,
or the current directory).`,
		complete: func(_ *compContext, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			if len(args) > 0 {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			return words(completionShells...)(nil, args, prefix)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) != 1 {
				return usageError(env, fs, "expected one shell: bash, zsh or fish")
			}
			root := newRoot(env)
			var err error
			switch args[0] {
			case "bash":
				err = root.GenBashCompletionV2(env.stdout, true)
			case "zsh":
				err = root.GenZshCompletion(env.stdout)
			case "fish":
				err = root.GenFishCompletion(env.stdout, true)
			default:
				return usageError(env, fs, "unknown shell %q: expected bash, zsh or fish", args[0])
			}
			if err != nil {
				fmt.Fprintf(env.stderr, "drover completion: write the %s script: %v\n", args[0], err)
				return exitFailure
			}
			return exitOK
		},
	})
}
