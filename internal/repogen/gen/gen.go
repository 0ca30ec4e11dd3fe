// Package gen generates large, valid drover config repositories for
// benchmarks and load tests: a cluster, shards of nodes and one file per
// tenant, with realistic daemons. The output is a pure function of Options:
// the same options give byte-identical files, and a tenant's file depends
// only on the seed, its number and the shard layout, not on how many other
// tenants there are.
package gen

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// Options size the generated repository.
type Options struct {
	Tenants          int   // tenants, t00000 … (uid 10000+i)
	DaemonsPerTenant int   // daemons of every tenant, spread over its webroots
	Nodes            int   // nodes in total, spread evenly over the shards
	Shards           int   // shards web-1 …; tenants are assigned round-robin
	Seed             int64 // varies everything but names and counts
	// Command, when set, replaces every daemon's command: load tests that
	// start thousands of real processes use something like "sleep 100000".
	Command string
}

// Default is the size the benchmarks use: 5,000 tenants × 3 daemons on one
// shard of 5 nodes.
var Default = Options{Tenants: 5000, DaemonsPerTenant: 3, Nodes: 5, Shards: 1, Seed: 1}

// Large is the scale target: 33,334 tenants × 3 daemons (100,002) on one
// shard of 10 nodes, about 41 MiB of config files. Its benchmarks take
// seconds per run.
var Large = Options{Tenants: 33334, DaemonsPerTenant: 3, Nodes: 10, Shards: 1, Seed: 1}

// Warnings is Default with 4 daemons per tenant whose command listens on a
// fixed port: validation warns once for each of its 10,049 proxied daemons.
// NoWarnings is the same repository with the port taken from $PORT, which
// validates without a word. Benchmarks compare the two to show that what a
// run costs does not grow with the number of warnings.
var (
	Warnings   = Options{Tenants: 5000, DaemonsPerTenant: 4, Nodes: 5, Shards: 1, Seed: 1, Command: "node server.js --port 3000"}
	NoWarnings = Options{Tenants: 5000, DaemonsPerTenant: 4, Nodes: 5, Shards: 1, Seed: 1, Command: "node server.js --port $PORT"}
)

// ClusterName is the name of the generated cluster.
const ClusterName = "gen-1"

// Check reports whether the options describe a repository that can be valid.
func (o Options) Check() error {
	switch {
	case o.Tenants < 0:
		return errors.New("tenants must not be negative")
	case o.DaemonsPerTenant < 0:
		return errors.New("daemons per tenant must not be negative")
	case o.Shards < 1:
		return errors.New("at least one shard is needed")
	case o.Nodes < o.Shards:
		return fmt.Errorf("every shard needs a node: %d nodes for %d shards", o.Nodes, o.Shards)
	case o.Nodes > 65535:
		return fmt.Errorf("node indexes go up to 65535; %d nodes asked", o.Nodes)
	case o.DaemonsPerTenant > 10000:
		return fmt.Errorf("a tenant has at most 10,000 ports; %d daemons asked", o.DaemonsPerTenant)
	case uint64(o.Tenants)+10000 > 1<<32-2:
		return errors.New("too many tenants for the uid range")
	}
	return nil
}

// ShardName is the name of shard s (0-based): web-1, web-2, ...
func ShardName(s int) string { return "web-" + strconv.Itoa(s+1) }

// ShardNodes returns the node names of shard s (0-based) under o: web-1a,
// web-1b, ... while a shard has at most 26 nodes, else web-1-001, ...
func ShardNodes(o Options, s int) []string {
	n := o.Nodes / o.Shards
	if s < o.Nodes%o.Shards {
		n++
	}
	names := make([]string, n)
	for j := range names {
		if n <= 26 {
			names[j] = ShardName(s) + string(rune('a'+j))
		} else {
			names[j] = fmt.Sprintf("%s-%03d", ShardName(s), j+1)
		}
	}
	return names
}

// TenantName is the name of tenant i: t00000, t00001, ...
func TenantName(i int) string { return fmt.Sprintf("t%05d", i) }

// Generate writes the repository into dir, which must not exist or be empty
// (so no file of an earlier, larger run lingers).
func Generate(dir string, o Options) error {
	files, err := build(o)
	if err != nil {
		return err
	}
	if entries, err := os.ReadDir(dir); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty; choose a new directory or empty it first", dir)
	} else if err != nil && !os.IsNotExist(err) {
		return err
	}
	names := make([]string, 0, len(files))
	for name := range files {
		names = append(names, name)
	}
	sort.Strings(names)
	made := map[string]bool{}
	for _, name := range names {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if d := filepath.Dir(path); !made[d] {
			if err := os.MkdirAll(d, 0o755); err != nil {
				return err
			}
			made[d] = true
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	return nil
}

// Files returns the repository as file name (slash-separated, relative to
// the config root) → content. It panics when o fails Check.
func Files(o Options) map[string][]byte {
	files, err := build(o)
	if err != nil {
		panic("repogen: " + err.Error())
	}
	return files
}

func build(o Options) (map[string][]byte, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	files := make(map[string][]byte, o.Tenants+o.Shards+1)
	files["cluster.hcl"] = clusterFile(o)
	index := 1
	shards := make([][]string, o.Shards)
	for s := range shards {
		shards[s] = ShardNodes(o, s)
		var b strings.Builder
		fmt.Fprintf(&b, "# Generated by repogen (seed %d).\nshard %q {\n", o.Seed, ShardName(s))
		for _, n := range shards[s] {
			fmt.Fprintf(&b, "  node %q { index = %d }\n", n, index)
			index++
		}
		b.WriteString("}\n")
		files["shards/"+ShardName(s)+".hcl"] = []byte(b.String())
	}
	for i := 0; i < o.Tenants; i++ {
		s := i % o.Shards
		t := newTenant(o, i, ShardName(s), shards[s])
		files["tenants/"+t.Name+".hcl"] = t.hcl()
	}
	return files, nil
}

func clusterFile(o Options) []byte {
	// A tenant with one webroot has all its daemons there.
	max := 10
	if o.DaemonsPerTenant > max {
		max = o.DaemonsPerTenant
	}
	return fmt.Appendf(nil, `# Generated by repogen: %d tenants × %d daemons on %d nodes in %d shards (seed %d).
cluster %q {
  ula_prefix              = "fd00:6765::/32"
  max_daemons_per_webroot = %d
}
`, o.Tenants, o.DaemonsPerTenant, o.Nodes, o.Shards, o.Seed, ClusterName, max)
}
