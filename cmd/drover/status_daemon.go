package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/edit"
)

// statusDaemonHelp is the part of drover status's help about one daemon.
const statusDaemonHelp = `With TENANT/WEBROOT/DAEMON, shows that daemon in full: its status and since
when, the reason, the restart policy, restarts, failed runs in a row, how
its process last ended, its health check (what the probes say, the
check, the last probe, the health restarts' backoff), when an operator
last restarted it (drover restart), the next retry or start, PIDs, port,
address,
node, revision and the end of its stderr, indented below. --json then
prints GET /v1/daemons/TENANT/WEBROOT/DAEMON: one object with the fields
of a daemon_list entry below. A daemon not on this node is an error
(exit 1).`

// runStatusDaemon is drover status TENANT/WEBROOT/DAEMON.
func runStatusDaemon(env *cmdEnv, fs *pflag.FlagSet, c *localapi.Client, key string, asJSON bool) int {
	if _, err := edit.ParseKey(key); err != nil {
		return usageError(env, fs, "%v", err)
	}
	d, err := c.Daemon(context.Background(), key)
	if err != nil {
		fmt.Fprintf(env.stderr, "drover status: %v\n", err)
		if localapi.IsNotFound(err) {
			fmt.Fprintf(env.stderr, "drover status lists the daemons of this node; drover placement says where each runs.\n")
		}
		return exitFailure
	}
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(d)
		return exitOK
	}
	printDaemon(env.stdout, d)
	return exitOK
}

// printDaemon writes one daemon as "key: value" lines, its stderr tail
// indented below.
func printDaemon(w io.Writer, d localapi.Daemon) {
	since := d.Since
	if since.IsZero() {
		since = d.UpdatedAt
	}
	lines := [][2]string{
		{"daemon", d.Key},
		{"status", fmt.Sprintf("%s since %s", d.Status, when(since))},
		{"reason", orDash(safeText(d.Reason))},
		{"restart", orDash(d.Restart)},
		{"restarts", fmt.Sprint(d.Restarts)},
		{"failed runs", fmt.Sprintf("%d in a row", d.FailedRuns)},
		{"last exit", lastExit(d.LastExit)},
	}
	lines = append(lines, healthLines(d)...)
	if d.RestartedByOperator != nil {
		lines = append(lines, [2]string{"restarted", "by an operator " + when(*d.RestartedByOperator)})
	}
	if d.NextRetry != nil {
		lines = append(lines, [2]string{"next retry", when(*d.NextRetry)})
	}
	lines = append(lines,
		[2]string{"pids", orDash(joinInts(d.PIDs))},
		[2]string{"port", port(d)},
		[2]string{"address", orDash(d.Host)},
		[2]string{"node", orDash(d.Node)},
		[2]string{"revision", orDash(d.Revision)},
		[2]string{"command", orDash(d.Command)},
		[2]string{"updated", when(d.UpdatedAt)},
	)
	for _, l := range lines {
		fmt.Fprintf(w, "%-12s %s\n", l[0]+":", l[1])
	}
	if d.Stderr == "" {
		fmt.Fprintf(w, "%-12s -\n", "stderr:")
		return
	}
	fmt.Fprintf(w, "stderr:\n%s\n", indent(d.Stderr))
}

// lastExit says how a daemon's process last ended, and when.
func lastExit(x *localapi.Exit) string {
	if x == nil {
		return "-"
	}
	return fmt.Sprintf("%s (started %s, ended %s)", x.Text, when(x.Started), when(x.At))
}

// port is a daemon's proxy port with its path, or "-".
func port(d localapi.Daemon) string {
	if d.ProxyPort == nil {
		return "-"
	}
	if d.ProxyPath != nil {
		return fmt.Sprintf("%d (nginx proxies %s)", *d.ProxyPort, *d.ProxyPath)
	}
	return fmt.Sprint(*d.ProxyPort)
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, ",")
}
