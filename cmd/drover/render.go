package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/internal/english"
	"github.com/drover-sh/drover/render"
)

func init() {
	var node, out, agentConfig string
	register(&command{
		name:    "render",
		args:    "--node NAME --out OUTDIR [--config AGENT.hcl] [DIR]",
		summary: "Write the complete desired state of one node into a directory.",
		help: `OUTDIR receives the same bytes the agent would install, one subdirectory per
destination: supervisor/ (supervisor.conf_dir), nginx/ (nginx.conf_dir),
exec/ ({state_dir}/exec, mode 0600: they hold environment values) and
network/ (addresses, routes and the nftables ruleset, which the agent applies
through netlink and nftables). OUTDIR must not exist or be empty.

Paths written into the files (conf dirs, state_dir, storage_root, the drover
binary) come from the agent configuration given with --config, or the
documented defaults. --node defaults to the configuration's node.`,
		flags: func(fs *pflag.FlagSet) {
			fs.StringVar(&node, "node", "", "render node `NAME`")
			fs.StringVar(&out, "out", "", "write into directory `OUTDIR`")
			fs.StringVar(&agentConfig, "config", "", "read paths from agent configuration `FILE`")
		},
		run: func(env *cmdEnv, fs *pflag.FlagSet, args []string) int {
			return runRender(env, fs, args, node, out, agentConfig)
		},
		complete: dirArg,
		repo:     dirRepo,
	})
}

func runRender(env *cmdEnv, fs *pflag.FlagSet, args []string, node, out, agentConfig string) int {
	dir, code := configDir(env, fs, args)
	if code != exitOK {
		return code
	}
	ac := config.Default()
	if agentConfig != "" {
		c, files, diags := config.Load(agentConfig)
		printDiagnostics(env, files, diags)
		if c == nil {
			return exitFailure
		}
		ac = c
	}
	if node == "" {
		node = ac.Node
	}
	if node == "" {
		return usageError(env, fs, "--node is required (or a node in --config)")
	}
	if out == "" {
		return usageError(env, fs, "--out is required")
	}
	if err := checkEmptyDir(out); err != nil {
		fmt.Fprintf(env.stderr, "drover render: %v\n", err)
		return exitFailure
	}
	c := loadPlan(env, dir)
	if c == nil {
		return exitFailure
	}
	p, err := c.Node(node)
	if err != nil {
		fmt.Fprintf(env.stderr, "drover render: %v\n", err)
		return exitFailure
	}
	n, err := writeFiles(out, func(fn func(render.File)) { render.Each(p, ac.RenderOptions(), fn) })
	if err != nil {
		fmt.Fprintf(env.stderr, "drover render: %v\n", err)
		return exitFailure
	}
	locs := 0
	for _, w := range p.Webroots {
		locs += len(w.Locations)
	}
	fmt.Fprintf(env.stdout, "Rendered node %s (shard %s) into %s: %s, %s, %s, %s.\n", node, p.Shard.Name, out,
		english.Count(n, "file"), english.Count(len(p.Programs), "program"), english.Count(locs, "proxied location"),
		english.Count(len(p.Addresses), "tenant address"))
	return exitOK
}

// checkEmptyDir accepts a directory that does not exist or is empty, so a
// render never mixes with older output or lands among unrelated files.
func checkEmptyDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if len(entries) > 0 {
		return fmt.Errorf("output directory %s is not empty; choose a new directory or empty it first", dir)
	}
	return nil
}

// writeFiles writes the files that each makes below out and returns how
// many it wrote. A node of a large repository has tens of thousands (one
// nginx file per webroot of its shard): they are written as they are made,
// several at once (creating a file waits on the file system), and never
// held all together. The first error is returned.
func writeFiles(out string, each func(fn func(render.File))) (int, error) {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		dirs  = map[string]bool{}
		first error
		n     int
		next  = make(chan render.File, renderWriters)
	)
	fail := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if first == nil {
			first = err
		}
	}
	mkdir := func(dir string) error {
		mu.Lock()
		defer mu.Unlock()
		if dirs[dir] {
			return nil
		}
		dirs[dir] = true
		return os.MkdirAll(dir, 0o755)
	}
	for range renderWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				path := filepath.Join(out, string(f.Root), filepath.FromSlash(f.Path))
				if err := mkdir(filepath.Dir(path)); err != nil {
					fail(err)
					continue
				}
				if err := os.WriteFile(path, f.Data, f.Mode); err != nil {
					fail(err)
				}
			}
		}()
	}
	each(func(f render.File) {
		n++
		next <- f
	})
	close(next)
	wg.Wait()
	return n, first
}

// renderWriters is how many files writeFiles writes at once.
const renderWriters = 8
