package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

func init() {
	var asJSON bool
	var socket func() (string, error)
	register(&command{
		name:    "status",
		args:    "[--json] [--config FILE | --socket PATH]",
		summary: "Show the node's applied revision and the status of its daemons.",
		help: `Asks the running agent over its root-only API socket. Statuses: provisioning,
running, stopped (disabled), failed (with the reason; retried with backoff).
--json prints {"node": …, "daemons": […]} with the fields of GET /v1/status and
GET /v1/daemons.`,
		flags: func(fs *flag.FlagSet) {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			socket = socketFlags(fs)
		},
		run: func(env *cmdEnv, fs *flag.FlagSet, args []string) int {
			if len(args) > 0 {
				return usageError(env, fs, "takes no arguments")
			}
			path, err := socket()
			if err != nil {
				fmt.Fprintf(env.stderr, "drover status: %v\n", err)
				return exitFailure
			}
			return runStatus(env, localapi.NewClient(path), asJSON)
		},
	})
}

func runStatus(env *cmdEnv, c *localapi.Client, asJSON bool) int {
	ctx := context.Background()
	st, err := c.Status(ctx)
	if err != nil {
		fmt.Fprintf(env.stderr, "drover status: %v\n", err)
		return exitFailure
	}
	daemons, err := c.Daemons(ctx)
	if err != nil {
		fmt.Fprintf(env.stderr, "drover status: %v\n", err)
		return exitFailure
	}
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(struct {
			localapi.Status
			DaemonList []localapi.Daemon `json:"daemon_list"`
		}{st, daemons})
		return exitOK
	}
	fmt.Fprintf(env.stdout, "node:      %s\n", st.Node)
	fmt.Fprintf(env.stdout, "revision:  %s (applied %s)\n", orDash(st.Revision), when(st.AppliedAt))
	if st.Head != "" && st.Head != st.Revision {
		fmt.Fprintf(env.stdout, "head:      %s\n", st.Head)
	}
	fmt.Fprintf(env.stdout, "last pass: %s at %s\n", orDash(string(st.LastResult)), when(st.LastReconcile))
	if st.SourceError != "" {
		fmt.Fprintf(env.stdout, "source:    UNREACHABLE: %s\n", st.SourceError)
	}
	if st.NetworkError != "" {
		fmt.Fprintf(env.stdout, "network:   FAILED: %s\n", st.NetworkError)
	} else if n := st.Network; n != nil {
		fmt.Fprintf(env.stdout, "network:   %d tenant addresses on %s, transit %s on %s, %d routes, table ip6 %s (%d drift repairs)\n",
			n.Addresses, n.TenantInterface, n.Transit, n.TransitInterface, n.Routes, n.NftTable, n.DriftRepairs)
	}
	if r := st.Restarts; r != nil {
		fmt.Fprintf(env.stdout, "restarts:  %d queued, %d in flight (%d done since the agent started)\n", r.Queued, r.InFlight, r.Done)
	}
	if st.Rejected != nil {
		fmt.Fprintf(env.stdout, "REJECTED:  revision %s is invalid and was not applied:\n%s\n", st.Rejected.Revision, indent(st.Rejected.Diagnostics))
	}
	if st.LastError != "" && st.Rejected == nil {
		fmt.Fprintf(env.stdout, "error:     %s\n", st.LastError)
	}
	fmt.Fprintln(env.stdout)
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DAEMON\tSTATUS\tPIDS\tPORT\tSINCE\tREASON")
	for _, d := range daemons {
		port := "-"
		if d.ProxyPort != nil {
			port = fmt.Sprint(*d.ProxyPort)
		}
		pids := make([]string, len(d.PIDs))
		for i, p := range d.PIDs {
			pids[i] = fmt.Sprint(p)
		}
		reason := d.Reason
		if d.NextRetry != nil {
			reason += fmt.Sprintf(" (retry %s)", when(*d.NextRetry))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Key, d.Status, orDash(strings.Join(pids, ",")), port, when(d.UpdatedAt), orDash(firstLineOf(reason)))
	}
	_ = tw.Flush()
	return exitOK
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func when(t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	return t.Local().Format("2006-01-02 15:04:05")
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n  ")
}

func firstLineOf(s string) string {
	first, _, _ := strings.Cut(s, "\n")
	return first
}
