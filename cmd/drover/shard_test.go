package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/rogpeppe/go-internal/testscript"
)

// cmdShardWorld builds a shard of N nodes: shard-world N.
// A "switch" namespace holds a bridge; each node n1..nN is a namespace with
// a veth (eth1, the transit interface) into that bridge, an empty bridge
// tenant0 (the tenant interface: the kernel here has no dummy links), and
// its own supervisord and nginx (127.0.0.1:8080), configured under
// $WORK/nI with $WORK/nI/agent.hcl (node "nI", the network block set). The
// config repository is $WORK/repo (committed as "initial"). It sets $NSi
// (the namespace name) and $AGENTi, $SOCKi, $SUPCONFi for each node, and
// $SWITCH (the switch's namespace: ip -n $SWITCH link set p3 down cuts n3
// off, as a pulled cable would, keeping its addresses); agents
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
	newNetns(ts, sw)
	ts.Setenv("SWITCH", sw)
	run("ip", "-n", sw, "link", "add", "br0", "type", "bridge")
	run("ip", "-n", sw, "link", "set", "br0", "up")

	repo := filepath.Join(work, "repo")
	gitRun(ts, repo, "init", "-q", "-b", "main")
	gitRun(ts, repo, "add", "-A")
	gitRun(ts, repo, "commit", "-q", "-m", "initial")
	for i := 1; i <= n; i++ {
		node := fmt.Sprintf("n%d", i)
		ns := fmt.Sprintf("drover-n%d-%s", i, id)
		newNetns(ts, ns)
		// veth: eth1 in the node, p<i> on the switch's bridge.
		peer := fmt.Sprintf("p%d", i)
		run("ip", "-n", ns, "link", "add", "eth1", "type", "veth", "peer", "name", peer, "netns", sw)
		run("ip", "-n", sw, "link", "set", peer, "master", "br0", "up")
		run("ip", "-n", ns, "link", "set", "eth1", "up")
		run("ip", "-n", ns, "link", "add", "tenant0", "type", "bridge")
		run("ip", "-n", ns, "link", "set", "tenant0", "up")

		dir := filepath.Join(work, node)
		nodeFiles(ts, dir, node, repo, true, fmt.Sprintf("    include %s/etc/nginx/servers/*.conf;", dir))
		startNode(ts, dir, ns)
		suffix := strconv.Itoa(i)
		ts.Setenv("NS"+suffix, ns)
		ts.Setenv("AGENT"+suffix, filepath.Join(dir, "agent.hcl"))
		ts.Setenv("SOCK"+suffix, filepath.Join(dir, "agent.sock"))
		ts.Setenv("SUPCONF"+suffix, filepath.Join(dir, "supervisord.conf"))
	}
}
