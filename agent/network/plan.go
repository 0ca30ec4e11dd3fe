package network

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/netstate"
)

// The planner shared by the Linux applier and the Fake: the steps that take
// a machine from what it has to a netstate.State, each undoing one drift.

// step is one change of the plan: what differs, what doing it changed, and
// how to do it.
type step struct {
	drift []string
	done  []string
	do    func(machine) error
	// critical stops the remaining steps when this one fails.
	critical bool
}

// plan reads the machine and returns the steps that converge it to s, in
// the order Apply runs them.
func (c core) plan(s netstate.State) ([]step, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	for _, l := range []struct{ name, key string }{
		{s.TenantInterface, "network.tenant_interface"},
		{s.TransitInterface, "network.transit_interface"},
	} {
		ok, err := c.m.hasLink(l.name)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("interface %q does not exist: create it, or name an existing one in %s of the agent configuration", l.name, l.key)
		}
	}
	tenantAddrs, err := c.m.addrs(s.TenantInterface)
	if err != nil {
		return nil, err
	}
	transitAddrs, err := c.m.addrs(s.TransitInterface)
	if err != nil {
		return nil, err
	}
	routes, err := c.m.routes(s.TransitInterface)
	if err != nil {
		return nil, err
	}
	table, err := c.m.readTable(s.NftTable)
	if err != nil {
		return nil, err
	}
	// The kernel lists objects in its own order; sort them so reports are
	// stable.
	byAddr := func(a, b ifAddr) int { return a.Prefix.Addr().Compare(b.Prefix.Addr()) }
	slices.SortFunc(tenantAddrs, byAddr)
	slices.SortFunc(transitAddrs, byAddr)
	slices.SortFunc(routes, func(a, b netstate.Route) int { return a.Dst.Addr().Compare(b.Dst.Addr()) })
	slices.SortFunc(table.Addrs, netip.Addr.Compare)
	slices.SortFunc(table.Owners, func(a, b owner) int { return cmp.Or(a.Addr.Compare(b.Addr), cmp.Compare(a.UID, b.UID)) })
	delAddrs, addAddrs := planTenantAddrs(s, tenantAddrs)
	var steps []step
	steps = append(steps, delAddrs...)
	steps = append(steps, planTable(s, table)...)
	steps = append(steps, addAddrs...)
	steps = append(steps, planTransit(s, transitAddrs)...)
	steps = append(steps, planRoutes(s, routes)...)
	return steps, nil
}

// planTenantAddrs returns the removals and the additions that make the
// managed addresses on the tenant interface (those inside s.Node) exactly
// the tenants' /128s, with nodad as s.TenantNoDAD says.
func planTenantAddrs(s netstate.State, have []ifAddr) (dels, adds []step) {
	link := s.TenantInterface
	want := map[netip.Addr]netstate.Tenant{}
	for _, t := range s.Addresses {
		want[t.Addr] = t
	}
	ok := map[netip.Addr]bool{}
	for _, a := range have {
		addr := a.Prefix.Addr()
		if !s.Node.Contains(addr) {
			continue // not drover's
		}
		t, wanted := want[addr]
		switch {
		case !wanted:
			dels = append(dels, delAddrStep(link, a.Prefix,
				fmt.Sprintf("stale address %s on %s (no tenant of this node has it)", a.Prefix, link),
				fmt.Sprintf("removed stale address %s from %s", a.Prefix, link)))
		case a.Prefix.Bits() != 128:
			dels = append(dels, delAddrStep(link, a.Prefix,
				fmt.Sprintf("address %s of %s on %s has the wrong prefix length, want /128", a.Prefix, t.Name, link),
				fmt.Sprintf("removed address %s from %s (%s, wrong prefix length)", a.Prefix, link, t.Name)))
		case a.NoDAD != s.TenantNoDAD:
			ok[addr] = true
			p := a.Prefix
			drift, done := "lacks nodad", "set nodad on"
			if !s.TenantNoDAD {
				drift, done = "has nodad", "cleared nodad on"
			}
			adds = append(adds, step{
				drift: []string{fmt.Sprintf("address %s of %s on %s %s", p, t.Name, link, drift)},
				done:  []string{fmt.Sprintf("%s address %s on %s (%s)", done, p, link, t.Name)},
				do: func(m machine) error {
					if err := m.replaceAddr(link, ifAddr{Prefix: p, NoDAD: s.TenantNoDAD}); err != nil {
						return fmt.Errorf("%s address %s on %s: %w", done, p, link, err)
					}
					return nil
				},
			})
		default:
			ok[addr] = true
		}
	}
	for _, t := range s.Addresses {
		if ok[t.Addr] {
			continue
		}
		p := netip.PrefixFrom(t.Addr, 128)
		adds = append(adds, step{
			drift: []string{fmt.Sprintf("address %s of %s missing on %s", p, t.Name, link)},
			done:  []string{fmt.Sprintf("added address %s on %s (%s)", p, link, t.Name)},
			do: func(m machine) error {
				if err := m.addAddr(link, ifAddr{Prefix: p, NoDAD: s.TenantNoDAD}); err != nil {
					return fmt.Errorf("add address %s of %s on %s: %w", p, t.Name, link, err)
				}
				return nil
			},
		})
	}
	return dels, adds
}

func delAddrStep(link string, p netip.Prefix, drift, done string) step {
	return step{
		drift: []string{drift},
		done:  []string{done},
		do: func(m machine) error {
			if err := m.delAddr(link, p); err != nil {
				return fmt.Errorf("remove address %s from %s: %w", p, link, err)
			}
			return nil
		},
	}
}

// planTransit makes sure the transit address is on the transit interface
// with its /64; other addresses there are left alone.
func planTransit(s netstate.State, have []ifAddr) []step {
	link, want := s.TransitInterface, s.Transit
	var steps []step
	for _, a := range have {
		if a.Prefix.Addr() != want.Addr() {
			continue
		}
		if a.Prefix.Bits() == want.Bits() {
			return nil
		}
		steps = append(steps, delAddrStep(link, a.Prefix,
			fmt.Sprintf("transit address %s on %s has the wrong prefix length, want /%d", a.Prefix, link, want.Bits()),
			fmt.Sprintf("removed transit address %s from %s (wrong prefix length)", a.Prefix, link)))
	}
	return append(steps, step{
		drift: []string{fmt.Sprintf("transit address %s missing on %s", want, link)},
		done:  []string{fmt.Sprintf("added transit address %s on %s", want, link)},
		do: func(m machine) error {
			if err := m.addAddr(link, ifAddr{Prefix: want, NoDAD: s.TransitNoDAD}); err != nil {
				return fmt.Errorf("add transit address %s on %s: %w", want, link, err)
			}
			return nil
		},
	})
}

// planRoutes makes drover's routes via the transit interface (protocol
// RouteProtocol, destination a /48 inside the cluster prefix) exactly the
// desired ones.
func planRoutes(s netstate.State, have []netstate.Route) []step {
	link := s.TransitInterface
	want := map[netip.Prefix]netip.Addr{}
	for _, r := range s.Routes {
		want[r.Dst] = r.Via
	}
	byDst := map[netip.Prefix][]netstate.Route{}
	for _, r := range have {
		if netstate.IsNodePrefix(s.Cluster, r.Dst) {
			byDst[r.Dst] = append(byDst[r.Dst], r)
		}
	}
	var dels, adds []step
	for _, r := range have {
		if !netstate.IsNodePrefix(s.Cluster, r.Dst) {
			continue // not drover's
		}
		via, wanted := want[r.Dst]
		if wanted && (r.Via == via || len(byDst[r.Dst]) == 1) {
			continue // right, or replaced below
		}
		dels = append(dels, step{
			drift: []string{fmt.Sprintf("stale route %s", routeString(r, link))},
			done:  []string{fmt.Sprintf("removed route %s", routeString(r, link))},
			do: func(m machine) error {
				if err := m.delRoute(link, r); err != nil {
					return fmt.Errorf("remove route %s: %w", routeString(r, link), err)
				}
				return nil
			},
		})
	}
	for _, r := range s.Routes {
		var drift, done string
		switch rs := byDst[r.Dst]; {
		case containsRoute(rs, r):
			continue
		case len(rs) == 1:
			drift = fmt.Sprintf("route %s goes via %s, want %s", rs[0].Dst, viaString(rs[0].Via), r.Via)
			done = fmt.Sprintf("replaced route %s (was via %s)", routeString(r, link), viaString(rs[0].Via))
		default:
			drift = fmt.Sprintf("route %s missing", routeString(r, link))
			done = fmt.Sprintf("added route %s", routeString(r, link))
		}
		adds = append(adds, step{
			drift: []string{drift},
			done:  []string{done},
			do: func(m machine) error {
				if err := m.replaceRoute(link, r); err != nil {
					return fmt.Errorf("add route %s: %w", routeString(r, link), err)
				}
				return nil
			},
		})
	}
	return append(dels, adds...)
}

func containsRoute(rs []netstate.Route, r netstate.Route) bool {
	for _, h := range rs {
		if h.Same(r) {
			return true
		}
	}
	return false
}

func routeString(r netstate.Route, link string) string {
	return fmt.Sprintf("%s via %s dev %s proto %d", r.Dst, viaString(r.Via), link, RouteProtocol)
}

func viaString(a netip.Addr) string {
	if !a.IsValid() {
		return "(no single gateway)"
	}
	return a.String()
}

// planTable returns the one nftables step: (re)create the table when it is
// missing or altered, else add and remove exactly the elements that differ.
// It is critical: tenant addresses are added only after it succeeded.
func planTable(s netstate.State, t nftTable) []step {
	name := "nft table ip6 " + s.NftTable
	var wantAddrs []netip.Addr
	var wantOwners []owner
	for _, a := range s.Addresses {
		wantAddrs = append(wantAddrs, a.Addr)
		wantOwners = append(wantOwners, owner{Addr: a.Addr, UID: a.UID})
	}
	if !t.Present || t.Altered != "" {
		b := nftBatch{Recreate: true, Exists: t.Present, Addrs: wantAddrs, Owners: wantOwners}
		drift := name + " missing"
		done := fmt.Sprintf("created %s (%s)", name, english.Count(len(wantAddrs), "tenant address"))
		if t.Present {
			drift = fmt.Sprintf("%s altered: %s", name, t.Altered)
			done = fmt.Sprintf("recreated %s (%s; %s)", name, t.Altered, english.Count(len(wantAddrs), "tenant address"))
		}
		return []step{{
			drift:    []string{drift},
			done:     []string{done},
			do:       writeTableFunc(s.NftTable, b),
			critical: true,
		}}
	}
	var b nftBatch
	var st step
	b.AddAddrs, b.DelAddrs = diff(wantAddrs, t.Addrs)
	b.AddOwners, b.DelOwners = diff(wantOwners, t.Owners)
	for _, a := range b.DelAddrs {
		st.drift = append(st.drift, fmt.Sprintf("stale element %s in set %s of %s", a, setAddrs, name))
		st.done = append(st.done, fmt.Sprintf("removed element %s from set %s", a, setAddrs))
	}
	for _, o := range b.DelOwners {
		st.drift = append(st.drift, fmt.Sprintf("stale element %s in set %s of %s", o, setOwners, name))
		st.done = append(st.done, fmt.Sprintf("removed element %s from set %s", o, setOwners))
	}
	for _, a := range b.AddAddrs {
		st.drift = append(st.drift, fmt.Sprintf("element %s missing from set %s of %s", a, setAddrs, name))
		st.done = append(st.done, fmt.Sprintf("added element %s to set %s", a, setAddrs))
	}
	for _, o := range b.AddOwners {
		st.drift = append(st.drift, fmt.Sprintf("element %s missing from set %s of %s", o, setOwners, name))
		st.done = append(st.done, fmt.Sprintf("added element %s to set %s", o, setOwners))
	}
	if len(st.drift) == 0 {
		return nil
	}
	st.do = writeTableFunc(s.NftTable, b)
	st.critical = true
	return []step{st}
}

func writeTableFunc(table string, b nftBatch) func(machine) error {
	return func(m machine) error {
		if err := m.writeTable(table, b); err != nil {
			return fmt.Errorf("update nft table ip6 %s: %w", table, err)
		}
		return nil
	}
}

// diff returns the elements of want missing from have, and those of have
// not in want, each in the order of its input.
func diff[T comparable](want, have []T) (add, del []T) {
	inHave := map[T]bool{}
	for _, h := range have {
		inHave[h] = true
	}
	inWant := map[T]bool{}
	for _, w := range want {
		inWant[w] = true
		if !inHave[w] {
			add = append(add, w)
		}
	}
	for _, h := range have {
		if !inWant[h] {
			del = append(del, h)
		}
	}
	return add, del
}
