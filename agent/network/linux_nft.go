package network

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/drover-sh/drover/internal/english"
	"github.com/google/nftables"
	"github.com/google/nftables/expr"
	"github.com/mdlayher/netlink"
	"golang.org/x/sys/unix"
)

// ownersKeyType is the key type of tenant_owners, `ipv6_addr . uid`: the
// concatenated datatype (magic 8<<6 | 24) with a 20-byte key, each field
// rounded up to whole 4-byte registers (16 + 4). The set also carries the
// NFT_SET_CONCAT flag and the field lengths (NFTA_SET_DESC_CONCAT), as nft
// sends them.
var ownersKeyType = nftables.MustConcatSetType(nftables.TypeIP6Addr, nftables.TypeUID)

// Registers of the rules. nft addresses 16-byte registers 1..4 (NFT_REG_1..)
// and 4-byte ones (NFT_REG32_00..); the kernel dumps a 4-byte register that
// starts a 16-byte one under the 16-byte name, so the concatenation
// `ip6 saddr . meta skuid` loads the address into register 1 (bytes 0-15 of
// the lookup key) and the uid into register 2 (bytes 16-19), the layout nft
// itself produces and reads back.
const (
	regAddr = 1
	regUID  = 2
)

// icmpv6AdminProhibited is the code of ICMPv6 destination unreachable
// "communication administratively prohibited" (RFC 4443), nft's
// `icmpv6 admin-prohibited`.
const icmpv6AdminProhibited = 1

// ruleExprs returns the expressions of outputRules, in order.
func ruleExprs(addrs, owners *nftables.Set) [][]expr.Any {
	saddr := &expr.Payload{OperationType: expr.PayloadLoad, DestRegister: regAddr, Base: expr.PayloadBaseNetworkHeader, Offset: 8, Len: 16}
	accept := &expr.Verdict{Kind: expr.VerdictAccept}
	// meta skuid is loaded in host byte order, while cmp compares bytes with
	// memcmp: an ordered comparison needs the value in network order, so the
	// uid goes through byteorder hton first and is compared with a
	// big-endian constant (what nft generates for `meta skuid < 1000`).
	skuid := func(reg uint32) []expr.Any {
		return []expr.Any{
			&expr.Meta{Key: expr.MetaKeySKUID, Register: reg},
			&expr.Byteorder{SourceRegister: reg, DestRegister: reg, Op: expr.ByteorderHton, Len: 4, Size: 4},
		}
	}
	system := binary.BigEndian.AppendUint32(nil, systemUIDs)
	return [][]expr.Any{
		// ip6 saddr != @tenant_addrs accept
		{saddr, &expr.Lookup{SourceRegister: regAddr, SetName: addrs.Name, SetID: addrs.ID, Invert: true}, accept},
		// meta skuid < 1000 accept
		append(skuid(1), &expr.Cmp{Op: expr.CmpOpLt, Register: 1, Data: system}, accept),
		// ip6 saddr . meta skuid @tenant_owners accept
		{saddr, &expr.Meta{Key: expr.MetaKeySKUID, Register: regUID}, &expr.Lookup{SourceRegister: regAddr, SetName: owners.Name, SetID: owners.ID}, accept},
		// meta skuid >= 1000 reject with icmpv6 admin-prohibited
		append(skuid(1), &expr.Cmp{Op: expr.CmpOpGte, Register: 1, Data: system},
			&expr.Reject{Type: unix.NFT_REJECT_ICMP_UNREACH, Code: icmpv6AdminProhibited}),
	}
}

// ruleSig is a comparable text of a rule's expressions. google/nftables
// v0.3.0 cannot parse byteorder expressions and leaves them out of rules it
// reads, so they are left out here too (a rule altered only in its
// byteorder is not detected); set IDs only exist inside a batch.
func ruleSig(exprs []expr.Any) string {
	var parts []string
	for _, e := range exprs {
		switch e := e.(type) {
		case *expr.Byteorder:
			continue
		case *expr.Lookup:
			c := *e
			c.SetID = 0
			parts = append(parts, fmt.Sprintf("lookup%+v", c))
		default:
			parts = append(parts, fmt.Sprintf("%T%+v", e, e))
		}
	}
	return strings.Join(parts, " ")
}

func (lm *linuxMachine) conn(opts ...nftables.ConnOption) (*nftables.Conn, error) {
	c, err := nftables.New(append(slices.Clone(lm.nftOpts), opts...)...)
	if err != nil {
		return nil, fmt.Errorf("open nftables netlink: %w", err)
	}
	return c, nil
}

func (lm *linuxMachine) findTable(c *nftables.Conn, name string) (*nftables.Table, error) {
	tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv6)
	if err != nil {
		return nil, fmt.Errorf("list nft tables: %w", err)
	}
	for _, t := range tables {
		if t.Name == name {
			return t, nil
		}
	}
	return nil, nil
}

func (lm *linuxMachine) readTable(name string) (nftTable, error) {
	c, err := lm.conn()
	if err != nil {
		return nftTable{}, err
	}
	t, err := lm.findTable(c, name)
	if err != nil || t == nil {
		return nftTable{}, err
	}
	out := nftTable{Present: true}
	var altered []string
	if t.Flags != 0 {
		// google/nftables v0.3.0 reads the flags in the wrong byte order
		// (dormant shows as 0x1000000): any flag is an alteration.
		altered = append(altered, "table has flags (dormant?)")
	}

	sets, err := c.GetSets(t)
	if err != nil {
		return nftTable{}, fmt.Errorf("list sets of nft table ip6 %s: %w", name, err)
	}
	found := map[string]bool{}
	for _, s := range sets {
		found[s.Name] = true
		var want nftables.SetDatatype
		switch s.Name {
		case setAddrs:
			want = nftables.TypeIP6Addr
		case setOwners:
			want = ownersKeyType
		default:
			altered = append(altered, "unexpected set "+s.Name)
			continue
		}
		if s.KeyType.Name != want.Name || s.KeyType.Bytes != want.Bytes || s.Anonymous || s.Constant || s.Interval || s.IsMap || s.HasTimeout || s.Dynamic {
			altered = append(altered, fmt.Sprintf("set %s is not a plain set of type %s", s.Name, want.Name))
			continue
		}
		elems, err := c.GetSetElements(s)
		if err != nil {
			return nftTable{}, fmt.Errorf("list elements of set %s in nft table ip6 %s: %w", s.Name, name, err)
		}
		for _, e := range elems {
			if s.Name == setAddrs {
				a, err := addrFromKey(e.Key)
				if err != nil {
					return nftTable{}, err
				}
				out.Addrs = append(out.Addrs, a)
			} else {
				o, err := ownerFromKey(e.Key)
				if err != nil {
					return nftTable{}, err
				}
				out.Owners = append(out.Owners, o)
			}
		}
	}
	for _, s := range []string{setAddrs, setOwners} {
		if !found[s] {
			altered = append(altered, "set "+s+" missing")
		}
	}

	chains, err := c.ListChainsOfTableFamily(nftables.TableFamilyIPv6)
	if err != nil {
		return nftTable{}, fmt.Errorf("list chains of nft table ip6 %s: %w", name, err)
	}
	haveOutput := false
	for _, ch := range chains {
		if ch.Table.Name != name {
			continue
		}
		if ch.Name != chainOutput {
			altered = append(altered, "unexpected chain "+ch.Name)
			continue
		}
		haveOutput = true
		if why := checkOutputChain(ch); why != "" {
			altered = append(altered, why)
			continue
		}
		rules, err := c.GetRules(t, ch)
		if err != nil {
			return nftTable{}, fmt.Errorf("list rules of chain %s in nft table ip6 %s: %w", chainOutput, name, err)
		}
		if why := checkRules(rules); why != "" {
			altered = append(altered, why)
		}
	}
	if !haveOutput {
		altered = append(altered, "chain "+chainOutput+" missing")
	}
	out.Altered = strings.Join(altered, ", ")
	return out, nil
}

func checkOutputChain(ch *nftables.Chain) string {
	ok := ch.Type == nftables.ChainTypeFilter &&
		ch.Hooknum != nil && *ch.Hooknum == *nftables.ChainHookOutput &&
		ch.Priority != nil && *ch.Priority == *nftables.ChainPriorityFilter &&
		ch.Policy != nil && *ch.Policy == nftables.ChainPolicyAccept
	if !ok {
		return "chain " + chainOutput + " is not `type filter hook output priority filter; policy accept`"
	}
	return ""
}

func checkRules(rules []*nftables.Rule) string {
	want := ruleExprs(&nftables.Set{Name: setAddrs}, &nftables.Set{Name: setOwners})
	if len(rules) != len(want) {
		return fmt.Sprintf("chain %s has %s, want %d", chainOutput, english.Count(len(rules), "rule"), len(want))
	}
	for i, r := range rules {
		if ruleSig(r.Exprs) != ruleSig(want[i]) {
			return fmt.Sprintf("rule %d of chain %s is not %q", i+1, chainOutput, outputRules[i])
		}
	}
	return ""
}

// elementsPerMessage bounds the elements of one netlink message: the
// element list is one attribute, whose length field has 16 bits (an owner
// element takes 32 bytes, so 2,047 would fit).
const elementsPerMessage = 1000

func (lm *linuxMachine) writeTable(name string, b nftBatch) error {
	// Every message of the batch goes out in one sendmsg: make the socket's
	// send buffer large enough for big tables, as nft does.
	elems := len(b.Addrs) + len(b.Owners) + len(b.AddAddrs) + len(b.DelAddrs) + len(b.AddOwners) + len(b.DelOwners)
	c, err := lm.conn(nftables.WithSockOptions(sndbuf(64<<10 + 64*elems)))
	if err != nil {
		return err
	}
	t := &nftables.Table{Name: name, Family: nftables.TableFamilyIPv6}
	addrs := &nftables.Set{Table: t, Name: setAddrs, KeyType: nftables.TypeIP6Addr}
	owners := &nftables.Set{Table: t, Name: setOwners, KeyType: ownersKeyType, Concatenation: true}
	if b.Recreate {
		if b.Exists {
			c.DelTable(t)
		}
		c.AddTable(t)
		if err := c.AddSet(addrs, nil); err != nil {
			return err
		}
		if err := c.AddSet(owners, nil); err != nil {
			return err
		}
		if err := addElements(c, addrs, addrElements(b.Addrs)); err != nil {
			return err
		}
		if err := addElements(c, owners, ownerElements(b.Owners)); err != nil {
			return err
		}
		ch := c.AddChain(&nftables.Chain{
			Name:     chainOutput,
			Table:    t,
			Type:     nftables.ChainTypeFilter,
			Hooknum:  nftables.ChainHookOutput,
			Priority: nftables.ChainPriorityFilter,
			Policy:   ptr(nftables.ChainPolicyAccept),
		})
		for _, exprs := range ruleExprs(addrs, owners) {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
		}
	} else {
		if err := delElements(c, addrs, addrElements(b.DelAddrs)); err != nil {
			return err
		}
		if err := delElements(c, owners, ownerElements(b.DelOwners)); err != nil {
			return err
		}
		if err := addElements(c, addrs, addrElements(b.AddAddrs)); err != nil {
			return err
		}
		if err := addElements(c, owners, ownerElements(b.AddOwners)); err != nil {
			return err
		}
	}
	return c.Flush()
}

func (lm *linuxMachine) deleteTable(name string) error {
	c, err := lm.conn()
	if err != nil {
		return err
	}
	c.DelTable(&nftables.Table{Name: name, Family: nftables.TableFamilyIPv6})
	if err := c.Flush(); err != nil {
		return fmt.Errorf("delete nft table ip6 %s: %w", name, err)
	}
	return nil
}

func addElements(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	for chunk := range slices.Chunk(elems, elementsPerMessage) {
		if err := c.SetAddElements(s, chunk); err != nil {
			return fmt.Errorf("add elements to set %s: %w", s.Name, err)
		}
	}
	return nil
}

func delElements(c *nftables.Conn, s *nftables.Set, elems []nftables.SetElement) error {
	for chunk := range slices.Chunk(elems, elementsPerMessage) {
		if err := c.SetDeleteElements(s, chunk); err != nil {
			return fmt.Errorf("delete elements from set %s: %w", s.Name, err)
		}
	}
	return nil
}

func addrElements(as []netip.Addr) []nftables.SetElement {
	out := make([]nftables.SetElement, 0, len(as))
	for _, a := range as {
		out = append(out, nftables.SetElement{Key: a.AsSlice()})
	}
	return out
}

func ownerElements(os []owner) []nftables.SetElement {
	out := make([]nftables.SetElement, 0, len(os))
	for _, o := range os {
		out = append(out, nftables.SetElement{Key: o.key()})
	}
	return out
}

// sndbuf sets the socket's send buffer to at least n bytes, past the
// net.core.wmem_max limit (SO_SNDBUFFORCE; the agent runs as root), when n
// is more than the default buffer holds.
func sndbuf(n int) nftables.SockOption {
	return func(c *netlink.Conn) error {
		if n <= 200<<10 {
			return nil
		}
		rc, err := c.SyscallConn()
		if err != nil {
			return err
		}
		var serr error
		err = rc.Control(func(fd uintptr) {
			serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, n)
		})
		if err != nil {
			return err
		}
		if serr != nil {
			return fmt.Errorf("set netlink send buffer to %d bytes: %w", n, serr)
		}
		return nil
	}
}

func ptr[T any](v T) *T { return &v }
