package netplan

import (
	"fmt"
	"net/netip"
	"sort"

	"github.com/drover-sh/drover/spec"
)

// NodePlan is everything one node must carry: the input of render.
type NodePlan struct {
	Cluster string
	Prefix  netip.Prefix
	Node    *spec.Node
	Shard   *spec.Shard
	// Transit is the node's address on the transit interface, {prefix}:0::{i}/64.
	Transit netip.Prefix
	// Routes lead to every other node's /48 of the shard, sorted by node index.
	Routes []Route
	// Addresses holds the address of every tenant of the shard on this node,
	// sorted by tenant name.
	Addresses []TenantAddress
	// Programs are the daemons placed on this node, sorted by program name.
	Programs []*Daemon
	// Webroots are the shard's webroots that need nginx configuration (a
	// proxied daemon or server names), sorted by tenant, then webroot.
	// Programs and Webroots are the Cluster's own: read them, never
	// change them (copy the slice to filter it).
	Webroots []*WebrootPlan
}

// Route is a route to another node's tenant addresses over the transit
// network.
type Route struct {
	Node string
	Dst  netip.Prefix
	Via  netip.Addr
}

// TenantAddress is a tenant's /128 on this node.
type TenantAddress struct {
	Tenant string
	UID    uint32
	Addr   netip.Addr
}

// WebrootPlan is one webroot as every node of the shard serves it.
type WebrootPlan struct {
	Tenant  *spec.Tenant
	Webroot *spec.Webroot
	// Locations are the webroot's proxied daemons wherever they run, sorted
	// by proxy path; every node proxies to the daemon's node.
	Locations []*Daemon
}

// Node returns the plan of the node called name.
func (c *Cluster) Node(name string) (*NodePlan, error) {
	var shard *spec.Shard
	var node *spec.Node
	for _, s := range c.Config.Shards {
		if n := s.Node(name); n != nil {
			shard, node = s, n
		}
	}
	if node == nil {
		return nil, fmt.Errorf("node %q is not declared in any shard of cluster %q", name, c.Config.Cluster.Name)
	}
	p := &NodePlan{
		Cluster: c.Config.Cluster.Name,
		Prefix:  c.Prefix,
		Node:    node,
		Shard:   shard,
		Transit: TransitAddr(c.Prefix, node.Index),
	}
	for _, n := range shard.Nodes {
		if n != node {
			p.Routes = append(p.Routes, Route{Node: n.Name, Dst: NodePrefix(c.Prefix, n.Index), Via: TransitAddr(c.Prefix, n.Index).Addr()})
		}
	}
	sort.Slice(p.Routes, func(i, j int) bool { return p.Routes[i].Dst.Addr().Less(p.Routes[j].Dst.Addr()) })
	n := 0
	for _, t := range c.Config.Tenants {
		if t.Shard == shard.Name {
			n++
		}
	}
	if n > 0 {
		p.Addresses = make([]TenantAddress, 0, n) // kept with the plan: no room to spare
	}
	for _, t := range c.Config.Tenants {
		if t.Shard == shard.Name {
			p.Addresses = append(p.Addresses, TenantAddress{Tenant: t.Name, UID: t.UID, Addr: TenantAddr(c.Prefix, node.Index, t.UID)})
		}
	}
	p.Programs, p.Webroots = c.programs[node], c.webroots[shard.Name]
	return p, nil
}
