package launch

import (
	"slices"
	"strings"

	"github.com/drover-sh/drover/execspec"
)

// Argv is the shell command line: the command is handed to the shell as one
// argument, never pasted into a file, so its bytes arrive unchanged. "unset
// PWD" drops the variable dash adds on start, so the environment holds
// exactly what Environ built. A single simple command is run with "exec",
// so the program replaces the shell and is the process supervisord knows;
// anything else — several commands, a pipeline, a subshell, a builtin such
// as cd or exit, a variable assignment first — runs as written under the
// shell, which stays its parent (supervisord signals the whole process
// group, stopasgroup and killasgroup, so a stop still reaches it).
func Argv(s *execspec.Spec) []string {
	if simpleCommand(s.Command) {
		return []string{Shell, "-c", "unset PWD; exec " + s.Command}
	}
	return []string{Shell, "-c", "unset PWD; " + s.Command}
}

// simpleCommand reports, conservatively, whether "exec COMMAND" runs
// COMMAND as written: outside quotes no character that separates or
// groups commands (; & | ( ) or a newline), no command substitution
// anywhere, and a first word that is a program, not a shell builtin,
// keyword or assignment. A false "no" only keeps the shell as the parent.
func simpleCommand(cmd string) bool {
	if strings.ContainsRune(cmd, '`') || strings.Contains(cmd, "$(") {
		return false
	}
	var quote rune // ' or " while inside quotes
	escaped := false
	for _, r := range cmd {
		switch {
		case escaped:
			escaped = false
		case quote == '\'':
			if r == '\'' {
				quote = 0
			}
		case r == '\\':
			escaped = true
		case quote == '"':
			if r == '"' {
				quote = 0
			}
		case r == '\'' || r == '"':
			quote = r
		case strings.ContainsRune(";&|()\n\r", r):
			return false
		}
	}
	if quote != 0 || escaped {
		return false // the shell will say what is wrong
	}
	first, _, _ := strings.Cut(strings.TrimLeft(cmd, " \t"), " ")
	first, _, _ = strings.Cut(first, "\t")
	return first != "" && !strings.ContainsAny(first, "='\"\\") && !slices.Contains(shellWords, first)
}

// shellWords are dash's builtins and reserved words: "exec WORD" would
// not run them (exec looks for a program of that name).
var shellWords = []string{
	"!", ".", ":", "[", "{", "}", "alias", "bg", "break", "case", "cd", "command", "continue",
	"do", "done", "echo", "elif", "else", "esac", "eval", "exec", "exit", "export", "false",
	"fc", "fg", "fi", "for", "getopts", "hash", "if", "in", "jobs", "kill", "local", "printf",
	"pwd", "read", "readonly", "return", "set", "shift", "test", "then", "times", "trap", "true",
	"type", "ulimit", "umask", "unalias", "unset", "until", "wait", "while",
}
