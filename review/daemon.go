package review

import (
	"fmt"
	"sort"
	"strconv"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/secret"
	"github.com/drover-sh/drover/spec"
)

// daemonFields lists what differs between two versions of a daemon: its
// attributes by HCL name, in spec.DaemonFields order (environment keys as
// environment.KEY, values redacted; the attributes of a health block both
// have as health.NAME), then the values drover derives — uid
// (the tenant's) and, when sameNode, host (the tenant address). The
// assigned port is reported as a PortChange.
func daemonFields(b, h *netplan.Daemon, sameNode bool) []FieldChange {
	var fs []FieldChange
	str := func(field string, old, new string, oldOK, newOK bool) {
		if old == new && oldOK == newOK {
			return
		}
		fc := FieldChange{Field: field}
		if oldOK {
			fc.Old = &old
		}
		if newOK {
			fc.New = &new
		}
		fs = append(fs, fc)
	}
	for _, f := range spec.DaemonFields {
		if f.Type == spec.TypeEnvironment {
			fs = append(fs, envFields(b.Environment.Map(), h.Environment.Map())...)
			continue
		}
		if f.Type == spec.TypeHealth && b.Health != nil && h.Health != nil {
			// Both have one: the attributes that differ, as health.NAME.
			ba, ha := b.Health.Attrs(), h.Health.Attrs()
			for i := range ba {
				str(f.Name+"."+ba[i][0], ba[i][1], ha[i][1], true, true)
			}
			continue
		}
		// The attributes as written: b.Daemon.Port is the pin, b.Port
		// the port assigned.
		old, oldOK := f.Text(b.Daemon)
		new, newOK := f.Text(h.Daemon)
		str(f.Name, old, new, oldOK, newOK)
	}
	str("uid", strconv.FormatUint(uint64(b.UID), 10), strconv.FormatUint(uint64(h.UID), 10), true, true)
	if sameNode {
		str("host", b.Host.String(), h.Host.String(), true, true)
	}
	return fs
}

// envFields names the environment keys added, removed or changed. Values
// are never copied: they hold secrets (an encrypted one is marked, and
// still not copied: it is as good as the plaintext to a node that can
// open it, and says nothing to a reviewer).
func envFields(b, h map[string]string) []FieldChange {
	var keys []string
	for k := range b {
		keys = append(keys, k)
	}
	for k := range h {
		if _, ok := b[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var fs []FieldChange
	present := "(redacted)"
	for _, k := range keys {
		bv, inB := b[k]
		hv, inH := h[k]
		if inB && inH && bv == hv {
			continue
		}
		fc := FieldChange{Field: "environment." + k, Redacted: true, Encrypted: secret.IsSealed(bv) || secret.IsSealed(hv)}
		// Old and New only say whether the key exists; the value stays out.
		if inB {
			fc.Old = &present
		}
		if inH {
			fc.New = &present
		}
		fs = append(fs, fc)
	}
	return fs
}

// moveReason explains why a daemon present in both revisions changes node,
// from the two configurations: the first rule that applies wins.
func moveReason(b, h *netplan.Daemon, bcfg, hcfg *spec.Config) (MoveReason, string) {
	from, to := b.Node.Name, h.Node.Name
	switch {
	case b.Node.Shard != h.Node.Shard:
		return ReasonShard, fmt.Sprintf("tenant %s moved from shard %s to %s", h.Tenant, b.Node.Shard, h.Node.Shard)
	case h.NodeReason == netplan.NodePinned && b.NodeReason == netplan.NodePinDrained && b.Daemon.Node == h.Daemon.Node:
		return ReasonUndrain, fmt.Sprintf("pinned node %s undrained", to)
	case h.NodeReason == netplan.NodePinned && (b.NodeReason != netplan.NodePinned || b.Daemon.Node != h.Daemon.Node):
		return ReasonPin, fmt.Sprintf("pinned to %s", to)
	case b.NodeReason == netplan.NodePinned && h.NodeReason == netplan.NodePinDrained:
		return ReasonDrain, fmt.Sprintf("pinned node %s drained", from)
	case b.NodeReason == netplan.NodePinned && h.Daemon.Node == "":
		return ReasonUnpin, fmt.Sprintf("pin to %s removed", from)
	}
	hFrom := hcfg.Node(from)
	switch {
	case hFrom == nil:
		return ReasonNodeRemoved, fmt.Sprintf("node %s removed", from)
	case hFrom.Shard != b.Node.Shard:
		return ReasonNodeRemoved, fmt.Sprintf("node %s moved to shard %s", from, hFrom.Shard)
	case hFrom.Drain && !b.Node.Drain:
		return ReasonDrain, fmt.Sprintf("node %s drained", from)
	}
	bTo := bcfg.Node(to)
	switch {
	case bTo == nil || bTo.Shard != h.Node.Shard:
		return ReasonNewNode, fmt.Sprintf("new node %s", to)
	case bTo.Drain && !h.Node.Drain:
		return ReasonUndrain, fmt.Sprintf("node %s undrained", to)
	}
	// Weights: name the nodes of the shard whose weight changed.
	bs, hs := bcfg.Shard(b.Node.Shard), hcfg.Shard(h.Node.Shard)
	if bs != nil && hs != nil {
		for _, hn := range hs.Nodes {
			if bn := bs.Node(hn.Name); bn != nil && bn.Weight != hn.Weight {
				return ReasonWeight, fmt.Sprintf("weight of %s %s → %s", hn.Name, formatWeight(bn.Weight), formatWeight(hn.Weight))
			}
		}
		// A node added or removed elsewhere in the shard, or drained or
		// undrained, changes the scores too; name the first.
		for _, hn := range hs.Nodes {
			bn := bs.Node(hn.Name)
			switch {
			case bn == nil:
				return ReasonNewNode, fmt.Sprintf("new node %s", hn.Name)
			case bn.Drain != hn.Drain && hn.Drain:
				return ReasonDrain, fmt.Sprintf("node %s drained", hn.Name)
			case bn.Drain != hn.Drain:
				return ReasonUndrain, fmt.Sprintf("node %s undrained", hn.Name)
			}
		}
		for _, bn := range bs.Nodes {
			if hs.Node(bn.Name) == nil {
				return ReasonNodeRemoved, fmt.Sprintf("node %s removed", bn.Name)
			}
		}
	}
	return ReasonRendezvous, "placement changed"
}

// portChange explains a proxied daemon's new port.
func portChange(b, h *netplan.Daemon, ports map[string]map[int]string) PortChange {
	pc := PortChange{Key: h.Key, Old: b.Port, New: h.Port}
	preferred := netplan.PreferredPort(h.Key)
	switch {
	case h.PortReason == netplan.PortPinned:
		pc.Reason, pc.Detail = PortPin, fmt.Sprintf("pinned to %d", h.Port)
	case b.PortReason == netplan.PortPinned:
		pc.Reason, pc.Detail = PortUnpin, fmt.Sprintf("pin %d removed", b.Port)
		if h.PortReason == netplan.PortCollision {
			pc.Detail += fmt.Sprintf("; prefers %d, held by %s", preferred, ports[h.Tenant][preferred])
		}
	case h.PortReason == netplan.PortCollision:
		pc.Reason, pc.Detail = PortCollision, fmt.Sprintf("prefers %d, held by %s", preferred, ports[h.Tenant][preferred])
	default:
		pc.Reason, pc.Detail = PortCollisionResolved, fmt.Sprintf("preferred port %d is free again", preferred)
	}
	return pc
}
