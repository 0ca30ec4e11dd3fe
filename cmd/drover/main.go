// Command drover is a pull-based GitOps agent for web-hosting shard nodes.
// This package only wires the command line to the spec, netplan, render and
// agent packages.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// Exit statuses shared by every command.
const (
	exitOK      = 0
	exitFailure = 1 // invalid input or a failed operation
	exitUsage   = 2 // the command line itself is wrong
)

// command is one subcommand: its flags are parsed by run itself, so each
// command owns its flag set and help text.
type command struct {
	name    string
	args    string // synopsis after the command name
	summary string
	help    string // what follows the flag list in `drover help NAME`
	hidden  bool
	flags   func(fs *flag.FlagSet) // defines the command's flags
	run     func(env *cmdEnv, fs *flag.FlagSet, args []string) int
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
	name := args[0]
	switch name {
	case "help", "-h", "-help", "--help":
		if len(args) > 1 {
			if c := lookup(args[1]); c != nil {
				fs := newFlagSet(c, stdout)
				fs.SetOutput(stdout)
				fs.Usage()
				return exitOK
			}
			fmt.Fprintf(stderr, "drover: unknown command %q\n", args[1])
			return exitUsage
		}
		usage(stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "drover: unknown command %q\nRun 'drover help' for the list of commands.\n", name)
		return exitUsage
	}
	fs := newFlagSet(c, stderr)
	pos, err := parseInterspersed(fs, args[1:])
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}
	return c.run(env, fs, pos)
}

func lookup(name string) *command {
	for _, c := range commands {
		if c.name == name {
			return c
		}
	}
	return nil
}

func newFlagSet(c *command, out io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("drover "+c.name, flag.ContinueOnError)
	fs.SetOutput(out)
	if c.flags != nil {
		c.flags(fs)
	}
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: drover %s %s\n\n%s\n", c.name, c.args, c.summary)
		hasFlags := false
		fs.VisitAll(func(*flag.Flag) { hasFlags = true })
		if hasFlags {
			fmt.Fprintf(w, "\nFlags:\n")
			fs.PrintDefaults()
		}
		if c.help != "" {
			fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(c.help))
		}
	}
	return fs
}

// parseInterspersed parses flags that may come before or after positional
// arguments ("drover placement DIR --json"); "--" ends flag parsing.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

func usage(w io.Writer) {
	fmt.Fprintf(w, "drover converges tenant daemons on web-hosting shard nodes from a Git repository.\n\nUsage: drover COMMAND [ARGS]\n\nCommands:\n")
	sorted := append([]*command(nil), commands...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].name < sorted[j].name })
	for _, c := range sorted {
		if !c.hidden {
			fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
		}
	}
	fmt.Fprintf(w, "\nRun 'drover help COMMAND' for a command's flags.\n")
}

// usageError prints a usage problem and returns exitUsage.
func usageError(env *cmdEnv, fs *flag.FlagSet, format string, args ...any) int {
	fmt.Fprintf(env.stderr, "%s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	fmt.Fprintf(env.stderr, "Run 'drover help %s' for usage.\n", strings.TrimPrefix(fs.Name(), "drover "))
	return exitUsage
}

// configDir is the config root: the single optional DIR argument, or ".".
func configDir(env *cmdEnv, fs *flag.FlagSet, args []string) (string, int) {
	switch len(args) {
	case 0:
		return ".", exitOK
	case 1:
		return args[0], exitOK
	}
	return "", usageError(env, fs, "expected at most one DIR argument, got %d", len(args))
}
