package network

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/netstate"
)

// Fake is an Applier over a modelled machine: interfaces with their
// addresses and flags, the main routing table, and nftables tables with
// their sets, elements, chains and rules. It runs the same planner as Linux
// and fails every operation the kernel would refuse, and some it would
// accept but drover must never do (adding an element twice, re-adding an
// existing table without deleting it): such calls are bugs. Tests set the
// machine up and alter it by hand with the exported methods, and compare
// Snapshot texts.
type Fake struct {
	core
	fm *fakeMachine
}

// NewFake returns a Fake with no interfaces, routes or tables.
func NewFake() *Fake {
	fm := &fakeMachine{links: map[string]*fakeLink{}, tables: map[string]*fakeTable{}, fail: map[string]error{}}
	return &Fake{core: core{m: fm}, fm: fm}
}

type fakeMachine struct {
	mu      sync.Mutex
	links   map[string]*fakeLink
	rt      []fakeRoute
	tables  map[string]*fakeTable
	batches int
	fail    map[string]error
}

type fakeLink struct {
	addrs map[netip.Addr]ifAddr
}

type fakeRoute struct {
	Dst   netip.Prefix
	Via   netip.Addr
	Link  string
	Proto int
}

type fakeTable struct {
	sets   map[string]*fakeSet
	chains map[string]*fakeChain
}

type fakeSet struct {
	typ   string
	elems map[string]bool // in nft syntax: "fd00::1", "fd00::1 . 10042"
}

type fakeChain struct {
	base  string // "type filter hook output priority filter; policy accept;"
	rules []string
}

const outputBase = "type filter hook output priority filter; policy accept;"

// droverTable is the table drover programs, with the given elements.
func droverTable(addrs []netip.Addr, owners []owner) *fakeTable {
	t := &fakeTable{
		sets: map[string]*fakeSet{
			setAddrs:  {typ: "ipv6_addr", elems: map[string]bool{}},
			setOwners: {typ: "ipv6_addr . uid", elems: map[string]bool{}},
		},
		chains: map[string]*fakeChain{chainOutput: {base: outputBase, rules: slices.Clone(outputRules)}},
	}
	for _, a := range addrs {
		t.sets[setAddrs].elems[a.String()] = true
	}
	for _, o := range owners {
		t.sets[setOwners].elems[o.String()] = true
	}
	return t
}

func (t *fakeTable) clone() *fakeTable {
	c := &fakeTable{sets: map[string]*fakeSet{}, chains: map[string]*fakeChain{}}
	for n, s := range t.sets {
		c.sets[n] = &fakeSet{typ: s.typ, elems: maps.Clone(s.elems)}
	}
	for n, ch := range t.chains {
		c.chains[n] = &fakeChain{base: ch.base, rules: slices.Clone(ch.rules)}
	}
	return c
}

// injected returns the error FailNext queued for op, once.
func (fm *fakeMachine) injected(op string) error {
	err := fm.fail[op]
	delete(fm.fail, op)
	return err
}

func (fm *fakeMachine) hasLink(name string) (bool, error) {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	return fm.links[name] != nil, nil
}

func (fm *fakeMachine) link(name string) (*fakeLink, error) {
	l := fm.links[name]
	if l == nil {
		return nil, fmt.Errorf("interface %q: %w", name, unix.ENODEV)
	}
	return l, nil
}

func (fm *fakeMachine) addrs(name string) ([]ifAddr, error) {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	l, err := fm.link(name)
	if err != nil {
		return nil, err
	}
	var out []ifAddr
	for _, a := range l.addrs {
		if a.Prefix.Addr().Is6() {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, func(a, b ifAddr) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
	return out, nil
}

func (fm *fakeMachine) addAddr(name string, a ifAddr) error {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if err := fm.injected("addAddr"); err != nil {
		return err
	}
	return fm.addAddrLocked(name, a)
}

func (fm *fakeMachine) addAddrLocked(name string, a ifAddr) error {
	l, err := fm.link(name)
	if err != nil {
		return err
	}
	if _, ok := l.addrs[a.Prefix.Addr()]; ok {
		return fmt.Errorf("address %s on %s: %w", a.Prefix.Addr(), name, unix.EEXIST)
	}
	l.addrs[a.Prefix.Addr()] = a
	return nil
}

func (fm *fakeMachine) replaceAddr(name string, a ifAddr) error {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if err := fm.injected("replaceAddr"); err != nil {
		return err
	}
	l, err := fm.link(name)
	if err != nil {
		return err
	}
	if old, ok := l.addrs[a.Prefix.Addr()]; ok && old.Prefix != a.Prefix {
		return fmt.Errorf("fake: replacing %s on %s with a different prefix length %s (the kernel keeps the old one)", old.Prefix, name, a.Prefix)
	}
	l.addrs[a.Prefix.Addr()] = a
	return nil
}

func (fm *fakeMachine) delAddr(name string, p netip.Prefix) error {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if err := fm.injected("delAddr"); err != nil {
		return err
	}
	return fm.delAddrLocked(name, p)
}

func (fm *fakeMachine) delAddrLocked(name string, p netip.Prefix) error {
	l, err := fm.link(name)
	if err != nil {
		return err
	}
	if old, ok := l.addrs[p.Addr()]; !ok || old.Prefix != p {
		return fmt.Errorf("address %s on %s: %w", p, name, unix.EADDRNOTAVAIL)
	}
	delete(l.addrs, p.Addr())
	return nil
}

func (fm *fakeMachine) routes(name string) ([]netstate.Route, error) {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if _, err := fm.link(name); err != nil {
		return nil, err
	}
	var out []netstate.Route
	for _, r := range fm.rt {
		if r.Link == name && r.Proto == RouteProtocol {
			out = append(out, netstate.Route{Dst: r.Dst, Via: r.Via})
		}
	}
	return out, nil
}

func (fm *fakeMachine) replaceRoute(name string, r netstate.Route) error {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if err := fm.injected("replaceRoute"); err != nil {
		return err
	}
	return fm.replaceRouteLocked(fakeRoute{Dst: r.Dst, Via: r.Via, Link: name, Proto: RouteProtocol})
}

// replaceRouteLocked adds r, replacing the route to the same destination.
// Like the kernel, it refuses a gateway that is not on-link: inside the
// prefix of an address of the route's interface.
func (fm *fakeMachine) replaceRouteLocked(r fakeRoute) error {
	l, err := fm.link(r.Link)
	if err != nil {
		return err
	}
	onlink := false
	for _, a := range l.addrs {
		if a.Prefix.Masked().Contains(r.Via) {
			onlink = true
		}
	}
	if !onlink {
		return fmt.Errorf("gateway %s is not on-link on %s: %w", r.Via, r.Link, unix.EHOSTUNREACH)
	}
	for i, h := range fm.rt {
		if h.Dst == r.Dst {
			fm.rt[i] = r
			return nil
		}
	}
	fm.rt = append(fm.rt, r)
	return nil
}

func (fm *fakeMachine) delRoute(name string, r netstate.Route) error {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if err := fm.injected("delRoute"); err != nil {
		return err
	}
	for i, h := range fm.rt {
		if h == (fakeRoute{Dst: r.Dst, Via: r.Via, Link: name, Proto: RouteProtocol}) {
			fm.rt = slices.Delete(fm.rt, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("route %s via %s dev %s proto %d: %w", r.Dst, r.Via, name, RouteProtocol, unix.ESRCH)
}

func (fm *fakeMachine) readTable(name string) (nftTable, error) {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	t := fm.tables[name]
	if t == nil {
		return nftTable{}, nil
	}
	out := nftTable{Present: true}
	want := droverTable(nil, nil)
	var altered []string
	for _, n := range slices.Sorted(maps.Keys(t.sets)) {
		s, w := t.sets[n], want.sets[n]
		switch {
		case w == nil:
			altered = append(altered, "unexpected set "+n)
			continue
		case s.typ != w.typ:
			altered = append(altered, fmt.Sprintf("set %s is not a plain set of type %s", n, w.typ))
			continue
		}
		for e := range s.elems {
			if n == setAddrs {
				a, err := netip.ParseAddr(e)
				if err != nil {
					return nftTable{}, err
				}
				out.Addrs = append(out.Addrs, a)
			} else {
				o, err := parseOwner(e)
				if err != nil {
					return nftTable{}, err
				}
				out.Owners = append(out.Owners, o)
			}
		}
	}
	for _, n := range []string{setAddrs, setOwners} {
		if t.sets[n] == nil {
			altered = append(altered, "set "+n+" missing")
		}
	}
	for _, n := range slices.Sorted(maps.Keys(t.chains)) {
		ch := t.chains[n]
		switch {
		case n != chainOutput:
			altered = append(altered, "unexpected chain "+n)
		case ch.base != outputBase:
			altered = append(altered, "chain "+chainOutput+" is not `type filter hook output priority filter; policy accept`")
		case len(ch.rules) != len(outputRules):
			altered = append(altered, fmt.Sprintf("chain %s has %s, want %d", chainOutput, english.Count(len(ch.rules), "rule"), len(outputRules)))
		default:
			for i, r := range ch.rules {
				if r != outputRules[i] {
					altered = append(altered, fmt.Sprintf("rule %d of chain %s is not %q", i+1, chainOutput, outputRules[i]))
					break
				}
			}
		}
	}
	if t.chains[chainOutput] == nil {
		altered = append(altered, "chain "+chainOutput+" missing")
	}
	out.Altered = strings.Join(altered, ", ")
	return out, nil
}

// writeTable applies b to a copy of the table and installs the copy only
// when every operation succeeded: one atomic batch.
func (fm *fakeMachine) writeTable(name string, b nftBatch) error {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	fm.batches++
	if err := fm.injected("writeTable"); err != nil {
		return err
	}
	old := fm.tables[name]
	if b.Recreate {
		switch {
		case b.Exists && old == nil:
			return fmt.Errorf("delete table ip6 %s: %w", name, unix.ENOENT)
		case !b.Exists && old != nil:
			return fmt.Errorf("fake: adding table ip6 %s over the existing one would duplicate its rules", name)
		}
		fm.tables[name] = droverTable(b.Addrs, b.Owners)
		return nil
	}
	if old == nil {
		return fmt.Errorf("table ip6 %s: %w", name, unix.ENOENT)
	}
	t := old.clone()
	ops := []struct {
		set   string
		add   bool
		elems []string
	}{
		{setAddrs, false, stringsOf(b.DelAddrs)},
		{setOwners, false, stringsOf(b.DelOwners)},
		{setAddrs, true, stringsOf(b.AddAddrs)},
		{setOwners, true, stringsOf(b.AddOwners)},
	}
	for _, op := range ops {
		if len(op.elems) == 0 {
			continue
		}
		s := t.sets[op.set]
		if s == nil {
			return fmt.Errorf("set %s in table ip6 %s: %w", op.set, name, unix.ENOENT)
		}
		for _, e := range op.elems {
			switch {
			case op.add && s.elems[e]:
				return fmt.Errorf("fake: element %s added twice to set %s", e, op.set)
			case !op.add && !s.elems[e]:
				return fmt.Errorf("delete element %s from set %s: %w", e, op.set, unix.ENOENT)
			}
			if op.add {
				s.elems[e] = true
			} else {
				delete(s.elems, e)
			}
		}
	}
	fm.tables[name] = t
	return nil
}

func stringsOf[T fmt.Stringer](xs []T) []string {
	out := make([]string, 0, len(xs))
	for _, x := range xs {
		out = append(out, x.String())
	}
	return out
}

func (fm *fakeMachine) deleteTable(name string) error {
	fm.mu.Lock()
	defer fm.mu.Unlock()
	if err := fm.injected("deleteTable"); err != nil {
		return err
	}
	if fm.tables[name] == nil {
		return fmt.Errorf("delete table ip6 %s: %w", name, unix.ENOENT)
	}
	delete(fm.tables, name)
	return nil
}
