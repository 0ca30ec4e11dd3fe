package netplan

import (
	"sort"

	"github.com/drover-sh/drover/spec"
)

// PortReason says why a daemon has its port.
type PortReason string

const (
	PortPreferred PortReason = "preferred" // 10000 + fnv32a(key) % 10000
	PortPinned    PortReason = "pinned"    // the daemon's port attribute
	PortCollision PortReason = "collision" // the preferred port was taken
)

const portCount = spec.MaxPort - spec.MinPort + 1

// PreferredPort is 10000 + fnv32a(key) % 10000.
func PreferredPort(key string) int { return spec.MinPort + int(fnv32a(key)%portCount) }

type portAssignment struct {
	Port   int
	Reason PortReason
}

// allocatePorts gives every proxied daemon of one tenant a port unique within
// the tenant (all its daemons share the tenant's address):
//  1. a pinned port wins (validation guarantees pins are unique);
//  2. every other daemon gets its preferred port unless that port is pinned
//     or preferred by a daemon whose key sorts first;
//  3. the daemons left over, in key order, take the next free port above
//     their preferred one, wrapping from 19999 to 10000.
//
// So a daemon's port only changes when a pin or a new daemon claims it, never
// because an unrelated daemon was added or removed.
func allocatePorts(daemons []*spec.Daemon) map[string]portAssignment {
	out := make(map[string]portAssignment, len(daemons))
	taken := make(map[int]bool, len(daemons))
	var rest []*spec.Daemon
	for _, d := range daemons {
		if d.ProxyPath == "" {
			continue
		}
		if d.Port != 0 {
			out[d.Key()] = portAssignment{d.Port, PortPinned}
			taken[d.Port] = true
			continue
		}
		rest = append(rest, d)
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].Key() < rest[j].Key() })
	var losers []*spec.Daemon
	for _, d := range rest {
		p := PreferredPort(d.Key())
		if taken[p] {
			losers = append(losers, d)
			continue
		}
		taken[p] = true
		out[d.Key()] = portAssignment{p, PortPreferred}
	}
	for _, d := range losers {
		p := PreferredPort(d.Key())
		for i := 0; i < portCount && taken[p]; i++ {
			p++
			if p > spec.MaxPort {
				p = spec.MinPort
			}
		}
		if taken[p] {
			continue // all 10,000 ports used: left without a port, reported by Compute
		}
		taken[p] = true
		out[d.Key()] = portAssignment{p, PortCollision}
	}
	return out
}
