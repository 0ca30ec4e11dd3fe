package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/internal/testenv"
)

// completionRepo writes a config repository of two tenants into a
// directory of the test's own and returns it.
func completionRepo(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "tenants"), 0o755); err != nil {
		t.Fatal(err)
	}
	testenv.WriteFile(t, filepath.Join(dir, "cluster.hcl"), `cluster "osl-1" {}
shard "web-1" {
  node "web-1a" { index = 1 }
  node "web-1b" { index = 2 }
}
shard "web-2" {
  node "web-2a" { index = 3 }
}
`, 0o644)
	testenv.WriteFile(t, filepath.Join(dir, "tenants", "acme.hcl"), `tenant "acme" {
  uid   = 10042
  shard = "web-1"
  webroot "main" {
    daemon "reverb" { command = "php artisan reverb:start" }
    daemon "queue" { command = "php artisan queue:work" }
  }
  webroot "www" {
    daemon "web" { command = "node server.js" }
  }
}
tenant "beta" {
  uid   = 10043
  shard = "web-2"
  webroot "main" {
    daemon "ws" { command = "node ws.js" }
  }
}
`, 0o644)
	return dir
}

// complete runs `drover __complete ARGS...` (what the completion scripts
// run) in this process and returns the candidates without their
// descriptions, and the directive line.
func complete(t *testing.T, args ...string) ([]string, string) {
	t.Helper()
	var out, errOut strings.Builder
	if code := run(append([]string{"__complete"}, args...), &out, &errOut); code != exitOK {
		t.Fatalf("drover __complete %q: exit %d: %s", args, code, errOut.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var got []string
	for _, l := range lines[:len(lines)-1] {
		cand, _, _ := strings.Cut(l, "\t")
		got = append(got, cand)
	}
	return got, lines[len(lines)-1]
}

// TestCompletionFromTheRepository: names are completed from the config
// repository, DIR or the current directory: daemon keys (of status when
// no agent answers, of drover daemon), the TENANT/WEBROOT/ of a daemon to
// add, node, tenant and shard names, and the fixed words.
func TestCompletionFromTheRepository(t *testing.T) {
	repo := completionRepo(t)
	t.Chdir(repo)
	noAgent := filepath.Join(t.TempDir(), "none.sock")
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"status", "--socket", noAgent, "acme/ma"}, []string{"acme/main/queue", "acme/main/reverb"}},
		{[]string{"retry", "--socket", noAgent, ""}, []string{"acme/main/queue", "acme/main/reverb", "acme/www/web", "beta/main/ws"}},
		{[]string{"status", "--socket", noAgent, "acme/main/queue", ""}, nil},
		{[]string{"daemon", ""}, []string{"add", "disable", "enable", "rm", "set"}},
		{[]string{"daemon", "set", "b"}, []string{"beta/main/ws"}},
		{[]string{"daemon", "add", "a"}, []string{"acme/main/", "acme/www/"}},
		{[]string{"daemon", "set", "--unset", "max_"}, []string{"max_memory_mb", "max_open_files"}},
		{[]string{"render", "--node", "web-1"}, []string{"web-1a", "web-1b"}},
		{[]string{"placement", repo, "--node", ""}, []string{"web-1a", "web-1b", "web-2a"}},
		{[]string{"plan", "--node", "web-2", "--format", "j"}, []string{"json"}},
		{[]string{"secret", "encrypt", "--tenant", ""}, []string{"acme", "beta"}},
		{[]string{"secret", "encrypt", "--shard", "web"}, []string{"web-1", "web-2"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}},
		{[]string{"help", "st"}, []string{"status"}},
		{[]string{"sta"}, []string{"status"}},
		{[]string{"logs", "--f"}, []string{"--follow"}},
	} {
		if got, _ := complete(t, c.args...); !slices.Equal(got, c.want) {
			t.Errorf("drover %s<TAB>: got %q, want %q", strings.Join(c.args, " "), got, c.want)
		}
	}
	// Elsewhere, DIR names the repository.
	t.Chdir(t.TempDir())
	if got, _ := complete(t, "render", repo, "--node", "web-2"); !slices.Equal(got, []string{"web-2a"}) {
		t.Errorf("drover render DIR --node web-2<TAB>: got %q", got)
	}
	if got, _ := complete(t, "render", "--node", ""); len(got) != 0 {
		t.Errorf("drover render --node <TAB> without a repository: got %q", got)
	}
}

// TestCompletionAsksTheAgent: the daemon keys of status, retry, logs and
// restart come from the running agent when it answers, with their status
// as description; an agent that does not answer is given a second, then
// the repository answers.
func TestCompletionAsksTheAgent(t *testing.T) {
	t.Chdir(completionRepo(t))
	sock := serveSocket(t, statusNode{localapi.Status{Node: "web-1a"}, []localapi.Daemon{
		{Key: "acme/main/queue", Status: "running"}, {Key: "acme/mailer/send", Status: statusCrashLooping}, {Key: "beta/main/ws", Status: "running"},
	}})
	var out, errOut strings.Builder
	run([]string{"__complete", "logs", "--socket", sock, "acme/ma"}, &out, &errOut)
	if want := "acme/main/queue\trunning\nacme/mailer/send\tcrash-looping\n:4\n"; out.String() != want {
		t.Errorf("drover logs acme/ma<TAB> with an agent: got %q, want %q", out.String(), want)
	}

	hung := filepath.Join(t.TempDir(), "hung.sock")
	l, err := net.Listen("unix", hung)
	if err != nil {
		t.Fatal(err)
	}
	held := make(chan net.Conn, 10)
	t.Cleanup(func() {
		_ = l.Close()
		for len(held) > 0 {
			_ = (<-held).Close()
		}
	})
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			held <- c // accepted, never answered
		}
	}()
	start := time.Now()
	got, _ := complete(t, "restart", "--socket", hung, "beta/")
	if took := time.Since(start); took > completionAgentTimeout+time.Second {
		t.Errorf("completion against a hung agent took %s", took)
	}
	if !slices.Equal(got, []string{"beta/main/ws"}) {
		t.Errorf("drover restart beta/<TAB> with a hung agent: got %q, want the repository's beta/main/ws", got)
	}
}

// TestBashCompletesDaemonKeys runs the script of drover completion bash
// in a real bash, as bash runs it on <TAB>, in a config repository: a
// partial daemon key completes to the keys it starts, from the
// repository without an agent and from the agent with one.
func TestBashCompletesDaemonKeys(t *testing.T) {
	testenv.RequireTools(t, "bash")
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		t.Skip("needs the bash-completion package (installed by .ci/run)")
	}
	repo := completionRepo(t)
	sock := serveSocket(t, statusNode{localapi.Status{Node: "web-1a"}, []localapi.Daemon{
		{Key: "acme/main/queue", Status: "running"}, {Key: "acme/mailer/send", Status: statusCrashLooping},
	}})
	// $1 is the command line, the cursor at its end.
	script := `source ` + bashCompletion + `
source <(drover completion bash)
COMP_LINE=$1 COMP_POINT=${#1}
read -ra COMP_WORDS <<<"$COMP_LINE"
[[ $COMP_LINE == *" " ]] && COMP_WORDS+=("")
COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
__start_drover 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`
	for _, c := range []struct{ line, want string }{
		{"drover status --socket " + repo + "/none.sock acme/ma", "acme/main/queue\nacme/main/reverb"},
		{"drover status --socket " + repo + "/none.sock acme/w", "acme/www/web"},
		{"drover daemon rm acme/", "acme/main/queue\nacme/main/reverb\nacme/www/web"},
		{"drover status --socket " + sock + " acme/ma", "acme/main/queue\nacme/mailer/send"},
		{"drover render --node web-1", "web-1a\nweb-1b"},
		{"drover val", "validate"},
	} {
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", script, "bash", c.line)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			cand, _, _ := strings.Cut(l, " ") // bash lists candidates with their descriptions
			got = append(got, cand)
		}
		if strings.Join(got, "\n") != c.want {
			t.Errorf("%s<TAB>: bash offers\n%s\nwant\n%s", c.line, out, c.want)
		}
	}
}

// TestCompletionScripts: the zsh and fish scripts are valid for their
// shells (zsh -n, fish -n), and fish completes a partial daemon key with
// its script.
func TestCompletionScripts(t *testing.T) {
	testenv.RequireTools(t, "zsh", "fish")
	dir := t.TempDir()
	for _, shell := range completionShells {
		var out, errOut strings.Builder
		if code := run([]string{"completion", shell}, &out, &errOut); code != exitOK || out.Len() < 1000 {
			t.Fatalf("drover completion %s: exit %d, %d bytes: %s", shell, code, out.Len(), errOut.String())
		}
		file := filepath.Join(dir, "drover."+shell)
		testenv.WriteFile(t, file, out.String(), 0o644)
		if shell != "bash" {
			testenv.Run(t, shell, "-n", file)
		}
	}
	cmd := exec.Command("fish", "--no-config", "-c", "source "+filepath.Join(dir, "drover.fish")+
		"; complete -C 'drover daemon enable acme/m'")
	cmd.Dir = completionRepo(t)
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "acme/main/queue\nacme/main/reverb\n" {
		t.Errorf("fish completes drover daemon enable acme/m<TAB> with %q (%v)", out, err)
	}
	var errOut strings.Builder
	if code := run([]string{"completion", "powershell"}, &strings.Builder{}, &errOut); code != exitUsage {
		t.Errorf("drover completion powershell: exit %d, want %d", code, exitUsage)
	}
}
