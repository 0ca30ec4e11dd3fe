package agent

import (
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/netplan"
)

// PlacementRow is a placed daemon as `drover placement` and GET
// /v1/placement show it.
func PlacementRow(d *netplan.Daemon) localapi.Placement {
	p := localapi.Placement{
		Key: d.Key, Tenant: d.Tenant, Webroot: d.Webroot, Daemon: d.Name, Program: d.Program,
		Node: d.Node.Name, NodeReason: string(d.NodeReason), Host: d.Host.String(), Enabled: d.Enabled, Singleton: d.Singleton,
	}
	if d.From != nil {
		p.FailoverFrom = d.From.Name
	}
	if d.ProxyPath != "" {
		port, reason, path := d.Port, string(d.PortReason), d.ProxyPath
		p.Port, p.PortReason, p.ProxyPath = &port, &reason, &path
	}
	return p
}

// Placement answers GET /v1/placement from the reconciler's live placement.
func (n apiNode) Placement(node string) ([]localapi.Placement, error) {
	ds := n.a.rec.Placement(node)
	rows := make([]localapi.Placement, len(ds))
	for i, d := range ds {
		rows[i] = PlacementRow(d)
	}
	return rows, nil
}

var _ localapi.Placer = apiNode{}
