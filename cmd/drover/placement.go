package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"text/tabwriter"

	"github.com/drover-sh/drover/netplan"
)

func init() {
	var node string
	var asJSON bool
	register(&command{
		name:    "placement",
		args:    "[DIR] [--node NAME] [--json]",
		summary: "Show where every daemon runs: node, port and address.",
		help: `The placement is computed from the repository alone, exactly as every agent
computes it. --json prints an array of objects with the fields key
("tenant/webroot/daemon"), tenant, webroot, daemon, program, node,
node_reason (rendezvous, pinned, pin-drained), port (null when the daemon has
no proxy_path), port_reason (preferred, pinned, collision), host (the
tenant's address on the daemon's node), proxy_path and enabled.`,
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&node, "node", "", "show only the daemons placed on node `NAME`")
			fs.BoolVar(&asJSON, "json", false, "print JSON instead of a table")
		},
		run: func(env *cmdEnv, fs *flag.FlagSet, args []string) int {
			return runPlacement(env, fs, args, node, asJSON)
		},
	})
}

// placementJSON is one element of `drover placement --json`; the field names
// are a stable interface.
type placementJSON struct {
	Key        string  `json:"key"`
	Tenant     string  `json:"tenant"`
	Webroot    string  `json:"webroot"`
	Daemon     string  `json:"daemon"`
	Program    string  `json:"program"`
	Node       string  `json:"node"`
	NodeReason string  `json:"node_reason"`
	Port       *int    `json:"port"`
	PortReason *string `json:"port_reason"`
	Host       string  `json:"host"`
	ProxyPath  *string `json:"proxy_path"`
	Enabled    bool    `json:"enabled"`
}

func runPlacement(env *cmdEnv, fs *flag.FlagSet, args []string, node string, asJSON bool) int {
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
	var rows []*netplan.Daemon
	for _, d := range c.Daemons {
		if node == "" || d.Node.Name == node {
			rows = append(rows, d)
		}
	}
	if asJSON {
		out := make([]placementJSON, 0, len(rows))
		for _, d := range rows {
			p := placementJSON{
				Key: d.Key, Tenant: d.Tenant, Webroot: d.Webroot, Daemon: d.Name, Program: d.Program,
				Node: d.Node.Name, NodeReason: string(d.NodeReason), Host: d.Host.String(), Enabled: d.Enabled,
			}
			if d.ProxyPath != "" {
				port, reason, path := d.Port, string(d.PortReason), d.ProxyPath
				p.Port, p.PortReason, p.ProxyPath = &port, &reason, &path
			}
			out = append(out, p)
		}
		enc := json.NewEncoder(env.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(out); err != nil {
			fmt.Fprintf(env.stderr, "drover placement: %v\n", err)
			return exitFailure
		}
		return exitOK
	}
	tw := tabwriter.NewWriter(env.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DAEMON\tNODE\tPORT\tHOST\tPATH\tNOTE")
	for _, d := range rows {
		port, path := "-", "-"
		if d.ProxyPath != "" {
			port, path = fmt.Sprint(d.Port), d.ProxyPath
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", d.Key, d.Node.Name, port, d.Host, path, note(d))
	}
	if err := tw.Flush(); err != nil {
		return exitFailure
	}
	return exitOK
}

// note explains anything unusual about a placement.
func note(d *netplan.Daemon) string {
	var s string
	add := func(x string) {
		if s != "" {
			s += ", "
		}
		s += x
	}
	switch d.NodeReason {
	case netplan.NodePinned:
		add("node pinned")
	case netplan.NodePinDrained:
		add("pinned node drained")
	case netplan.NodeFailover:
		add("failover from " + d.From.Name)
	}
	switch d.PortReason {
	case netplan.PortPinned:
		add("port pinned")
	case netplan.PortCollision:
		add(fmt.Sprintf("port collision (prefers %d)", netplan.PreferredPort(d.Key)))
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
