package render

import (
	"bytes"
	"fmt"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/netstate"
)

// NetworkState is the network the node of p carries (design.md §4.5), with
// the interfaces and table named by o: the value the agent applies and the
// network files are written from.
func NetworkState(p *netplan.NodePlan, o Options) netstate.State {
	s := netstate.State{
		TenantInterface:  o.TenantInterface,
		TransitInterface: o.TransitInterface,
		NftTable:         o.NftTable,
		NodeName:         p.Node.Name,
		Cluster:          p.Prefix,
		Node:             netplan.NodePrefix(p.Prefix, p.Node.Index),
		Transit:          p.Transit,
		TransitNoDAD:     true,
		TenantNoDAD:      true,
		Addresses:        make([]netstate.Tenant, 0, len(p.Addresses)),
		Routes:           make([]netstate.Route, 0, len(p.Routes)),
	}
	for _, a := range p.Addresses {
		s.Addresses = append(s.Addresses, netstate.Tenant{Name: a.Tenant, UID: a.UID, Addr: a.Addr})
	}
	for _, r := range p.Routes {
		s.Routes = append(s.Routes, netstate.Route{Dst: r.Dst, Via: r.Via, Node: r.Node})
	}
	return s.Sorted()
}

// Network renders the node's addresses, routes and nftables ruleset.
func Network(p *netplan.NodePlan, o Options) []File {
	return NetworkFiles(NetworkState(p, o))
}

// NetworkFiles writes a network state as the files `drover render` and
// `drover plan` show. The agent applies the state itself through netlink
// and nftables rather than installing these files.
func NetworkFiles(s netstate.State) []File {
	return []File{
		{Root: RootNetwork, Path: "addresses", Mode: 0o644, Data: addresses(s)},
		{Root: RootNetwork, Path: "routes", Mode: 0o644, Data: routes(s)},
		{Root: RootNetwork, Path: s.NftTable + ".nft", Mode: 0o644, Data: Nftables(s)},
	}
}

func addresses(s netstate.State) []byte {
	var b bytes.Buffer
	b.WriteString(Header)
	fmt.Fprintf(&b, "%s dev %s%s # transit of node %s\n", s.Transit, s.TransitInterface, nodad(s.TransitNoDAD), s.NodeName)
	for _, a := range s.Addresses {
		fmt.Fprintf(&b, "%s/128 dev %s%s # tenant %s uid %d\n", a.Addr, s.TenantInterface, nodad(s.TenantNoDAD), a.Name, a.UID)
	}
	return b.Bytes()
}

// nodad is the flag as `ip address add` spells it.
func nodad(on bool) string {
	if on {
		return " nodad"
	}
	return ""
}

func routes(s netstate.State) []byte {
	var b bytes.Buffer
	b.WriteString(Header)
	for _, r := range s.Routes {
		fmt.Fprintf(&b, "%s via %s dev %s # node %s\n", r.Dst, r.Via, s.TransitInterface, r.Node)
	}
	return b.Bytes()
}

// Nftables renders the bind-isolation table in `nft -f` syntax. A packet
// from a tenant address leaves only when its socket belongs to that tenant or
// to a system user (uid < 1000); packets without a socket (kernel replies)
// pass. Loading the file replaces the table atomically.
func Nftables(s netstate.State) []byte {
	var b bytes.Buffer
	b.WriteString(Header)
	fmt.Fprintf(&b, "table ip6 %[1]s\ndelete table ip6 %[1]s\ntable ip6 %[1]s {\n", s.NftTable)
	b.WriteString("\tset tenant_addrs {\n\t\ttype ipv6_addr\n")
	writeElements(&b, s.Addresses, func(a netstate.Tenant) string { return a.Addr.String() })
	b.WriteString("\t}\n\n\tset tenant_owners {\n\t\ttype ipv6_addr . uid\n")
	writeElements(&b, s.Addresses, func(a netstate.Tenant) string { return fmt.Sprintf("%s . %d", a.Addr, a.UID) })
	b.WriteString(`	}

	chain output {
		type filter hook output priority filter; policy accept;
		ip6 saddr != @tenant_addrs accept
		meta skuid < 1000 accept
		ip6 saddr . meta skuid @tenant_owners accept
		meta skuid >= 1000 reject with icmpv6 admin-prohibited
	}
}
`)
	return b.Bytes()
}

func writeElements(b *bytes.Buffer, addrs []netstate.Tenant, elem func(netstate.Tenant) string) {
	if len(addrs) == 0 {
		return
	}
	b.WriteString("\t\telements = {\n")
	for i, a := range addrs {
		sep := ","
		if i == len(addrs)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "\t\t\t%s%s\n", elem(a), sep)
	}
	b.WriteString("\t\t}\n")
}
