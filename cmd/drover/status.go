package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/internal/english"
)

func init() {
	var asJSON bool
	var socket func() (string, error)
	register(&command{
		name:    "status",
		args:    "[TENANT/WEBROOT/DAEMON] [--json] [--config FILE | --socket PATH]",
		summary: "Show the node's applied revision and the status of its daemons, or one daemon in full.",
		help:    statusDaemonHelp + "\n\n" + statusHealthHelp + "\n\n" + statusHelp,
		flags: func(fs *pflag.FlagSet) {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
			socket = socketFlags(fs)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if len(args) > 1 {
				return usageError(env, fs, "expected at most one TENANT/WEBROOT/DAEMON argument")
			}
			path, err := socket()
			if err != nil {
				fmt.Fprintf(env.stderr, "drover status: %v\n", err)
				return exitFailure
			}
			if len(args) == 1 {
				return runStatusDaemon(env, fs, localapi.NewClient(path), args[0], asJSON)
			}
			return runStatus(env, localapi.NewClient(path), asJSON)
		},
		complete: liveKeys,
	})
}

// statusHelp is the help of drover status. It names every field --json
// prints, one top-level field a line (TestStatusHelpNamesEveryField keeps
// it in step with statusJSON).
const statusHelp = `Asks the running agent over its root-only API socket. Statuses: provisioning
(applied, starting, or waiting to be started again after an exit), running,
stopped (disabled, or left after a clean exit with restart = "on-failure"),
crash-looping (3 or more failed runs in a row; started again with backoff),
failed (could not be applied; retried with backoff). RESTARTS counts the
starts after a process ended.

--json prints one object: GET /v1/status with the daemons of GET /v1/daemons
added as daemon_list. A field noted "absent" is left out of the object
then; times are RFC 3339, "0001-01-01T00:00:00Z" for never.
  node            the node's name
  head            the branch head the agent last saw
  revision        the revision applied
  applied_at      when it was applied
  last_result     how the last pass ended: unchanged, applied, rejected,
                  failed, source-unreachable or uninstalled
  last_error      the last pass's error (absent when none)
  last_reconcile  when the last pass ended
  source_error    why the source is unreachable (absent when none)
  network_error   why the network could not be applied (absent when none)
  network         with a network block: tenant_interface, transit_interface,
                  transit, addresses (a count), routes (a count), nft_table,
                  drift_repairs (absent without a network block)
  rejected        the head revision rejected (invalid, or refused by the
                  trust policy): revision,
                  diagnostics (absent when none)
  restarts        the rollout's progress: queued, in_flight, done (absent
                  when it has no work)
  daemons         how many daemons are in each status, an object such as
                  {"running": 12, "failed": 1} (counts, not the daemons)
  history         the last 10 passes that changed something or failed,
                  newest first: revision, at, result, summary, repeats (the
                  passes right after it that ended the same way: counted,
                  not listed), last (when the last of them did; null)
  conditions      the node's problems that break every daemon of a kind,
                  printed first without --json: name (supervisord,
                  network, nginx or nginx_user), problem, fix; [] when
                  there is none
  suspension      while drover suspend or drover rollback holds the node
                  (absent otherwise): revision (the one it stays at; the
                  head is not applied), since, reason (absent when none
                  was given), rolled_back_from (the revision drover
                  rollback left; absent after drover suspend)
  pool            with a pool block, once the pool started: quorum (true
                  while this node sees a majority of its shard and may run
                  singletons), members (every configured node of the
                  shard: name, state alive, suspect, dead or unknown,
                  since, out: its daemons run elsewhere now)
  daemon_list     every daemon on the node, sorted by key: id, tenant_id,
                  webroot_id, key, name, command, proxy_path and proxy_port
                  (null without a proxy path), num_procs, stop_signal,
                  stop_wait_secs, restart, max_memory_mb and max_open_files
                  (null without a limit), environment (values redacted),
                  env_file and restart_on_change (null without one),
                  health (null without a health block: path, interval,
                  timeout, failures, start_period as written, then
                  status healthy, unhealthy or "not checked", reason
                  while unhealthy, since, last_probe, failures_in_a_row,
                  restarts: health restarts in a row, next_restart: the
                  earliest next one while the backoff holds it),
                  enabled, singleton, status, reason (absent when none),
                  since, created_at,
                  updated_at, node, failover_from (the
                  node it is configured on, when it runs here because
                  that node is out of the pool), host, pids, revision,
                  next_retry (absent unless a retry or start is due),
                  restarts, restarted_by_operator (when drover restart
                  last restarted it; absent when never),
                  failed_runs (in a row), last_exit (null until
                  a process ended: started, at, status, -1 for a signal,
                  text), stderr (the end of its stderr then, cleaned;
                  absent when none), settling (true while its processes
                  are starting or started again, or a restart is queued)`

// statusJSON is what drover status --json prints.
type statusJSON struct {
	localapi.Status
	DaemonList []localapi.Daemon `json:"daemon_list"`
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
		_ = enc.Encode(statusJSON{st, daemons})
		return exitOK
	}
	printConditions(env, st.Conditions)
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
		fmt.Fprintf(env.stdout, "network:   %s on %s, transit %s on %s, %s, table ip6 %s (%s)\n",
			english.Count(n.Addresses, "tenant address"), n.TenantInterface, n.Transit, n.TransitInterface,
			english.Count(n.Routes, "route"), n.NftTable, english.Count(n.DriftRepairs, "drift repair"))
	}
	if su := st.Suspension; su != nil {
		fmt.Fprintf(env.stdout, "%s\n", suspensionText(su, orDash(st.Head)))
	}
	if p := st.Pool; p != nil {
		fmt.Fprintf(env.stdout, "pool:      %s\n", poolLine(p))
	}
	if r := st.Restarts; r != nil {
		fmt.Fprintf(env.stdout, "restarts:  %d queued, %d in flight (%d done since the agent started)\n", r.Queued, r.InFlight, r.Done)
	}
	if st.Rejected != nil {
		fmt.Fprintf(env.stdout, "REJECTED:  revision %s was not applied:\n%s\n", st.Rejected.Revision, indent(st.Rejected.Diagnostics))
	}
	if st.LastError != "" && st.Rejected == nil {
		fmt.Fprintf(env.stdout, "error:     %s\n", st.LastError)
	}
	fmt.Fprintln(env.stdout)
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DAEMON\tSTATUS\tHEALTH\tPIDS\tRESTARTS\tPORT\tSINCE\tREASON")
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
		if d.FailoverFrom != "" {
			reason = "failover from " + d.FailoverFrom + "; " + reason
		}
		if d.NextRetry != nil && d.LastExit == nil {
			reason += fmt.Sprintf(" (retry %s)", when(*d.NextRetry))
		}
		if hr := healthReason(d); hr != "" {
			reason = strings.TrimPrefix(reason+"; "+hr, "; ")
		}
		since := d.Since
		if since.IsZero() {
			since = d.UpdatedAt
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", d.Key, d.Status, healthColumn(d), orDash(strings.Join(pids, ",")), d.Restarts, port, when(since), orDash(safeText(firstLineOf(reason))))
	}
	_ = tw.Flush()
	return exitOK
}

// poolLine sums up the pool: the quorum, and every member with its state,
// since when, and whether its daemons run elsewhere.
func poolLine(p *localapi.Pool) string {
	var b strings.Builder
	if p.Quorum {
		b.WriteString("quorum")
	} else {
		b.WriteString("NO QUORUM (singletons stopped)")
	}
	for i, m := range p.Members {
		sep := "; "
		if i == 0 {
			sep = ": "
		}
		b.WriteString(sep)
		fmt.Fprintf(&b, "%s %s since %s", m.Name, m.State, when(m.Since))
		if m.Out {
			b.WriteString(" (its daemons run elsewhere)")
		}
	}
	return b.String()
}

// printConditions prints the node's conditions first, each a PROBLEM
// line and its fix, and a blank line after them; nothing when there is
// none.
func printConditions(env *cmdEnv, conds []localapi.Condition) {
	for _, c := range conds {
		fmt.Fprintf(env.stdout, "PROBLEM %s: %s\n  fix: %s\n", c.Name, c.Problem, c.Fix)
	}
	if len(conds) > 0 {
		fmt.Fprintln(env.stdout)
	}
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
