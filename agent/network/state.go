package network

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/netplan"
)

// State is the desired network of one node. It is JSON-serialisable; Desired
// returns it sorted (addresses by tenant name, routes by destination), so
// equal states marshal to equal bytes.
type State struct {
	TenantInterface  string `json:"tenant_interface"`
	TransitInterface string `json:"transit_interface"`
	NftTable         string `json:"nft_table"`
	// Cluster is the cluster's ULA /32. Routes with drover's protocol to
	// /48s inside it via the transit interface are drover's.
	Cluster netip.Prefix `json:"cluster"`
	// Node is this node's /48, {prefix}:{i}::/48. Addresses inside it on the
	// tenant interface are drover's; nothing else there is touched.
	Node netip.Prefix `json:"node"`
	// Transit is the node's address on the transit interface,
	// {prefix}:0::{i}/64.
	Transit netip.Prefix `json:"transit"`
	// Addresses are the tenants' /128s (nodad) on the tenant interface.
	Addresses []Tenant `json:"addresses"`
	// Routes lead to the other nodes' /48s via their transit addresses.
	Routes []Route `json:"routes"`
}

// Tenant is a tenant's address on this node.
type Tenant struct {
	Name string     `json:"name"`
	UID  uint32     `json:"uid"`
	Addr netip.Addr `json:"addr"`
}

// Route is a route to another node's /48 over the transit interface.
type Route struct {
	Dst netip.Prefix `json:"dst"`
	Via netip.Addr   `json:"via"`
}

// Desired builds the desired network of the node of p, with the interfaces
// and table named by c.
func Desired(p *netplan.NodePlan, c config.Network) State {
	s := State{
		TenantInterface:  c.TenantInterface,
		TransitInterface: c.TransitInterface,
		NftTable:         c.NftTable,
		Cluster:          p.Prefix,
		Node:             netplan.NodePrefix(p.Prefix, p.Node.Index),
		Transit:          p.Transit,
		Addresses:        make([]Tenant, 0, len(p.Addresses)),
		Routes:           make([]Route, 0, len(p.Routes)),
	}
	for _, a := range p.Addresses {
		s.Addresses = append(s.Addresses, Tenant{Name: a.Tenant, UID: a.UID, Addr: a.Addr})
	}
	for _, r := range p.Routes {
		s.Routes = append(s.Routes, Route{Dst: r.Dst, Via: r.Via})
	}
	return s.Sorted()
}

// Sorted returns a copy of s with addresses sorted by tenant name (then
// address) and routes by destination: the stable form stored and compared.
func (s State) Sorted() State {
	s.Addresses = slices.Clone(s.Addresses)
	s.Routes = slices.Clone(s.Routes)
	if s.Addresses == nil {
		s.Addresses = []Tenant{}
	}
	if s.Routes == nil {
		s.Routes = []Route{}
	}
	slices.SortFunc(s.Addresses, func(a, b Tenant) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), a.Addr.Compare(b.Addr))
	})
	slices.SortFunc(s.Routes, func(a, b Route) int {
		return cmp.Or(a.Dst.Addr().Compare(b.Dst.Addr()), cmp.Compare(a.Dst.Bits(), b.Dst.Bits()))
	})
	return s
}

// Managed says what drover owns on a node, for Remove (the explicit
// uninstall): the addresses inside Node on the tenant interface, the Transit
// address, and drover-protocol routes to /48s inside Cluster via the transit
// interface.
type Managed struct {
	TenantInterface  string       `json:"tenant_interface"`
	TransitInterface string       `json:"transit_interface"`
	Cluster          netip.Prefix `json:"cluster"`
	Node             netip.Prefix `json:"node"`
	Transit          netip.Prefix `json:"transit"`
}

// Managed returns what drover owns on a node carrying s.
func (s State) Managed() Managed {
	return Managed{
		TenantInterface:  s.TenantInterface,
		TransitInterface: s.TransitInterface,
		Cluster:          s.Cluster,
		Node:             s.Node,
		Transit:          s.Transit,
	}
}

// Validate checks that s is consistent, so that a damaged stored state can
// never make drover touch anything outside what it manages.
func (s State) Validate() error {
	if err := s.Managed().validate(); err != nil {
		return err
	}
	var errs []error
	if s.NftTable == "" {
		errs = append(errs, errors.New("no nft table name"))
	}
	seen := map[netip.Addr]string{}
	for _, a := range s.Addresses {
		switch {
		case !a.Addr.Is6() || a.Addr.Is4In6() || !s.Node.Contains(a.Addr):
			errs = append(errs, fmt.Errorf("address %s of tenant %s is not inside the node prefix %s", a.Addr, a.Name, s.Node))
		case a.UID < 1000 || a.UID > 1<<32-2:
			errs = append(errs, fmt.Errorf("tenant %s has uid %d, want 1000..4294967294", a.Name, a.UID))
		case seen[a.Addr] != "":
			errs = append(errs, fmt.Errorf("address %s is given to tenants %s and %s", a.Addr, seen[a.Addr], a.Name))
		}
		seen[a.Addr] = a.Name
	}
	dsts := map[netip.Prefix]bool{}
	for _, r := range s.Routes {
		if !isNodePrefix(s.Cluster, r.Dst) || r.Dst == s.Node {
			errs = append(errs, fmt.Errorf("route destination %s is not another node's /48 inside %s", r.Dst, s.Cluster))
		}
		if !s.Transit.Contains(r.Via) || r.Via == s.Transit.Addr() {
			errs = append(errs, fmt.Errorf("route to %s goes via %s, which is not another address of the transit network %s", r.Dst, r.Via, s.Transit.Masked()))
		}
		if dsts[r.Dst] {
			errs = append(errs, fmt.Errorf("two routes to %s", r.Dst))
		}
		dsts[r.Dst] = true
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid network state: %w", err)
	}
	return nil
}

func (m Managed) validate() error {
	var errs []error
	if m.TenantInterface == "" {
		errs = append(errs, errors.New("no tenant interface (network.tenant_interface)"))
	}
	if m.TransitInterface == "" {
		errs = append(errs, errors.New("no transit interface (network.transit_interface)"))
	}
	if !m.Cluster.IsValid() || m.Cluster.Bits() != 32 || !m.Cluster.Addr().Is6() || m.Cluster.Masked() != m.Cluster {
		errs = append(errs, fmt.Errorf("cluster prefix %s is not an IPv6 /32", m.Cluster))
	}
	if !isNodePrefix(m.Cluster, m.Node) {
		errs = append(errs, fmt.Errorf("node prefix %s is not a /48 inside %s", m.Node, m.Cluster))
	}
	if !m.Transit.IsValid() || m.Transit.Bits() != 64 || !m.Cluster.Contains(m.Transit.Addr()) || m.Transit.Addr() == m.Transit.Masked().Addr() {
		errs = append(errs, fmt.Errorf("transit address %s is not a host address on a /64 inside %s", m.Transit, m.Cluster))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("invalid network state: %w", err)
	}
	return nil
}

// isNodePrefix reports whether p is a /48 inside the cluster /32 other than
// the transit /48 ({prefix}:0::/48).
func isNodePrefix(cluster, p netip.Prefix) bool {
	return cluster.IsValid() && p.IsValid() && p.Bits() == 48 && p.Masked() == p &&
		cluster.Contains(p.Addr()) && p.Addr() != cluster.Masked().Addr()
}
