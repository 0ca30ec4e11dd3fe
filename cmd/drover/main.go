// Command drover is a pull-based GitOps agent for web-hosting shard nodes.
// This package only wires the command line to the spec, netplan, render and
// agent packages.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/spf13/pflag"
)

// Exit statuses shared by every command.
const (
	exitOK      = 0
	exitFailure = 1 // invalid input or a failed operation
	exitUsage   = 2 // the command line itself is wrong
)

// command is one subcommand, which newRoot turns into a cobra command:
// each command owns its flags, its help text and its shell completion.
type command struct {
	name    string
	args    string // synopsis after the command name
	summary string
	help    string // what follows the flag list in `drover help NAME`
	hidden  bool
	flags   func(fs *pflag.FlagSet) // defines the command's flags
	run     func(env *cmdEnv, fs *pflag.FlagSet, args []string) int
	// complete offers the candidates for the positional argument that
	// follows args (shell completion); nil offers none.
	complete completer
	// repo is the config repository a command line names, for completing
	// names from it (--node, --tenant): nil, or "" returned, is the
	// current directory.
	repo func(args []string) string
}

// cmdEnv is what a command may touch: its streams.
type cmdEnv struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

var commands []*command

func register(c *command) { commands = append(commands, c) }

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	env := &cmdEnv{stdin: os.Stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		usage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "-help", "--help":
		args = append([]string{"help"}, args[1:]...)
	}
	root := newRoot(env)
	root.SetArgs(oneDashLongFlags(root, args))
	cmd, err := root.ExecuteC()
	var status exitStatus
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &status):
		return int(status)
	case cmd == root:
		fmt.Fprintf(stderr, "drover: %v\nRun 'drover help' for the list of commands.\n", err)
	default: // a flag the command does not have, or a bad flag value
		fmt.Fprintf(stderr, "drover %s: %v\nRun 'drover help %[1]s' for usage.\n", cmd.Name(), err)
	}
	return exitUsage
}

// exitStatus is the exit status of a command that has said why already.
type exitStatus int

func (s exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(s)) }

// exitWith is the error a command's exit status is carried out of cobra
// with: nil for exitOK.
func exitWith(code int) error {
	if code == exitOK {
		return nil
	}
	return exitStatus(code)
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "drover converges tenant daemons on web-hosting shard nodes from a Git repository.\n\nUsage: drover COMMAND [ARGS]\n\nCommands:\n")
	sorted := append([]*command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		if !c.hidden {
			fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintf(w, "\nRun 'drover help COMMAND' for a command's flags.\n")
}

// usageError prints a usage problem and returns exitUsage. fs is the
// command's flag set, named after the command.
func usageError(env *cmdEnv, fs *pflag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(env.stderr, "drover %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(env.stderr, "Run 'drover help %s' for usage.\n", fs.Name())
	return exitUsage
}

// configDir is the config root: the single optional DIR argument, or ".".
func configDir(env *cmdEnv, fs *pflag.FlagSet, args []string) (string, int) {
	switch len(args) {
	case 0:
		return ".", exitOK
	case 1:
		return args[0], exitOK
	}
	return "", usageError(env, fs, "expected at most one DIR argument, got %d", len(args))
}
