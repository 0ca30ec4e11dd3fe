package render

import (
	"fmt"
	"strings"

	"github.com/drover-sh/drover/netplan"
)

// Network renders the node's addresses, routes and nftables ruleset. The
// agent applies these through netlink and nftables rather than installing the
// files; `drover render` writes them so they can be read and diffed.
func Network(p *netplan.NodePlan, o Options) []File {
	return []File{
		{Root: RootNetwork, Path: "addresses", Mode: 0o644, Data: addresses(p, o)},
		{Root: RootNetwork, Path: "routes", Mode: 0o644, Data: routes(p, o)},
		{Root: RootNetwork, Path: o.NftTable + ".nft", Mode: 0o644, Data: Nftables(p, o)},
	}
}

func addresses(p *netplan.NodePlan, o Options) []byte {
	var b strings.Builder
	b.WriteString(Header)
	fmt.Fprintf(&b, "%s dev %s # transit of node %s\n", p.Transit, o.TransitInterface, p.Node.Name)
	for _, a := range p.Addresses {
		fmt.Fprintf(&b, "%s/128 dev %s nodad # tenant %s uid %d\n", a.Addr, o.TenantInterface, a.Tenant, a.UID)
	}
	return []byte(b.String())
}

func routes(p *netplan.NodePlan, o Options) []byte {
	var b strings.Builder
	b.WriteString(Header)
	for _, r := range p.Routes {
		fmt.Fprintf(&b, "%s via %s dev %s # node %s\n", r.Dst, r.Via, o.TransitInterface, r.Node)
	}
	return []byte(b.String())
}

// Nftables renders the bind-isolation table in `nft -f` syntax. A packet
// from a tenant address leaves only when its socket belongs to that tenant or
// to a system user (uid < 1000); packets without a socket (kernel replies)
// pass. Loading the file replaces the table atomically.
func Nftables(p *netplan.NodePlan, o Options) []byte {
	var b strings.Builder
	b.WriteString(Header)
	fmt.Fprintf(&b, "table ip6 %[1]s\ndelete table ip6 %[1]s\ntable ip6 %[1]s {\n", o.NftTable)
	b.WriteString("\tset tenant_addrs {\n\t\ttype ipv6_addr\n")
	writeElements(&b, p, func(a netplan.TenantAddress) string { return a.Addr.String() })
	b.WriteString("\t}\n\n\tset tenant_owners {\n\t\ttype ipv6_addr . uid\n")
	writeElements(&b, p, func(a netplan.TenantAddress) string { return fmt.Sprintf("%s . %d", a.Addr, a.UID) })
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
	return []byte(b.String())
}

func writeElements(b *strings.Builder, p *netplan.NodePlan, elem func(netplan.TenantAddress) string) {
	if len(p.Addresses) == 0 {
		return
	}
	b.WriteString("\t\telements = {\n")
	for i, a := range p.Addresses {
		sep := ","
		if i == len(p.Addresses)-1 {
			sep = ""
		}
		fmt.Fprintf(b, "\t\t\t%s%s\n", elem(a), sep)
	}
	b.WriteString("\t\t}\n")
}
