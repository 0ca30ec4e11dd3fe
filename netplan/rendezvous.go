package netplan

import (
	"math"

	"github.com/cespare/xxhash/v2"

	"github.com/drover-sh/drover/spec"
)

// Score is a node's weighted rendezvous score for a daemon key:
// -weight / ln(u), with u = ((h>>11)+0.5) / 2^53 in (0,1) and
// h = xxhash64(node + "\x00" + key). The highest score wins.
func Score(node string, weight float64, key string) float64 {
	var d xxhash.Digest
	d.Reset()
	d.WriteString(node)
	d.WriteString("\x00")
	d.WriteString(key)
	u := (float64(d.Sum64()>>11) + 0.5) / (1 << 53)
	return -weight / math.Log(u)
}

// Rendezvous picks the node for key among the shard's non-drained nodes; ties
// go to the smaller node name. It returns nil when every node is drained
// (validation rejects tenants on such shards).
func Rendezvous(nodes []*spec.Node, key string) *spec.Node { return rendezvous(nodes, key, nil) }

// rendezvous is Rendezvous leaving out, besides drained nodes, those for
// which out (when not nil) is true.
func rendezvous(nodes []*spec.Node, key string, out func(*spec.Node) bool) *spec.Node {
	var best *spec.Node
	var bestScore float64
	for _, n := range nodes {
		if n.Drain || out != nil && out(n) {
			continue
		}
		s := Score(n.Name, n.Weight, key)
		if best == nil || s > bestScore || s == bestScore && n.Name < best.Name {
			best, bestScore = n, s
		}
	}
	return best
}
