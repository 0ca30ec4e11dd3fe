package launch

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/drover-sh/drover/render"
)

func TestPlainWords(t *testing.T) {
	for _, c := range []struct {
		cmd   string
		words []string
	}{
		{"php artisan queue:work --tries=3 --queue=a,b", []string{"php", "artisan", "queue:work", "--tries=3", "--queue=a,b"}},
		{"  /usr/bin/node   server.js  ", []string{"/usr/bin/node", "server.js"}},
		{"./bin/worker user@host 50% +1", []string{"./bin/worker", "user@host", "50%", "+1"}},
		{"true", nil},          // a builtin: the shell runs it
		{"A=1 worker", nil},    // an assignment first
		{"worker $PORT", nil},  // an expansion
		{"worker ~/x", nil},    // a tilde
		{"worker *.js", nil},   // a pattern
		{"worker 'a b'", nil},  // quotes
		{"worker > log", nil},  // a redirection
		{"worker\targ", nil},   // a tab
		{"worker # note", nil}, // a comment
		{"worker; other", nil}, // two commands
		{"worker a\\ b", nil},  // an escape
		{"", nil},
	} {
		words, ok := plainWords(c.cmd)
		if ok != (c.words != nil) || !slices.Equal(words, c.words) {
			t.Errorf("plainWords(%q) = %q, %v; want %q", c.cmd, words, ok, c.words)
		}
	}
}

// TestExecDirectRunsWhatTheShellWould runs execDirect in a child (it
// replaces the process): a plain command runs with exactly the argument
// list and environment the shell line gives it, found through PATH as the
// shell finds it; for everything it leaves to the shell, it returns.
func TestExecDirectRunsWhatTheShellWould(t *testing.T) {
	if os.Getenv("DROVER_EXEC_DIRECT") != "" {
		env := strings.Split(os.Getenv("DROVER_EXEC_DIRECT_ENV"), "|")
		execDirect(os.Getenv("DROVER_EXEC_DIRECT"), env)
		os.Stdout.WriteString("returned\n")
		os.Exit(0)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	other := filepath.Join(dir, "other")
	for _, d := range []string{bin, other} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// "show" prints its arguments and environment, one per line.
	show := "#!/bin/sh\nfor a in \"$0\" \"$@\"; do echo \"arg $a\"; done\n/usr/bin/env | LC_ALL=C /usr/bin/sort\n"
	for _, f := range []struct {
		path, body string
		mode       os.FileMode
	}{
		{filepath.Join(bin, "show"), show, 0o755},
		{filepath.Join(other, "show"), "#!/bin/sh\necho wrong one\n", 0o755},
		{filepath.Join(bin, "noshebang"), "echo script without shebang\n", 0o755},
		{filepath.Join(bin, "notexec"), show, 0o644},
	} {
		if err := os.WriteFile(f.path, []byte(f.body), f.mode); err != nil {
			t.Fatal(err)
		}
	}
	env := []string{"HOME=/nonexistent", "PATH=" + filepath.Join(dir, "missing") + ":" + bin + ":" + other, "X=a b=c"}
	run := func(t *testing.T, argv []string, cmd string) string {
		var c *exec.Cmd
		if argv != nil {
			c = exec.Command(argv[0], argv[1:]...)
			c.Env = env
		} else {
			c = exec.Command(os.Args[0], "-test.run=^TestExecDirectRunsWhatTheShellWould$")
			c.Env = []string{"DROVER_EXEC_DIRECT=" + cmd, "DROVER_EXEC_DIRECT_ENV=" + strings.Join(env, "|")}
		}
		c.Dir = dir
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("%q: %v\n%s", cmd, err, out)
		}
		return string(out)
	}
	for _, cmd := range []string{"show a,b --x=1 50%", bin + "/show one", "./bin/show rel"} {
		direct := run(t, nil, cmd)
		shell := run(t, Argv(&render.ExecSpec{Command: cmd}), cmd)
		if direct != shell || strings.Contains(direct, "returned") || !strings.Contains(direct, "X=a b=c") {
			t.Errorf("%q run directly:\n%s\nby the shell:\n%s", cmd, direct, shell)
		}
	}
	for _, cmd := range []string{"missing", "noshebang", "notexec", "true", "show $X", "/nonexistent/show"} {
		if out := run(t, nil, cmd); out != "returned\n" {
			t.Errorf("%q: execDirect ran it (%q); it must return and leave it to the shell", cmd, out)
		}
	}
}
