// Package netplan derives, purely from a validated spec.Config, where every
// daemon runs, which port it listens on and which addresses and routes each
// node carries. Every formula here is part of drover's contract (design.md §3):
// all nodes, and CI reviewing a pull request, must compute the same answer,
// so each one is pinned by a golden test.
package netplan

import (
	"encoding/binary"
	"hash/fnv"
	"net/netip"

	"github.com/drover-sh/drover/spec"
)

// ClusterPrefix is the cluster's ULA /32: the configured ula_prefix, else
// fd00:{fnv32a(cluster name) % 0xFFFF}::/32.
func ClusterPrefix(c *spec.Cluster) netip.Prefix {
	if c.ULAPrefix.IsValid() {
		return c.ULAPrefix
	}
	var a [16]byte
	a[0] = 0xfd
	binary.BigEndian.PutUint16(a[2:], uint16(fnv32a(c.Name)%0xFFFF))
	return netip.PrefixFrom(netip.AddrFrom16(a), 32)
}

// TenantAddr is a tenant's address on node index i: {prefix}:{i}::{uid}, the
// uid in the low 32 bits.
func TenantAddr(prefix netip.Prefix, index int, uid uint32) netip.Addr {
	a := prefix.Addr().As16()
	binary.BigEndian.PutUint16(a[4:], uint16(index))
	binary.BigEndian.PutUint32(a[12:], uid)
	return netip.AddrFrom16(a)
}

// NodePrefix is the /48 holding the tenant addresses of node index i.
func NodePrefix(prefix netip.Prefix, index int) netip.Prefix {
	a := prefix.Addr().As16()
	binary.BigEndian.PutUint16(a[4:], uint16(index))
	return netip.PrefixFrom(netip.AddrFrom16(a), 48)
}

// TransitAddr is node index i's address on the transit network:
// {prefix}:0::{i}, on a /64.
func TransitAddr(prefix netip.Prefix, index int) netip.Prefix {
	a := prefix.Addr().As16()
	binary.BigEndian.PutUint16(a[14:], uint16(index))
	return netip.PrefixFrom(netip.AddrFrom16(a), 64)
}

func fnv32a(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}
