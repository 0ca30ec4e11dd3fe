package spec

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"

	"github.com/drover-sh/drover/secret"
)

// Sealed environment values (secret package, design.md §2.14) are checked
// in two steps, without any private key: their form and tenant as the file
// is decoded (checkSealedForm), and, in Build, that they were encrypted
// for the current node keys of the tenant's shard (checkSealedShard).

// sealedEnv is a sealed environment value of a daemon, kept for Build.
type sealedEnv struct {
	key string
	rng span
}

// encryptHint is how to make a value anew.
func encryptHint(shard, tenant string) string {
	return fmt.Sprintf("Encrypt the value again: drover secret encrypt --shard %s --tenant %s < FILE (the value is read from standard input).", shard, tenant)
}

// checkSealedForm checks a value that starts with secret.Prefix: a sealed
// value in good form, for the daemon's tenant.
func checkSealedForm(tenant, key, value string, rng hcl.Range) hcl.Diagnostics {
	v, err := secret.Parse(value)
	if err != nil {
		return hcl.Diagnostics{errorAt(rng, "Invalid encrypted value",
			"The value of %s starts with %q, which marks an encrypted value, but it %v. Paste the whole line drover secret encrypt printed; a plain value cannot start with %q.", key, secret.Prefix, err, secret.Prefix)}
	}
	if v.Tenant != tenant {
		return hcl.Diagnostics{errorAt(rng, "Encrypted for another tenant",
			"The value of %s was encrypted for tenant %q; the node would refuse it for tenant %q. %s", key, v.Tenant, tenant, encryptHint(v.Shard, tenant))}
	}
	return nil
}

// shardKeys is what a shard's nodes can decrypt: the digest of their
// recipients, how many there are, and the nodes without one.
type shardKeys struct {
	digest  string
	count   int
	missing []string
	nodes   string
}

func keysOf(s *Shard) shardKeys {
	var k shardKeys
	var rs, names []string
	for _, n := range s.Nodes {
		names = append(names, n.Name)
		if n.AgeRecipient == "" {
			k.missing = append(k.missing, n.Name)
			continue
		}
		rs = append(rs, n.AgeRecipient)
	}
	k.digest = secret.Digest(rs)
	k.count = len(uniq(rs))
	k.nodes = strings.Join(names, ", ")
	return k
}

// checkSealedShard checks a sealed value (in good form) against the
// tenant's shard: every node has a key, and the value was encrypted to
// exactly those keys.
func (b *builder) checkSealedShard(shard *Shard, tenant, key, value string, rng hcl.Range) hcl.Diagnostics {
	if shard == nil {
		return nil // reported with the tenant
	}
	v, err := secret.Parse(value)
	if err != nil {
		return nil // reported with the file
	}
	if v.Shard != shard.Name {
		return hcl.Diagnostics{errorAt(rng, "Encrypted for another shard",
			"The value of %s was encrypted for shard %q, but tenant %q runs on shard %q, whose nodes cannot decrypt it. %s", key, v.Shard, tenant, shard.Name, encryptHint(shard.Name, tenant))}
	}
	if b.shardKeys == nil {
		b.shardKeys = map[*Shard]shardKeys{}
	}
	k, ok := b.shardKeys[shard]
	if !ok {
		k = keysOf(shard)
		b.shardKeys[shard] = k
	}
	if len(k.missing) > 0 {
		which := "node " + k.missing[0] + " of shard %q has"
		if len(k.missing) > 1 {
			which = "nodes " + strings.Join(k.missing, ", ") + " of shard %q have"
		}
		return hcl.Diagnostics{errorAt(rng, "Node without an age recipient",
			"The value of %s is encrypted, but "+which+" no age_recipient, so the daemon could not run there. Give every node of the shard a key (drover secret keygen) and its age_recipient, then encrypt the value again.", key, shard.Name)}
	}
	if v.Recipients != k.digest || v.Stanzas != k.count {
		return hcl.Diagnostics{errorAt(rng, "Encrypted for other node keys",
			"The value of %s was encrypted for %d recipients with digest %s, but the nodes of shard %q (%s) now have %d with digest %s: a node was added, removed or given a new key since. %s", key, v.Stanzas, v.Recipients, shard.Name, k.nodes, k.count, k.digest, encryptHint(shard.Name, tenant))}
	}
	return nil
}

func uniq(s []string) map[string]bool {
	m := map[string]bool{}
	for _, x := range s {
		m[x] = true
	}
	return m
}

// Keys is what encrypting a value needs of a configuration, read from its
// files even when they do not form a valid one (encrypting a value again
// is how an outdated one is fixed): the nodes of each shard with their
// age recipients ("" for none), and each tenant's shard. The first
// declaration of a name counts.
type Keys struct {
	Shards  map[string][]NodeKey // by shard name, nodes in block order
	Tenants map[string]string    // shard by tenant name
}

// NodeKey is a node and its age recipient.
type NodeKey struct {
	Node, Recipient string
}

// KeysOf reads Keys from parsed files.
func KeysOf(files []*File) Keys {
	k := Keys{Shards: map[string][]NodeKey{}, Tenants: map[string]string{}}
	for _, f := range files {
		for _, s := range f.raw.Shards {
			if _, ok := k.Shards[s.Name]; ok {
				continue
			}
			nodes := []NodeKey{}
			for _, n := range s.Nodes {
				nk := NodeKey{Node: n.Name}
				if n.AgeRecipient != nil {
					nk.Recipient = *n.AgeRecipient
				}
				nodes = append(nodes, nk)
			}
			k.Shards[s.Name] = nodes
		}
		for _, t := range f.raw.Tenants {
			if _, ok := k.Tenants[t.Name]; !ok {
				k.Tenants[t.Name] = t.Shard
			}
		}
	}
	return k
}
