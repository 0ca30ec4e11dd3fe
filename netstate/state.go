// Package netstate is the network state of one node as a plain value:
// which addresses, routes and nftables elements it carries (design.md
// §4.5). render produces it from a node plan and writes the addresses,
// routes and nftables files from it; the agent stores it (Encode, Decode)
// and agent/network applies it. It is pure: nothing here touches the
// machine.
package netstate

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
)

// State is the desired network of one node. It is kept sorted (addresses by
// tenant name, routes by destination, see Sorted), so equal states encode
// to equal bytes.
type State struct {
	TenantInterface  string `json:"tenant_interface"`
	TransitInterface string `json:"transit_interface"`
	NftTable         string `json:"nft_table"`
	// NodeName names the node carrying the state, for reading.
	NodeName string `json:"node_name"`
	// Cluster is the cluster's ULA /32. Routes with drover's protocol to
	// /48s inside it via the transit interface are drover's.
	Cluster netip.Prefix `json:"cluster"`
	// Node is this node's /48, {prefix}:{i}::/48. Addresses inside it on the
	// tenant interface are drover's; nothing else there is touched.
	Node netip.Prefix `json:"node"`
	// Transit is the node's address on the transit interface,
	// {prefix}:0::{i}/64.
	Transit netip.Prefix `json:"transit"`
	// TransitNoDAD adds the transit address without duplicate address
	// detection: node indexes are unique in the cluster, so the address is
	// too, and DAD would keep it (and the routes via it) unusable for a
	// second or two after every boot.
	TransitNoDAD bool `json:"transit_nodad"`
	// TenantNoDAD adds the tenant addresses without duplicate address
	// detection (uids are unique, so the addresses are too).
	TenantNoDAD bool `json:"tenant_nodad"`
	// Addresses are the tenants' /128s on the tenant interface.
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
	// Node names the node behind the route, for reading; an observed route
	// has none.
	Node string `json:"node,omitempty"`
}

// Same reports whether r and o are the same route on the machine: same
// destination, same gateway (the node's name is not on the machine).
func (r Route) Same(o Route) bool { return r.Dst == o.Dst && r.Via == o.Via }

// Equal reports whether s and t are the same state.
func (s State) Equal(t State) bool {
	return s.TenantInterface == t.TenantInterface && s.TransitInterface == t.TransitInterface &&
		s.NftTable == t.NftTable && s.NodeName == t.NodeName && s.Cluster == t.Cluster &&
		s.Node == t.Node && s.Transit == t.Transit && s.TransitNoDAD == t.TransitNoDAD &&
		s.TenantNoDAD == t.TenantNoDAD && slices.Equal(s.Addresses, t.Addresses) && slices.Equal(s.Routes, t.Routes)
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
	if err := s.Managed().Validate(); err != nil {
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
		if !IsNodePrefix(s.Cluster, r.Dst) || r.Dst == s.Node {
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

// Validate checks that m names what drover may touch and nothing more.
func (m Managed) Validate() error {
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
	if !IsNodePrefix(m.Cluster, m.Node) {
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

// IsNodePrefix reports whether p is a /48 inside the cluster /32 other than
// the transit /48 ({prefix}:0::/48): a node's prefix.
func IsNodePrefix(cluster, p netip.Prefix) bool {
	return cluster.IsValid() && p.IsValid() && p.Bits() == 48 && p.Masked() == p &&
		cluster.Contains(p.Addr()) && p.Addr() != cluster.Masked().Addr()
}
