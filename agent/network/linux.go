package network

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/google/nftables"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/drover-sh/drover/netstate"
)

// Linux is the Applier of a real machine: addresses and routes through
// rtnetlink, the table through nf_tables, no commands run.
type Linux struct {
	core
	lm *linuxMachine
}

// NewLinux returns the Applier of the network namespace the agent runs in.
func NewLinux() *Linux {
	lm := &linuxMachine{nl: &netlink.Handle{}}
	return &Linux{core: core{m: lm}, lm: lm}
}

// NewLinuxAt returns the Applier of the network namespace ns, whatever
// namespace the calling thread is in (tests program throwaway namespaces
// this way). Close releases its netlink socket.
func NewLinuxAt(ns netns.NsHandle) (*Linux, error) {
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		return nil, fmt.Errorf("open netlink in network namespace %s: %w", ns, err)
	}
	lm := &linuxMachine{nl: h, nftOpts: []nftables.ConnOption{nftables.WithNetNSFd(int(ns))}}
	return &Linux{core: core{m: lm}, lm: lm}, nil
}

// Close releases the netlink socket of NewLinuxAt.
func (l *Linux) Close() {
	l.lm.nl.Close()
}

type linuxMachine struct {
	nl      *netlink.Handle
	nftOpts []nftables.ConnOption

	// links caches interface indexes by name. hasLink, called at the start
	// of every Apply, Observe and Remove, refreshes it, so a pass works on
	// the interfaces as they were when it started without one RTM_GETLINK
	// per address (thousands of tenants).
	mu    sync.Mutex
	links map[string]int
}

// dumpRetries bounds the retries of a netlink dump the kernel interrupted
// because the list changed while it was read.
const dumpRetries = 5

func (lm *linuxMachine) link(name string) (netlink.Link, error) {
	lm.mu.Lock()
	idx, ok := lm.links[name]
	lm.mu.Unlock()
	if ok {
		return &netlink.Device{LinkAttrs: netlink.LinkAttrs{Name: name, Index: idx}}, nil
	}
	l, err := lm.nl.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("look up interface %q: %w", name, err)
	}
	return l, nil
}

func (lm *linuxMachine) hasLink(name string) (bool, error) {
	l, err := lm.nl.LinkByName(name)
	lm.mu.Lock()
	defer lm.mu.Unlock()
	if lm.links == nil {
		lm.links = map[string]int{}
	}
	delete(lm.links, name)
	var notFound netlink.LinkNotFoundError
	switch {
	case err == nil:
		lm.links[name] = l.Attrs().Index
		return true, nil
	case errors.As(err, &notFound), errors.Is(err, unix.ENODEV):
		return false, nil
	default:
		return false, fmt.Errorf("look up interface %q: %w", name, err)
	}
}

func (lm *linuxMachine) addrs(name string) ([]ifAddr, error) {
	l, err := lm.link(name)
	if err != nil {
		return nil, err
	}
	var list []netlink.Addr
	for range dumpRetries {
		list, err = lm.nl.AddrList(l, netlink.FAMILY_V6)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list addresses of %s: %w", name, err)
	}
	var out []ifAddr
	for _, a := range list {
		p, ok := prefixFromIPNet(a.IPNet)
		if !ok {
			continue
		}
		out = append(out, ifAddr{Prefix: p, NoDAD: a.Flags&unix.IFA_F_NODAD != 0})
	}
	return out, nil
}

func (lm *linuxMachine) addAddr(name string, a ifAddr) error {
	l, err := lm.link(name)
	if err != nil {
		return err
	}
	return lm.nl.AddrAdd(l, nlAddr(a))
}

func (lm *linuxMachine) replaceAddr(name string, a ifAddr) error {
	l, err := lm.link(name)
	if err != nil {
		return err
	}
	return lm.nl.AddrReplace(l, nlAddr(a))
}

func (lm *linuxMachine) delAddr(name string, p netip.Prefix) error {
	l, err := lm.link(name)
	if err != nil {
		return err
	}
	return lm.nl.AddrDel(l, nlAddr(ifAddr{Prefix: p}))
}

func nlAddr(a ifAddr) *netlink.Addr {
	na := &netlink.Addr{IPNet: ipNet(a.Prefix)}
	if a.NoDAD {
		na.Flags = unix.IFA_F_NODAD
	}
	return na
}

func (lm *linuxMachine) routes(name string) ([]netstate.Route, error) {
	l, err := lm.link(name)
	if err != nil {
		return nil, err
	}
	filter := &netlink.Route{
		LinkIndex: l.Attrs().Index,
		Protocol:  RouteProtocol,
		Table:     unix.RT_TABLE_MAIN,
	}
	var list []netlink.Route
	for range dumpRetries {
		list, err = lm.nl.RouteListFiltered(netlink.FAMILY_V6, filter, netlink.RT_FILTER_OIF|netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("list routes via %s: %w", name, err)
	}
	var out []netstate.Route
	for _, r := range list {
		dst, ok := prefixFromIPNet(r.Dst)
		if !ok {
			continue
		}
		var via netip.Addr
		if len(r.MultiPath) == 0 {
			via, _ = netip.AddrFromSlice(r.Gw)
			via = via.Unmap()
		}
		out = append(out, netstate.Route{Dst: dst.Masked(), Via: via})
	}
	return out, nil
}

func (lm *linuxMachine) nlRoute(name string, r netstate.Route) (*netlink.Route, error) {
	l, err := lm.link(name)
	if err != nil {
		return nil, err
	}
	nr := &netlink.Route{
		LinkIndex: l.Attrs().Index,
		Dst:       ipNet(r.Dst),
		Protocol:  RouteProtocol,
		Table:     unix.RT_TABLE_MAIN,
		Family:    netlink.FAMILY_V6,
	}
	if r.Via.IsValid() {
		nr.Gw = net.IP(r.Via.AsSlice())
	}
	return nr, nil
}

func (lm *linuxMachine) replaceRoute(name string, r netstate.Route) error {
	nr, err := lm.nlRoute(name, r)
	if err != nil {
		return err
	}
	return lm.nl.RouteReplace(nr)
}

func (lm *linuxMachine) delRoute(name string, r netstate.Route) error {
	nr, err := lm.nlRoute(name, r)
	if err != nil {
		return err
	}
	return lm.nl.RouteDel(nr)
}

func ipNet(p netip.Prefix) *net.IPNet {
	return &net.IPNet{IP: net.IP(p.Addr().AsSlice()), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}
}

func prefixFromIPNet(n *net.IPNet) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	a, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ones, bits := n.Mask.Size()
	if bits != 128 || !a.Is6() || a.Is4In6() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, ones), true
}

var _ Applier = (*Linux)(nil)
