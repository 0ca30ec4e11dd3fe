// Command repogen writes a large, valid drover config repository, for
// benchmarks and load tests:
//
//	go run ./internal/repogen -out /tmp/big -tenants 5000 -daemons 3 -nodes 5
//
// The output is deterministic for a given set of flags; see package gen.
package main

import (
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/drover-sh/drover/internal/repogen/gen"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("repogen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	o := gen.Default
	out := fs.String("out", "", "write the repository into `DIR` (must not exist or be empty)")
	fs.IntVar(&o.Tenants, "tenants", o.Tenants, "number of tenants")
	fs.IntVar(&o.DaemonsPerTenant, "daemons", o.DaemonsPerTenant, "daemons per tenant")
	fs.IntVar(&o.Nodes, "nodes", o.Nodes, "number of nodes, spread over the shards")
	fs.IntVar(&o.Shards, "shards", o.Shards, "number of shards")
	fs.Int64Var(&o.Seed, "seed", o.Seed, "random seed")
	fs.StringVar(&o.Command, "command", "", "replace every daemon's command with `CMD` (load tests)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *out == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: repogen -out DIR [-tenants N] [-daemons N] [-nodes N] [-shards N] [-seed N]")
		return 2
	}
	if err := gen.Generate(*out, o); err != nil {
		fmt.Fprintf(stderr, "repogen: %v\n", err)
		return 1
	}
	fmt.Fprintf(stdout, "Wrote %d tenants × %d daemons on %d nodes in %d shards (seed %d) to %s.\n",
		o.Tenants, o.DaemonsPerTenant, o.Nodes, o.Shards, o.Seed, *out)
	return 0
}
