package launch

import (
	"maps"
	"strconv"
	"strings"
	"testing"

	"github.com/drover-sh/drover/render"
)

// TestParseEnvFile: every form the format accepts, and what each line
// reads as.
func TestParseEnvFile(t *testing.T) {
	src := "# a comment\n" +
		"\n" +
		"   \t\n" +
		"  # an indented comment\n" +
		"PLAIN=value\n" +
		"export EXPORTED=yes\n" +
		"export\tTABBED=1\n" +
		"SPACED = around the equals  \n" +
		"EMPTY=\n" +
		"SINGLE='it''s # not a comment'\n" +
		"SINGLE2='$HOME ${X} \\n as written' # a comment\n" +
		"DOUBLE=\"a \\\"quote\\\" \\\\ \\n\\t\\r \\$ $HOME\"\n" +
		"COMMENTED=value # a comment\n" +
		"HASH=pass#word\n" +
		"DOLLAR=pa$$word\n" +
		"CRLF=windows\r\n" +
		"_x9=lower\n" +
		"exportNOT=1\n" +
		"LAST=no newline"
	got, err := ParseEnvFile([]byte(src))
	if err == nil {
		t.Fatalf("two adjacent single-quoted strings parsed: %q", got)
	}
	src = strings.Replace(src, "SINGLE='it''s # not a comment'", "SINGLE='it # not a comment'", 1)
	got, err = ParseEnvFile([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PLAIN": "value", "EXPORTED": "yes", "TABBED": "1", "SPACED": "around the equals", "EMPTY": "",
		"SINGLE": "it # not a comment", "SINGLE2": `$HOME ${X} \n as written`,
		"DOUBLE": "a \"quote\" \\ \n\t\r $ $HOME", "COMMENTED": "value", "HASH": "pass#word", "DOLLAR": "pa$$word",
		"CRLF": "windows", "_x9": "lower", "exportNOT": "1", "LAST": "no newline",
	}
	if !maps.Equal(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// TestParseEnvFileRefuses: each kind of bad line is refused with its line
// number, and no message quotes the value.
func TestParseEnvFileRefuses(t *testing.T) {
	for _, c := range []struct{ src, want string }{
		{"A=1\nSECRETVALUE\n", "line 2: not NAME=VALUE"},
		{"A=1\n\n9A=SECRETVALUE\n", "line 3: the text before '=' is not a variable name"},
		{"A B=SECRETVALUE\n", "line 1: the text before '=' is not a variable name"},
		{"A=1\nA=SECRETVALUE\n", "line 2: A is already set on line 1"},
		{"A='SECRETVALUE\n", "line 1: A: no closing single quote"},
		{"A=\"SECRETVALUE\n", "line 1: A: no closing double quote"},
		{"A=\"SECRETVALUE\\\"\n", "line 1: A: no closing double quote"},
		{"A=\"SECRET\\qVALUE\"\n", `line 1: A: unknown escape \q`},
		{"A=\"SECRETVALUE\" tail\n", "line 1: A: text after the closing quote"},
		{"A='SECRETVALUE'tail\n", "line 1: A: text after the closing quote"},
		{"A=SECRET\"VALUE\n", "line 1: A: a quote or backslash inside an unquoted value"},
		{"A=SECRET\\VALUE\n", "line 1: A: a quote or backslash inside an unquoted value"},
		{"A=${SECRETVALUE}\n", `line 1: A: "${" is not expanded`},
		{"A=\"x${SECRETVALUE}\"\n", `line 1: A: "${" is not expanded`},
		{"A=1\nB=SECRET\x00VALUE\n", "line 2: holds a NUL byte"},
		{strings.Repeat("x", MaxEnvFile+1), "is larger than 64 KiB"},
	} {
		_, err := ParseEnvFile([]byte(c.src))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.40q: %v, want %q", c.src, err, c.want)
			continue
		}
		if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%.40q: the message quotes the value: %v", c.src, err)
		}
	}
	var many strings.Builder
	for i := range MaxEnvFileVars + 1 {
		many.WriteString("V" + strings.Repeat("x", i%3) + "_" + strconv.Itoa(i) + "=1\n")
	}
	if _, err := ParseEnvFile([]byte(many.String())); err == nil || !strings.Contains(err.Error(), "line 1025: more than 1024 variables") {
		t.Errorf("1,025 variables: %v", err)
	}
	exact := strings.Repeat("#", MaxEnvFile)
	if _, err := ParseEnvFile([]byte(exact)); err != nil {
		t.Errorf("a file of exactly 64 KiB: %v", err)
	}
}

// TestEnvironPrecedence: the env file overrides the standard variables,
// and the spec's environment (HCL, HOST, PORT) overrides the env file.
func TestEnvironPrecedence(t *testing.T) {
	s := &render.ExecSpec{Home: "/srv/acme", Env: map[string]string{"DB": "from-hcl", "HOST": "fd00::1", "PORT": "15000"}}
	file := map[string]string{"DB": "from-file", "HOST": "file-host", "PORT": "1", "PATH": "/opt/bin", "HOME": "/file-home", "ONLY_FILE": "f"}
	got := strings.Join(Environ(s, Account{Name: "acme"}, file), "|")
	want := "DB=from-hcl|HOME=/file-home|HOST=fd00::1|LOGNAME=acme|ONLY_FILE=f|PATH=/opt/bin|PORT=15000|SHELL=/bin/sh|USER=acme"
	if got != want {
		t.Errorf("Environ:\n got %q\nwant %q", got, want)
	}
}
