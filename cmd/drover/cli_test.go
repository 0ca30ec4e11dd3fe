package main

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestExitStatuses: 0 done, 1 failed, 2 a usage error (an unknown command
// or flag, a bad flag value), each usage error saying what is wrong; help
// in every spelling prints to stdout and exits 0, hidden commands'
// included, and only the help lists no hidden command.
func TestExitStatuses(t *testing.T) {
	const examples = "../../examples/config"
	for _, c := range []struct {
		args         []string
		code         int
		stdout, errs string // regular expressions
	}{
		{nil, exitUsage, `^$`, `^drover converges.*\n\nUsage: drover COMMAND`},
		{[]string{"frobnicate"}, exitUsage, `^$`, `^drover: unknown command "frobnicate"\nRun 'drover help' for the list of commands.\n$`},
		{[]string{"statsu"}, exitUsage, `^$`, `Did you mean "status"\?`},
		{[]string{"--bogus"}, exitUsage, `^$`, `^drover: unknown flag: --bogus\n`},
		{[]string{"validate", "--bogus", examples}, exitUsage, `^$`, `^drover validate: unknown flag: --bogus\nRun 'drover help validate' for usage.\n$`},
		{[]string{"retry", "--timeout", "soon", "acme/main/web"}, exitUsage, `^$`, `^drover retry: invalid argument "soon" for "--timeout" flag`},
		{[]string{"validate", "a", "b"}, exitUsage, `^$`, `^drover validate: expected at most one DIR argument, got 2\nRun 'drover help validate' for usage.\n$`},
		{[]string{"help", "nope"}, exitUsage, `^$`, `^drover: unknown command "nope"\n$`},
		{[]string{"validate", examples}, exitOK, `is valid`, ``},
		{[]string{"validate", "--", examples}, exitOK, `is valid`, ``},
		{[]string{"validate", "does-not-exist"}, exitFailure, `^$`, `Cannot read config directory`},
		{[]string{"help"}, exitOK, `(?s)Commands:.*  validate    Check`, `^$`},
		{[]string{"-h"}, exitOK, `Commands:`, `^$`},
		{[]string{"-help"}, exitOK, `Commands:`, `^$`},
		{[]string{"--help"}, exitOK, `Commands:`, `^$`},
		{[]string{"help", "validate"}, exitOK, `^Usage: drover validate \[--all-warnings\] \[DIR\]\n\nCheck .*\n\nFlags:\n      --all-warnings   print every warning in full\n\nDIR is`, `^$`},
		{[]string{"validate", "--help"}, exitOK, `^Usage: drover validate \[--all-warnings\] \[DIR\]\n`, `^$`},
		{[]string{"validate", "-h"}, exitOK, `^Usage: drover validate`, `^$`},
		{[]string{"validate", "-help"}, exitOK, `^Usage: drover validate`, `^$`},
		{[]string{"help", "guard"}, exitOK, `^Usage: drover guard --lease PATH --socket PATH\n`, `^$`},
		{[]string{"guard", "--help"}, exitOK, `^Usage: drover guard --lease PATH --socket PATH\n`, `^$`},
		{[]string{"exec", "--help"}, exitOK, `^Usage: drover exec SPEC\n`, `^$`},
	} {
		var out, errOut strings.Builder
		code := run(c.args, &out, &errOut)
		if code != c.code || !regexp.MustCompile(c.stdout).MatchString(out.String()) || !regexp.MustCompile(c.errs).MatchString(errOut.String()) {
			t.Errorf("drover %s: exit %d, want %d\nstdout: %q (want %s)\nstderr: %q (want %s)",
				strings.Join(c.args, " "), code, c.code, out.String(), c.stdout, errOut.String(), c.errs)
		}
	}
	var out strings.Builder
	run([]string{"help"}, &out, &out)
	for _, hidden := range []string{"guard", "supervisor-events", "__complete"} {
		if strings.Contains(out.String(), "  "+hidden+" ") {
			t.Errorf("drover help lists the hidden command %s", hidden)
		}
	}
}

// TestOneDashLongFlags: a long flag given with one dash, as Go's flag
// package took it ("-json", "-node=web-1a"), is taken as with two; a
// value, a short flag, an unknown flag and what follows "--" are left.
func TestOneDashLongFlags(t *testing.T) {
	root := newRoot(&cmdEnv{stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	for _, c := range []struct{ in, want string }{
		{"placement -json dir", "placement --json dir"},
		{"placement dir -json", "placement dir --json"},
		{"render -node=web-1a -out o", "render --node=web-1a --out o"},
		{"daemon set a/b/c -command -json", "daemon set a/b/c --command -json"},
		{"daemon set a/b/c --command -json -dry-run", "daemon set a/b/c --command -json --dry-run"},
		{"logs -n 5 -f a/b/c", "logs -n 5 -f a/b/c"},
		{"validate -- -all-warnings", "validate -- -all-warnings"},
		{"validate -bogus", "validate -bogus"},
		{"validate -help", "validate --help"},
		{"frobnicate -json", "frobnicate -json"},
	} {
		if got := strings.Join(oneDashLongFlags(root, strings.Fields(c.in)), " "); got != c.want {
			t.Errorf("%s: got %s, want %s", c.in, got, c.want)
		}
	}
	var out, errOut strings.Builder
	if code := run([]string{"placement", "-json", "-node", "web-1a", "../../examples/config"}, &out, &errOut); code != exitOK {
		t.Fatalf("drover placement -json -node web-1a: exit %d: %s", code, errOut.String())
	}
	var placed []struct{ Node string }
	if err := json.Unmarshal([]byte(out.String()), &placed); err != nil || len(placed) == 0 {
		t.Fatalf("drover placement -json printed %q (%v)", out.String(), err)
	}
	for _, p := range placed {
		if p.Node != "web-1a" {
			t.Errorf("drover placement -node web-1a printed a daemon of %s", p.Node)
		}
	}
}

// TestREADMEMatchesTheHelp: the README's Commands table gives every
// command that drover help lists with the synopsis its help prints (a
// command of several rows, such as secret, joins them with " | "), and
// names every flag of the command in its row; drover daemon's flags are
// in the table of "Editing daemons".
func TestREADMEMatchesTheHelp(t *testing.T) {
	data, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(data)
	rows := map[string][]string{}  // command → the synopses of its rows
	rowText := map[string]string{} // command → its rows
	table := section(t, readme, "## Commands")
	for _, m := range regexp.MustCompile("(?m)^\\| `drover ([a-z-]+) ?(.*?)` \\|.*$").FindAllStringSubmatch(table, -1) {
		rows[m[1]] = append(rows[m[1]], strings.ReplaceAll(m[2], `\|`, "|"))
		rowText[m[1]] += m[0]
	}
	rowText["daemon"] += section(t, readme, "## Editing daemons")
	root := newRoot(&cmdEnv{stdout: &strings.Builder{}, stderr: &strings.Builder{}})
	for _, cmd := range root.Commands() {
		c := lookup(cmd.Name())
		if c == nil || c.hidden {
			continue
		}
		if got := strings.Join(rows[c.name], " | "); got != c.args {
			t.Errorf("README: the synopsis of drover %s is %q, its help says %q", c.name, got, c.args)
		}
		cmd.LocalFlags().VisitAll(func(f *pflag.Flag) {
			named := regexp.MustCompile("(^|[^a-z-])--" + f.Name + "([^a-z-]|$)").MatchString(rowText[c.name])
			if f.Shorthand != "" {
				named = named || regexp.MustCompile("(^|[^a-z-])-"+f.Shorthand+"([^a-z-]|$)").MatchString(rowText[c.name])
			}
			if !f.Hidden && !named {
				t.Errorf("README: the row of drover %s does not name its flag --%s", c.name, f.Name)
			}
		})
	}
	for name := range rows {
		if !slices.ContainsFunc(commands, func(c *command) bool { return c.name == name }) {
			t.Errorf("README lists drover %s, which is no command", name)
		}
	}
}

// section is the text of the README section that starts with the heading
// line head, up to the next heading of its level.
func section(t *testing.T, readme, head string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "\n"+head+"\n")
	if !ok {
		t.Fatalf("README has no section %q", head)
	}
	level := head[:strings.Index(head, " ")+1]
	text, _, _ := strings.Cut(rest, "\n"+level)
	return text
}
