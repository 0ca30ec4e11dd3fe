// Package network converges a node's tenant networking (design.md §3.5,
// §3.6, §4.5): every tenant's /128 on the tenant interface, the node's
// transit address, a route to every other node's /48 of the shard, and the
// nftables table that lets a tenant address be used only by its tenant or by
// system users.
//
// The desired network of a node is a netstate.State, a plain value that
// render.NetworkState builds from a netplan.NodePlan and writes the network
// files from; the agent stores it and re-applies it at boot. An Applier
// converges the machine to such a value, and takes everything from it,
// flags included: Linux
// through rtnetlink (vishvananda/netlink) and nf_tables (google/nftables),
// running no commands; Fake over a modelled machine, for tests without
// root. Both run the same planner (applier.go): read what is there, compute
// the difference, change only that, and only what drover manages:
//
//   - addresses inside this node's /48 ({prefix}:{i}::/48) on the tenant
//     interface: each tenant's /128, with IFA_F_NODAD when TenantNoDAD
//     (render sets it); any other address there is left alone;
//   - the transit address {prefix}:0::{i}/64 on the transit interface,
//     added with IFA_F_NODAD when TransitNoDAD (render sets it: node indexes
//     are unique, and DAD would leave it and the routes via it unusable for
//     a second or two after every boot); other addresses there are left
//     alone;
//   - routes of the main table with protocol RouteProtocol (213, `proto 213`
//     in `ip -6 route`) to /48s inside the cluster /32 via the transit
//     interface; routes of any other protocol are never removed;
//   - the table ip6 {nft_table}. Apply changes only the set elements that
//     differ, in one netlink batch, and recreates the whole table in one
//     batch (delete + add) when it is missing or altered (flags, sets,
//     chains, rules). Only Remove deletes it.
//
// Apply removes stale addresses first, then commits the nftables batch, and
// adds new addresses only when that batch succeeded, so a tenant address is
// never up without its elements.
//
// # The ruleset
//
// The table reads back (`nft list table ip6 drover`) exactly as
// render.Nftables writes it:
//
//	ip6 saddr != @tenant_addrs accept
//	meta skuid < 1000 accept
//	ip6 saddr . meta skuid @tenant_owners accept
//	meta skuid >= 1000 reject with icmpv6 admin-prohibited
//
// tenant_owners has the concatenated key type ipv6_addr . uid
// (nftables.MustConcatSetType(TypeIP6Addr, TypeUID), NFT_SET_CONCAT): a
// 20-byte key, the address in network order then the uid in host order, as
// meta skuid loads it. The lookup reads the address from register 1 and the
// uid from register 2, the registers that follow each other. cmp compares
// bytes (memcmp), so `meta skuid < 1000` first converts the uid to network
// order (byteorder hton) and compares it with a big-endian 1000, as nft
// does; comparing host-order bytes would order uids wrongly (10042 would
// pass as "< 1000").
//
// For locally generated packets the reject answers the socket itself: a TCP
// connect from another tenant's address fails with EACCES ("permission
// denied", the ICMPv6 admin-prohibited error) after about a second, the
// first SYN retransmission; a UDP send fails at once with EPERM. A process connecting to another tenant's local
// address without binding gets that address as its source, so it is
// refused too. System users (nginx as www-data) and the tenant itself pass;
// packets without a socket (kernel replies, SYN-ACKs) match no uid rule and
// pass.
//
// # Performance
//
// Adding an address to an interface with ARP makes the kernel join a
// solicited-node multicast group per address, which grows quadratically:
// 6,000 tenant addresses take ~10 s on a bridge, ~0.4 s on a NOARP
// interface. Use a dummy interface (NOARP), or `ip link set tenant0 arp off`
// on a bridge. Element lists are split into netlink messages of 1,000
// elements within the one batch, and the socket's send buffer is raised for
// large batches.
package network
