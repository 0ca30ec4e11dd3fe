package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/netplan"
)

func init() {
	var node string
	var asJSON, live bool
	var socket func() (string, error)
	register(&command{
		name:    "placement",
		args:    "[DIR] [--node NAME] [--json] [--live [--config FILE | --socket PATH]]",
		summary: "Show where every daemon runs: node, port and address.",
		help: `The placement is computed from the repository alone, exactly as every agent
computes it, with every node alive. --live asks the running agent of this
node instead: the placement of the revision it runs, with the failovers of
its shard's pool (a daemon moved off a dead node says "failover from NODE").
--json prints an array of objects with the fields key
("tenant/webroot/daemon"), tenant, webroot, daemon, program, node,
node_reason (rendezvous, pinned, pin-drained, failover), failover_from (only
when moved by a failover), port (null when the daemon has no proxy_path),
port_reason (preferred, pinned, collision), host (the tenant's address on
the daemon's node), proxy_path, enabled and singleton (only when true).`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&node, "node", "", "show only the daemons placed on node `NAME`")
			fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
			fs.BoolVar(&live, "live", false, "ask the running agent for its placement, failovers included")
			socket = socketFlags(fs)
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			if !live {
				return runPlacement(env, fs, args, node, asJSON)
			}
			if len(args) > 0 {
				return usageError(env, fs, "--live takes no DIR: it asks the running agent")
			}
			path, err := socket()
			if err != nil {
				fmt.Fprintf(env.stderr, "drover placement: %v\n", err)
				return exitFailure
			}
			return runLivePlacement(env, localapi.NewClient(path), node, asJSON)
		},
		complete: dirArg,
		repo:     dirRepo,
	})
}

func runPlacement(env *cmdEnv, fs *pflag.FlagSet, args []string, node string, asJSON bool) int {
	dir, code := configDir(env, fs, args)
	if code != exitOK {
		return code
	}
	c := loadPlan(env, dir)
	if c == nil {
		return exitFailure
	}
	if node != "" && c.Config.Node(node) == nil {
		fmt.Fprintf(env.stderr, "drover placement: node %q is not declared in any shard\n", node)
		return exitFailure
	}
	rows := []localapi.Placement{}
	for _, d := range c.Daemons {
		if node == "" || d.Node.Name == node {
			rows = append(rows, agent.PlacementRow(d))
		}
	}
	return printPlacement(env, rows, asJSON)
}

// runLivePlacement is drover placement --live: the running agent's
// placement, with the pool's failovers.
func runLivePlacement(env *cmdEnv, c *localapi.Client, node string, asJSON bool) int {
	rows, err := c.Placement(context.Background(), node)
	if err != nil {
		fmt.Fprintf(env.stderr, "drover placement: %v\n", err)
		return exitFailure
	}
	return printPlacement(env, rows, asJSON)
}

// printPlacement prints rows as a table or as JSON.
func printPlacement(env *cmdEnv, rows []localapi.Placement, asJSON bool) int {
	if asJSON {
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			fmt.Fprintf(env.stderr, "drover placement: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DAEMON\tNODE\tPORT\tHOST\tPATH\tNOTE")
	for _, d := range rows {
		port, path := "-", "-"
		if d.Port != nil {
			port, path = fmt.Sprint(*d.Port), *d.ProxyPath
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Key, d.Node, port, d.Host, path, note(d))
	}
	if err := tw.Flush(); err != nil {
		return exitFailure
	}
	return exitOK
}

// note explains anything unusual about a placement.
func note(d localapi.Placement) string {
	var s string
	add := func(x string) {
		if s != "" {
			s += ", "
		}
		s += x
	}
	switch netplan.NodeReason(d.NodeReason) {
	case netplan.NodePinned:
		add("node pinned")
	case netplan.NodePinDrained:
		add("pinned node drained")
	case netplan.NodeFailover:
		add("failover from " + d.FailoverFrom)
	}
	if d.PortReason != nil {
		switch netplan.PortReason(*d.PortReason) {
		case netplan.PortPinned:
			add("port pinned")
		case netplan.PortCollision:
			add(fmt.Sprintf("port collision (prefers %d)", netplan.PreferredPort(d.Key)))
		}
	}
	if !d.Enabled {
		add("disabled")
	}
	if d.Singleton {
		add("singleton")
	}
	if s == "" {
		return "-"
	}
	return s
}
