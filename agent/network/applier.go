package network

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"github.com/drover-sh/drover/netstate"
)

// Applier converges a node's network to a State.
type Applier interface {
	// Apply converges the machine to s and reports what it changed. It
	// never removes the nftables table (only Remove does), and touches only
	// what drover manages (see the package documentation). On error the
	// report still lists the changes that were made.
	Apply(ctx context.Context, s netstate.State) (Report, error)
	// Observe reports how the machine differs from s without changing
	// anything.
	Observe(ctx context.Context, s netstate.State) (Drift, error)
	// Remove is the explicit uninstall: it deletes the nftables table
	// ip6 {table} and every address and route m says drover manages.
	// Missing interfaces or a missing table are not errors.
	Remove(ctx context.Context, table string, m netstate.Managed) error
}

// Report lists what an Apply changed, one human-readable line each, in the
// order the changes were made.
type Report struct {
	Changes []string
}

// Changed reports whether anything was changed.
func (r Report) Changed() bool { return len(r.Changes) > 0 }

// Drift lists how the machine differs from a netstate.State, one line
// each.
type Drift struct {
	Items []string
}

// Empty reports whether the machine matches the State.
func (d Drift) Empty() bool { return len(d.Items) == 0 }

func (d Drift) String() string { return strings.Join(d.Items, "\n") }

// machine is the narrow interface the planner drives; linuxMachine talks to
// the kernel, fakeMachine models it. Each method is one kernel operation and
// fails as the kernel would (adding an existing address, deleting a missing
// one, ...).
type machine interface {
	// hasLink reports whether the interface exists.
	hasLink(name string) (bool, error)
	// addrs lists the interface's IPv6 addresses.
	addrs(link string) ([]ifAddr, error)
	addAddr(link string, a ifAddr) error
	// replaceAddr updates an existing address's flags.
	replaceAddr(link string, a ifAddr) error
	delAddr(link string, p netip.Prefix) error
	// routes lists the IPv6 routes of the main table with protocol
	// RouteProtocol through the interface. Via is invalid for a route
	// without a single gateway.
	routes(link string) ([]netstate.Route, error)
	// replaceRoute adds a route with protocol RouteProtocol through the
	// interface, replacing any route to the same destination.
	replaceRoute(link string, r netstate.Route) error
	delRoute(link string, r netstate.Route) error
	readTable(name string) (nftTable, error)
	// writeTable commits b as one atomic batch.
	writeTable(name string, b nftBatch) error
	deleteTable(name string) error
}

// ifAddr is an address on an interface.
type ifAddr struct {
	Prefix netip.Prefix
	NoDAD  bool
}

func (a ifAddr) String() string {
	if a.NoDAD {
		return a.Prefix.String() + " nodad"
	}
	return a.Prefix.String()
}

// core is the Applier both implementations share: observe, plan, execute.
type core struct {
	m machine
}

// Apply converges the machine to s. The steps run in an order that never
// leaves a tenant address usable without its nftables element: stale
// addresses go first, then the one nftables batch, then new addresses, the
// transit address and the routes. When the nftables batch fails, no address
// is added; other failures do not stop the remaining steps.
func (c core) Apply(ctx context.Context, s netstate.State) (Report, error) {
	var r Report
	steps, err := c.plan(s)
	if err != nil {
		return r, err
	}
	var errs []error
	for _, st := range steps {
		if err := ctx.Err(); err != nil {
			return r, errors.Join(append(errs, err)...)
		}
		if err := st.do(c.m); err != nil {
			errs = append(errs, err)
			if st.critical {
				errs = append(errs, errors.New("stopped before adding tenant addresses, which would be usable without their nftables elements"))
				break
			}
			continue
		}
		r.Changes = append(r.Changes, st.done...)
	}
	return r, errors.Join(errs...)
}

// Observe reports how the machine differs from s.
func (c core) Observe(ctx context.Context, s netstate.State) (Drift, error) {
	if err := ctx.Err(); err != nil {
		return Drift{}, err
	}
	steps, err := c.plan(s)
	if err != nil {
		return Drift{}, err
	}
	var d Drift
	for _, st := range steps {
		d.Items = append(d.Items, st.drift...)
	}
	return d, nil
}

// Remove deletes what drover manages: the tenant addresses inside m.Node,
// the transit address, drover's routes inside m.Cluster and the table.
func (c core) Remove(ctx context.Context, table string, m netstate.Managed) error {
	if err := m.Validate(); err != nil {
		return err
	}
	if table == "" {
		return errors.New("remove network: no nft table name")
	}
	var errs []error
	tenant, err := c.m.hasLink(m.TenantInterface)
	if err != nil {
		return err
	}
	transit, err := c.m.hasLink(m.TransitInterface)
	if err != nil {
		return err
	}
	if tenant {
		have, err := c.m.addrs(m.TenantInterface)
		if err != nil {
			return err
		}
		for _, a := range have {
			if m.Node.Contains(a.Prefix.Addr()) {
				errs = append(errs, c.m.delAddr(m.TenantInterface, a.Prefix))
			}
		}
	}
	if transit {
		routes, err := c.m.routes(m.TransitInterface)
		if err != nil {
			return err
		}
		for _, r := range routes {
			if netstate.IsNodePrefix(m.Cluster, r.Dst) {
				errs = append(errs, c.m.delRoute(m.TransitInterface, r))
			}
		}
		have, err := c.m.addrs(m.TransitInterface)
		if err != nil {
			return err
		}
		for _, a := range have {
			if a.Prefix.Addr() == m.Transit.Addr() {
				errs = append(errs, c.m.delAddr(m.TransitInterface, a.Prefix))
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return errors.Join(append(errs, err)...)
	}
	t, err := c.m.readTable(table)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	if t.Present {
		errs = append(errs, c.m.deleteTable(table))
	}
	return errors.Join(errs...)
}

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
		done := fmt.Sprintf("created %s (%d tenant addresses)", name, len(wantAddrs))
		if t.Present {
			drift = fmt.Sprintf("%s altered: %s", name, t.Altered)
			done = fmt.Sprintf("recreated %s (%s; %d tenant addresses)", name, t.Altered, len(wantAddrs))
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
