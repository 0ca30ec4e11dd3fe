package network

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"golang.org/x/sys/unix"
)

// What tests do to the Fake's machine by hand (the drift an operator or
// another program makes), its injected failures, and its Snapshot.

// AddLink creates an interface.
func (f *Fake) AddLink(name string) {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	if f.fm.links[name] == nil {
		f.fm.links[name] = &fakeLink{addrs: map[netip.Addr]ifAddr{}}
	}
}

// DeleteLink removes an interface, its addresses and its routes.
func (f *Fake) DeleteLink(name string) {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	delete(f.fm.links, name)
	f.fm.rt = slices.DeleteFunc(f.fm.rt, func(r fakeRoute) bool { return r.Link == name })
}

// AddAddress adds an address by hand (IPv4 too, which drover never lists).
func (f *Fake) AddAddress(link string, p netip.Prefix, nodad bool) error {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	return f.fm.addAddrLocked(link, ifAddr{Prefix: p, NoDAD: nodad})
}

// DeleteAddress deletes an address by hand.
func (f *Fake) DeleteAddress(link string, p netip.Prefix) error {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	return f.fm.delAddrLocked(link, p)
}

// AddRoute adds a route by hand, with any protocol number.
func (f *Fake) AddRoute(link string, dst netip.Prefix, via netip.Addr, proto int) error {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	return f.fm.replaceRouteLocked(fakeRoute{Dst: dst, Via: via, Link: link, Proto: proto})
}

// DeleteTable deletes an nftables table by hand (`nft delete table`).
func (f *Fake) DeleteTable(name string) error {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	if f.fm.tables[name] == nil {
		return fmt.Errorf("table ip6 %s: %w", name, unix.ENOENT)
	}
	delete(f.fm.tables, name)
	return nil
}

// AlterTable changes an nftables table by hand through fn, which may add,
// remove or edit sets, elements, chains and rules (FakeTable).
func (f *Fake) AlterTable(name string, fn func(t *FakeTable)) error {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	t := f.fm.tables[name]
	if t == nil {
		return fmt.Errorf("table ip6 %s: %w", name, unix.ENOENT)
	}
	fn(&FakeTable{t: t})
	return nil
}

// FakeTable edits a table of the Fake by hand.
type FakeTable struct{ t *fakeTable }

// FlushChain removes every rule of a chain (`nft flush chain`).
func (t *FakeTable) FlushChain(chain string) {
	if ch := t.t.chains[chain]; ch != nil {
		ch.rules = nil
	}
}

// SetRules replaces the rules of a chain, creating it with base (e.g.
// "type filter hook output priority filter; policy drop;") if missing.
func (t *FakeTable) SetRules(chain, base string, rules ...string) {
	t.t.chains[chain] = &fakeChain{base: base, rules: rules}
}

// DeleteChain deletes a chain.
func (t *FakeTable) DeleteChain(chain string) { delete(t.t.chains, chain) }

// AddSet adds a set of type typ (in nft syntax).
func (t *FakeTable) AddSet(name, typ string) {
	t.t.sets[name] = &fakeSet{typ: typ, elems: map[string]bool{}}
}

// DeleteSet deletes a set.
func (t *FakeTable) DeleteSet(name string) { delete(t.t.sets, name) }

// AddElement adds an element in nft syntax ("fd00::1", "fd00::1 . 10042").
func (t *FakeTable) AddElement(set, elem string) {
	if s := t.t.sets[set]; s != nil {
		s.elems[elem] = true
	}
}

// DeleteElement deletes an element in nft syntax.
func (t *FakeTable) DeleteElement(set, elem string) {
	if s := t.t.sets[set]; s != nil {
		delete(s.elems, elem)
	}
}

// FailNext makes the next call of a machine operation fail with err. Ops:
// addAddr, replaceAddr, delAddr, replaceRoute, delRoute, writeTable,
// deleteTable.
func (f *Fake) FailNext(op string, err error) {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	f.fm.fail[op] = err
}

// NftBatches is the number of nftables batches committed or attempted.
func (f *Fake) NftBatches() int {
	f.fm.mu.Lock()
	defer f.fm.mu.Unlock()
	return f.fm.batches
}

// Snapshot prints the modelled machine as sorted text, one object a line:
// interfaces with their addresses, routes, and tables with their sets,
// elements, chains and rules.
func (f *Fake) Snapshot() string {
	fm := f.fm
	fm.mu.Lock()
	defer fm.mu.Unlock()
	var b strings.Builder
	for _, n := range slices.Sorted(maps.Keys(fm.links)) {
		fmt.Fprintf(&b, "link %s\n", n)
		addrs := slices.Collect(maps.Values(fm.links[n].addrs))
		slices.SortFunc(addrs, func(a, b ifAddr) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) })
		for _, a := range addrs {
			fmt.Fprintf(&b, "  addr %s\n", a)
		}
	}
	routes := slices.Clone(fm.rt)
	slices.SortFunc(routes, func(a, b fakeRoute) int {
		return cmp.Or(a.Dst.Addr().Compare(b.Dst.Addr()), cmp.Compare(a.Dst.Bits(), b.Dst.Bits()))
	})
	for _, r := range routes {
		fmt.Fprintf(&b, "route %s via %s dev %s proto %d\n", r.Dst, r.Via, r.Link, r.Proto)
	}
	for _, n := range slices.Sorted(maps.Keys(fm.tables)) {
		t := fm.tables[n]
		fmt.Fprintf(&b, "table ip6 %s\n", n)
		for _, sn := range slices.Sorted(maps.Keys(t.sets)) {
			s := t.sets[sn]
			fmt.Fprintf(&b, "  set %s type %s\n", sn, s.typ)
			elems := slices.Collect(maps.Keys(s.elems))
			slices.SortFunc(elems, compareElems)
			for _, e := range elems {
				fmt.Fprintf(&b, "    element %s\n", e)
			}
		}
		for _, cn := range slices.Sorted(maps.Keys(t.chains)) {
			ch := t.chains[cn]
			fmt.Fprintf(&b, "  chain %s %s\n", cn, ch.base)
			for _, r := range ch.rules {
				fmt.Fprintf(&b, "    rule %s\n", r)
			}
		}
	}
	return b.String()
}

// compareElems orders elements by address, then as text.
func compareElems(a, b string) int {
	aa, _, _ := strings.Cut(a, " ")
	ba, _, _ := strings.Cut(b, " ")
	pa, erra := netip.ParseAddr(aa)
	pb, errb := netip.ParseAddr(ba)
	if erra == nil && errb == nil {
		if c := pa.Compare(pb); c != 0 {
			return c
		}
	}
	return strings.Compare(a, b)
}

var (
	_ Applier = (*Fake)(nil)
	_ machine = (*fakeMachine)(nil)
	_ machine = (*linuxMachine)(nil)
)
