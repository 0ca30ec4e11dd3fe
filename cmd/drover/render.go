package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sync"

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
		flags: func(fs *flag.FlagSet) {
			fs.StringVar(&node, "node", "", "render node `NAME`")
			fs.StringVar(&out, "out", "", "write into directory `OUTDIR`")
			fs.StringVar(&agentConfig, "config", "", "read paths from agent configuration `FILE`")
		},
		run: func(env *cmdEnv, fs *flag.FlagSet, args []string) int {
			return runRender(env, fs, args, node, out, agentConfig)
		},
	})
}

func runRender(env *cmdEnv, fs *flag.FlagSet, args []string, node, out, agentConfig string) int {
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
	files := render.Node(p, ac.RenderOptions())
	if err := writeFiles(out, files); err != nil {
		fmt.Fprintf(env.stderr, "drover render: %v\n", err)
		return exitFailure
	}
	locs := 0
	for _, w := range p.Webroots {
		locs += len(w.Locations)
	}
	fmt.Fprintf(env.stdout, "Rendered node %s (shard %s) into %s: %s, %s, %s, %s.\n", node, p.Shard.Name, out,
		english.Count(len(files), "file"), english.Count(len(p.Programs), "program"), english.Count(locs, "proxied location"),
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

// writeFiles writes the rendered files below out. A node of a large
// repository has tens of thousands (one nginx file per webroot of its
// shard): creating a file waits on the file system, so several are
// written at once. The first error is returned.
func writeFiles(out string, files []render.File) error {
	paths := make([]string, len(files))
	dirs := map[string]bool{}
	for i, f := range files {
		paths[i] = filepath.Join(out, string(f.Root), filepath.FromSlash(f.Path))
		if dir := filepath.Dir(paths[i]); !dirs[dir] {
			dirs[dir] = true
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return err
			}
		}
	}
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		next  = make(chan int)
	)
	for range renderWriters {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := os.WriteFile(paths[i], files[i].Data, files[i].Mode); err != nil {
					once.Do(func() { first = err })
				}
			}
		}()
	}
	for i := range files {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

// renderWriters is how many files writeFiles writes at once.
const renderWriters = 8
