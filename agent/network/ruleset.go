package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// RouteProtocol is the rtnetlink protocol number of drover's routes
// (`ip -6 route` shows `proto 213`; add "213 drover" to
// /etc/iproute2/rt_protos.d/drover.conf to see the name). 213 (0xd5) is
// unassigned in iproute2's rt_protos. Only routes carrying it are ever
// removed.
const RouteProtocol = 213

// Names inside the nftables table, as render/network.go writes them.
const (
	setAddrs    = "tenant_addrs"
	setOwners   = "tenant_owners"
	chainOutput = "output"
	// systemUIDs is the first uid that is not a system user.
	systemUIDs = 1000
)

// outputRules are the rules of chain output in `nft list` syntax, exactly as
// render/network.go writes them. The Linux applier programs the expressions
// of linux_nft.go, which read back as these lines; the fake stores the lines.
var outputRules = []string{
	"ip6 saddr != @" + setAddrs + " accept",
	"meta skuid < " + strconv.Itoa(systemUIDs) + " accept",
	"ip6 saddr . meta skuid @" + setOwners + " accept",
	"meta skuid >= " + strconv.Itoa(systemUIDs) + " reject with icmpv6 admin-prohibited",
}

// owner is an element of tenant_owners: a tenant address and its uid.
type owner struct {
	Addr netip.Addr
	UID  uint32
}

func (o owner) String() string { return fmt.Sprintf("%s . %d", o.Addr, o.UID) }

// key is the element's key as the kernel stores it: the concatenation of
// ipv6_addr (16 bytes, network order) and uid (4 bytes, host order: meta
// skuid loads the uid in host byte order, and the uid datatype is host
// order). Each field fills whole 4-byte registers, so no padding is needed.
func (o owner) key() []byte {
	a := o.Addr.As16()
	return binary.NativeEndian.AppendUint32(a[:], o.UID)
}

func ownerFromKey(k []byte) (owner, error) {
	if len(k) != 20 {
		return owner{}, fmt.Errorf("element of set %s has %d bytes, want 20", setOwners, len(k))
	}
	return owner{Addr: netip.AddrFrom16([16]byte(k[:16])), UID: binary.NativeEndian.Uint32(k[16:])}, nil
}

func addrFromKey(k []byte) (netip.Addr, error) {
	if len(k) != 16 {
		return netip.Addr{}, fmt.Errorf("element of set %s has %d bytes, want 16", setAddrs, len(k))
	}
	return netip.AddrFrom16([16]byte(k)), nil
}

// parseOwner reads an element in `nft` syntax, "fd00::1 . 10042".
func parseOwner(s string) (owner, error) {
	a, u, ok := strings.Cut(s, " . ")
	if !ok {
		return owner{}, fmt.Errorf("element %q of set %s is not ADDR . UID", s, setOwners)
	}
	addr, err := netip.ParseAddr(a)
	if err != nil {
		return owner{}, err
	}
	uid, err := strconv.ParseUint(u, 10, 32)
	if err != nil {
		return owner{}, err
	}
	return owner{Addr: addr, UID: uint32(uid)}, nil
}

// nftTable is what the planner needs to know about the nftables table.
type nftTable struct {
	// Present is false when the table does not exist.
	Present bool
	// Altered says how the table's structure (sets, chains, rules, flags)
	// differs from drover's, "" when it matches.
	Altered string
	Addrs   []netip.Addr
	Owners  []owner
}

// nftBatch is one atomic change of the table: one netlink batch, committed
// or rejected by the kernel as a whole.
type nftBatch struct {
	// Recreate (re)creates the whole table with Addrs and Owners as its
	// elements, deleting it first when Exists.
	Recreate bool
	Exists   bool
	Addrs    []netip.Addr
	Owners   []owner
	// Otherwise only these elements of the existing sets change.
	AddAddrs, DelAddrs   []netip.Addr
	AddOwners, DelOwners []owner
}
