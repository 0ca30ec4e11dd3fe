package network

import (
	"context"
	"errors"
	"net/netip"
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
