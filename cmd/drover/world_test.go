package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drover-sh/drover/internal/testenv"
)

// The commands below give end-to-end scripts a real node: a network
// namespace with its own supervisord and nginx, an agent configuration
// pointing at them, and a Git repository. Everything is private to the
// script and stopped (by PID) when it ends.

var worldCount atomic.Int32

// scriptConditions adds [root] (running as root) and [tools] (supervisord,
// nginx, git, ip and curl installed; CI installs them) to scripts.
func scriptConditions(cond string) (bool, error) {
	switch cond {
	case "root":
		return os.Geteuid() == 0, nil
	case "tools":
		for _, t := range []string{"supervisord", "supervisorctl", "nginx", "git", "ip", "curl"} {
			if _, err := exec.LookPath(t); err != nil {
				return false, nil
			}
		}
		return true, nil
	}
	return false, fmt.Errorf("unknown condition %q", cond)
}

// cmdNodeWorld sets up a node: node-world NODE.
// It expects the config repository in $WORK/repo (committed as "initial"),
// starts supervisord and nginx (listening on 127.0.0.1:8080) inside a new
// network namespace with the node's tenant addresses on lo, creates every
// webroot directory, and writes $WORK/agent.hcl. It sets $NETNS, $SUPCONF
// (for supervisorctl -c), $AGENT (the agent config) and $SOCK (its API).
func cmdNodeWorld(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: node-world NODE")
	}
	node := args[0]
	work := ts.Getenv("WORK")
	// Tenant daemons run below $WORK: let other users traverse to it (the
	// script's parent directory is testscript's own, 0700 otherwise).
	ts.Check(os.Chmod(work, 0o755))
	ts.Check(os.Chmod(filepath.Dir(work), 0o711))
	ns := fmt.Sprintf("drover-w%d-%d", os.Getpid(), worldCount.Add(1))
	run := func(name string, args ...string) {
		out, err := exec.Command(name, args...).CombinedOutput()
		if err != nil {
			ts.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	newNetns(ts, ns)
	repo := filepath.Join(work, "repo")
	drover := nodeFiles(ts, work, node, repo, false, fmt.Sprintf(`    include %[1]s/etc/nginx/servers/*.conf;
    # A platform's own files: a script breaks nginx -t by writing here.
    include %[1]s/etc/nginx-extra/*.conf;`, work))
	ts.Check(os.MkdirAll(filepath.Join(work, "etc", "nginx-extra"), 0o755))
	gitRun(ts, repo, "init", "-q", "-b", "main")
	gitRun(ts, repo, "add", "-A")
	gitRun(ts, repo, "commit", "-q", "-m", "initial")

	// The node's tenant addresses and webroots, from drover's own render.
	out := filepath.Join(work, ".world-render")
	run(drover, "render", "--config", filepath.Join(work, "agent.hcl"), "--out", out, repo)
	addrs, err := os.ReadFile(filepath.Join(out, "network", "addresses"))
	ts.Check(err)
	for _, line := range strings.Split(string(addrs), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(line, " nodad ") {
			run("ip", "-n", ns, "addr", "add", f[0], "dev", "lo", "nodad")
		}
	}
	specs, _ := filepath.Glob(filepath.Join(out, "exec", "*.json"))
	for _, s := range specs {
		b, err := os.ReadFile(s)
		ts.Check(err)
		if i := strings.Index(string(b), `"dir": "`); i >= 0 {
			dir := string(b[i+8:])
			dir = dir[:strings.IndexByte(dir, '"')]
			ts.Check(os.MkdirAll(dir, 0o755))
		}
	}
	ts.Check(os.RemoveAll(out))

	startNode(ts, work, ns)
	ts.Setenv("NETNS", ns)
	ts.Setenv("SUPCONF", filepath.Join(work, "supervisord.conf"))
	ts.Setenv("AGENT", filepath.Join(work, "agent.hcl"))
	ts.Setenv("SOCK", filepath.Join(work, "agent.sock"))
}

func gitRun(ts *testscript.TestScript, dir string, args ...string) {
	cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1",
		"GIT_AUTHOR_NAME=drover test", "GIT_AUTHOR_EMAIL=test@drover.invalid",
		"GIT_COMMITTER_NAME=drover test", "GIT_COMMITTER_EMAIL=test@drover.invalid")
	if out, err := cmd.CombinedOutput(); err != nil {
		ts.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// newNetns creates a network namespace with lo up, deleted (with all in it)
// when the script ends.
func newNetns(ts *testscript.TestScript, name string) {
	_ = exec.Command("ip", "netns", "del", name).Run() // left over from a killed run
	for _, args := range [][]string{{"netns", "add", name}, {"-n", name, "link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			ts.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "netns" {
			ts.Defer(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
		}
	}
}

// nodeFiles writes a node's supervisord.conf, nginx.conf (httpBlock inside
// http {}) and agent.hcl (node, state and conf dirs in dir, the repository
// as a local source, with the network block when network is set, the
// script tenants' uid range), creates
// its directories and returns the drover binary it names.
func nodeFiles(ts *testscript.TestScript, dir, node, repo string, network bool, httpBlock string) string {
	for _, d := range []string{"etc/supervisor", "etc/nginx/servers", "state", "storage", "logs"} {
		ts.Check(os.MkdirAll(filepath.Join(dir, d), 0o755))
	}
	write := func(name, content string) { ts.Check(os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)) }
	write("supervisord.conf", testenv.SupervisordConf(dir, filepath.Join(dir, "etc", "supervisor", "*.conf")))
	write("nginx.conf", testenv.NginxConf(dir, httpBlock))
	drover, err := exec.LookPath("drover")
	ts.Check(err)
	networkBlock := ""
	if network {
		networkBlock = `network {
  tenant_interface  = "tenant0"
  transit_interface = "eth1"
  nft_table         = "drover"
}
`
	}
	write("agent.hcl", fmt.Sprintf(`node         = %[2]q
state_dir    = "%[1]s/state"
storage_root = "%[1]s/storage"
binary       = %[3]q
source {
  url           = %[4]q
  poll_interval = "1h"
}
supervisor {
  conf_dir = "%[1]s/etc/supervisor"
  socket   = "%[1]s/supervisor.sock"
}
nginx {
  conf_dir       = "%[1]s/etc/nginx"
  listen         = ["127.0.0.1:8080"]
  test_command   = ["nginx", "-t", "-q", "-c", "%[1]s/nginx.conf", "-p", "%[1]s"]
  reload_command = ["nginx", "-s", "reload", "-c", "%[1]s/nginx.conf", "-p", "%[1]s"]
}
%[5]sapi {
  socket         = "%[1]s/agent.sock"
  metrics_listen = ""
}
tenants {
  uid_min = %[6]d
  uid_max = %[7]d
}
`, dir, node, drover, repo, networkBlock, scriptUIDMin, scriptUIDMax))
	return drover
}

// startNode starts the node's supervisord and nginx inside namespace ns,
// stopped (by PID) when the script ends. nsenter switches only the network
// namespace; `ip netns exec` would also mount a sysfs without
// /sys/fs/cgroup, hiding the memory cgroups.
func startNode(ts *testscript.TestScript, dir, ns string) {
	nsenter := []string{"--net=/run/netns/" + ns, "--"}
	run := func(args ...string) {
		if out, err := exec.Command("nsenter", append(nsenter, args...)...).CombinedOutput(); err != nil {
			ts.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("supervisord", "-c", filepath.Join(dir, "supervisord.conf"))
	ts.Defer(func() { testenv.KillPIDFile(filepath.Join(dir, "supervisord.pid")) })
	run("nginx", "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)
	ts.Defer(func() { testenv.KillPIDFile(filepath.Join(dir, "nginx.pid")) })
	deadline := time.Now().Add(10 * time.Second)
	for exec.Command("supervisorctl", "-c", filepath.Join(dir, "supervisord.conf"), "pid").Run() != nil {
		if time.Now().After(deadline) {
			ts.Fatalf("supervisord in %s did not come up", dir)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cmdCommit commits everything in $WORK/repo: commit MESSAGE.
func cmdCommit(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: commit MESSAGE")
	}
	repo := filepath.Join(ts.Getenv("WORK"), "repo")
	gitRun(ts, repo, "add", "-A")
	gitRun(ts, repo, "commit", "-q", "--allow-empty", "-m", args[0])
}

// cmdRetryUntil runs a command until it succeeds, for at most SECONDS:
// retry-until SECONDS PROG [ARGS...]. Its last stdout and stderr are kept.
func cmdRetryUntil(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: retry-until SECONDS PROG [ARGS...]")
	}
	secs, err := strconv.ParseFloat(args[0], 64)
	if err != nil {
		ts.Fatalf("retry-until: %q is not a number of seconds", args[0])
	}
	start := time.Now()
	deadline := start.Add(time.Duration(secs * float64(time.Second)))
	for {
		err := ts.Exec(args[1], args[2:]...)
		if err == nil {
			ts.Logf("succeeded after %.2fs", time.Since(start).Seconds())
			return
		}
		if time.Now().After(deadline) {
			ts.Fatalf("%s did not succeed within %ss: %v", args[1], args[0], err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cmdInNetns runs a program inside the world's namespace: in-netns PROG [ARGS...].
func cmdInNetns(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) < 1 {
		ts.Fatalf("usage: in-netns PROG [ARGS...]")
	}
	err := ts.Exec("ip", append([]string{"netns", "exec", ts.Getenv("NETNS")}, args...)...)
	if neg != (err != nil) {
		if neg {
			ts.Fatalf("in-netns %s succeeded unexpectedly", args[0])
		}
		ts.Fatalf("in-netns %s: %v", args[0], err)
	}
}
