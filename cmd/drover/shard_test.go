package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/drover-sh/drover/internal/testenv"
)

// cmdShardWorld builds a shard of N nodes: shard-world N.
// A "switch" namespace holds a bridge; each node n1..nN is a namespace with
// a veth (eth1, the transit interface) into that bridge, an empty bridge
// tenant0 (the tenant interface: the kernel here has no dummy links), and
// its own supervisord and nginx (127.0.0.1:8080), configured under
// $WORK/nI with $WORK/nI/agent.hcl (node "nI", the network block set). The
// config repository is $WORK/repo (committed as "initial"). It sets $NSi
// (the namespace name) and $AGENTi, $SOCKi, $SUPCONFi for each node; agents
// are started by the script: exec nsenter --net=/run/netns/$NS1 drover agent
// --config $AGENT1 &a1&.
func cmdShardWorld(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: shard-world N")
	}
	n, err := strconv.Atoi(args[0])
	if err != nil || n < 1 || n > 9 {
		ts.Fatalf("shard-world: N must be 1..9")
	}
	work := ts.Getenv("WORK")
	ts.Check(os.Chmod(work, 0o755))
	ts.Check(os.Chmod(filepath.Dir(work), 0o711))
	run := func(name string, args ...string) {
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			ts.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	id := fmt.Sprintf("%d-%d", os.Getpid(), worldCount.Add(1))
	sw := "drover-sw-" + id
	newNS := func(name string) {
		_ = exec.Command("ip", "netns", "del", name).Run()
		run("ip", "netns", "add", name)
		ts.Defer(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
		run("ip", "-n", name, "link", "set", "lo", "up")
	}
	newNS(sw)
	run("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	run("ip", "-n", sw, "link", "set", "br0", "up")

	repo := filepath.Join(work, "repo")
	gitRun(ts, repo, "init", "-q", "-b", "main")
	gitRun(ts, repo, "add", "-A")
	gitRun(ts, repo, "commit", "-q", "-m", "initial")
	drover, err := exec.LookPath("drover")
	ts.Check(err)

	for i := 1; i <= n; i++ {
		node := fmt.Sprintf("n%d", i)
		ns := fmt.Sprintf("drover-n%d-%s", i, id)
		newNS(ns)
		// veth: eth1 in the node, p<i> on the switch's bridge.
		peer := fmt.Sprintf("p%d", i)
		run("ip", "-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", peer, "netns", sw)
		run("ip", "-n", sw, "link", "set", peer, "master", "br0", "up")
		run("ip", "-n", ns, "link", "set", "eth1", "up")
		run("ip", "-n", ns, "link", "add", "tenant0", "type", "bridge")
		run("ip", "-n", ns, "link", "set", "tenant0", "up")

		dir := filepath.Join(work, node)
		for _, d := range []string{"etc/supervisor", "etc/nginx/servers", "state", "storage", "logs"} {
			ts.Check(os.MkdirAll(filepath.Join(dir, d), 0o755))
		}
		write := func(name, content string) { ts.Check(os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644)) }
		write("supervisord.conf", testenv.SupervisordConf(dir, filepath.Join(dir, "etc", "supervisor", "*.conf")))
		write("nginx.conf", testenv.NginxConf(dir, fmt.Sprintf("    include %s/etc/nginx/servers/*.conf;", dir)))
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
network {
  tenant_interface  = "tenant0"
  transit_interface = "eth1"
  nft_table         = "drover"
}
api {
  socket         = "%[1]s/agent.sock"
  metrics_listen = ""
}
`, dir, node, drover, repo))
		nsenter := []string{"--net=/run/netns/" + ns, "--"}
		run("nsenter", append(nsenter, "supervisord", "-c", filepath.Join(dir, "supervisord.conf"))...)
		ts.Defer(func() { testenv.KillPIDFile(filepath.Join(dir, "supervisord.pid")) })
		run("nsenter", append(nsenter, "nginx", "-c", filepath.Join(dir, "nginx.conf"), "-p", dir)...)
		ts.Defer(func() { testenv.KillPIDFile(filepath.Join(dir, "nginx.pid")) })
		deadline := time.Now().Add(10 * time.Second)
		for exec.Command("supervisorctl", "-c", filepath.Join(dir, "supervisord.conf"), "pid").Run() != nil {
			if time.Now().After(deadline) {
				ts.Fatalf("supervisord of %s did not come up", node)
			}
			time.Sleep(50 * time.Millisecond)
		}
		suffix := strconv.Itoa(i)
		ts.Setenv("NS"+suffix, ns)
		ts.Setenv("AGENT"+suffix, filepath.Join(dir, "agent.hcl"))
		ts.Setenv("SOCK"+suffix, filepath.Join(dir, "agent.sock"))
		ts.Setenv("SUPCONF"+suffix, filepath.Join(dir, "supervisord.conf"))
	}
}
