package main

import (
	"context"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/edit"
	"github.com/drover-sh/drover/spec"
)

// Shell completion: the scripts of drover completion call the hidden
// command `drover __complete ARGS... PREFIX`, which cobra answers with
// the candidates these functions offer. A completion must come at once
// and never print into the shell: every failure offers nothing, and the
// agent and the repository are each given a deadline.
const (
	// completionAgentTimeout bounds asking the running agent for its
	// daemons; without an answer the repository is read instead.
	completionAgentTimeout = time.Second
	// completionLoadTimeout bounds loading the config repository (1-2 s
	// for 15,000 daemons); past it nothing is offered.
	completionLoadTimeout = 3 * time.Second
)

// completer offers the candidates for the positional argument that
// follows args, prefix being what is typed of it.
type completer func(cc *compContext, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective)

// compContext is one completion request: the command line so far and the
// config repository it names, loaded at most once.
type compContext struct {
	cmd    *cobra.Command
	dir    string
	cfg    *spec.Config
	loaded bool
}

// flagCompleters complete flag values by flag name, in every command
// that has the flag. A flag that takes a value and is not listed offers
// nothing (no file names for --timeout).
var flagCompleters = map[string]completer{
	"node":       repoNames(nodeNames),
	"tenant":     repoNames(tenantNames),
	"shard":      repoNames(shardNames),
	"format":     words("text", "markdown", "json"),
	"log-format": words("text", "json"),
	"restart":    words(spec.RestartPolicies...),
	"unset":      words(edit.Unsettable...),
	"config":     fileExt("hcl"),
	"socket":     anyFile,
	"lease":      anyFile,
	"out":        dirs,
}

// completions sets up the shell completion of c's arguments and flags.
func (c *command) completions(cmd *cobra.Command) {
	request := func(cmd *cobra.Command, args []string) *compContext {
		cc := &compContext{cmd: cmd, dir: "."}
		if c.repo != nil {
			if d := c.repo(args); d != "" {
				cc.dir = d
			}
		}
		return cc
	}
	adapt := func(comp completer) cobra.CompletionFunc {
		return func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return comp(request(cmd, args), args, prefix)
		}
	}
	cmd.ValidArgsFunction = cobra.NoFileCompletions
	if c.complete != nil {
		cmd.ValidArgsFunction = adapt(c.complete)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.NoOptDefVal != "" { // a boolean: no value to complete
			return
		}
		comp, ok := flagCompleters[f.Name]
		if !ok {
			comp = nothing
		}
		_ = cmd.RegisterFlagCompletionFunc(f.Name, adapt(comp))
	})
}

// config is the repository's configuration; nil when it is invalid or
// could not be loaded in time.
func (cc *compContext) config() *spec.Config {
	if cc.loaded {
		return cc.cfg
	}
	cc.loaded = true
	done := make(chan *spec.Config, 1)
	go func() {
		l, err := newLoader()
		if err != nil {
			done <- nil
			return
		}
		cfg, _, _ := l.LoadDir(cc.dir)
		done <- cfg
	}()
	select {
	case cc.cfg = <-done:
	case <-time.After(completionLoadTimeout):
	}
	return cc.cfg
}

// agentDaemons are the running agent's daemons, asked through the socket
// of the command's --socket and --config flags (the defaults for a
// command without them); false when it did not answer in time.
func (cc *compContext) agentDaemons() ([]localapi.Daemon, bool) {
	flag := func(name, def string) string {
		if v, err := cc.cmd.Flags().GetString(name); err == nil {
			return v
		}
		return def
	}
	path, err := agentSocket(flag("config", defaultAgentConfig), flag("socket", ""))
	if err != nil {
		return nil, false
	}
	ctx, cancel := context.WithTimeout(context.Background(), completionAgentTimeout)
	defer cancel()
	daemons, err := localapi.NewClient(path).Daemons(ctx)
	return daemons, err == nil
}

// liveKeys completes the TENANT/WEBROOT/DAEMON of a command about a daemon
// of this node (status, retry, logs, restart): the running agent's daemons
// with their status, or the repository's daemons when no agent answers.
func liveKeys(cc *compContext, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	if daemons, ok := cc.agentDaemons(); ok {
		var keys []cobra.Completion
		for _, d := range daemons {
			if strings.HasPrefix(d.Key, prefix) {
				keys = append(keys, cobra.CompletionWithDesc(d.Key, d.Status))
			}
		}
		return keys, cobra.ShellCompDirectiveNoFileComp
	}
	return repoKeys(cc, prefix)
}

// repoKeys completes TENANT/WEBROOT/DAEMON from the repository.
func repoKeys(cc *compContext, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var keys []cobra.Completion
	eachWebroot(cc.config(), func(w *spec.Webroot) {
		for _, d := range w.Daemons {
			if key := w.Tenant + "/" + w.Name + "/" + d.Name; strings.HasPrefix(key, prefix) {
				keys = append(keys, key)
			}
		}
	})
	return keys, cobra.ShellCompDirectiveNoFileComp
}

// webrootPrefixes completes the TENANT/WEBROOT/ of a daemon to add.
func webrootPrefixes(cc *compContext, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	var out []cobra.Completion
	eachWebroot(cc.config(), func(w *spec.Webroot) {
		if p := w.Tenant + "/" + w.Name + "/"; strings.HasPrefix(p, prefix) {
			out = append(out, p)
		}
	})
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

func eachWebroot(cfg *spec.Config, f func(w *spec.Webroot)) {
	if cfg == nil {
		return
	}
	for _, t := range cfg.Tenants {
		for _, w := range t.Webroots {
			f(w)
		}
	}
}

// repoNames completes a flag's value with names the repository declares.
func repoNames(names func(cfg *spec.Config) []string) completer {
	return func(cc *compContext, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		if cfg := cc.config(); cfg != nil {
			for _, n := range names(cfg) {
				if strings.HasPrefix(n, prefix) {
					out = append(out, n)
				}
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func nodeNames(cfg *spec.Config) []string {
	var out []string
	for _, s := range cfg.Shards {
		for _, n := range s.Nodes {
			out = append(out, n.Name)
		}
	}
	return out
}

func tenantNames(cfg *spec.Config) []string {
	out := make([]string, len(cfg.Tenants))
	for i, t := range cfg.Tenants {
		out[i] = t.Name
	}
	return out
}

func shardNames(cfg *spec.Config) []string {
	out := make([]string, len(cfg.Shards))
	for i, s := range cfg.Shards {
		out[i] = s.Name
	}
	return out
}

// words completes one of a fixed list.
func words(list ...string) completer {
	return func(_ *compContext, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, w := range list {
			if strings.HasPrefix(w, prefix) {
				out = append(out, w)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// fileExt completes file names ending in one of exts (and directories).
func fileExt(exts ...string) completer {
	return func(*compContext, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return exts, cobra.ShellCompDirectiveFilterFileExt
	}
}

// anyFile leaves the completion to the shell's file names.
func anyFile(*compContext, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveDefault
}

// dirs completes directory names.
func dirs(*compContext, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}

// nothing offers no candidate, not even file names.
func nothing(*compContext, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveNoFileComp
}

// dirArg completes the optional DIR of a command whose only positional
// argument it is; its repo is dirRepo.
func dirArg(_ *compContext, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nothing(nil, args, prefix)
	}
	return dirs(nil, args, prefix)
}

// dirRepo is the repository of a command whose DIR is its only
// positional argument.
func dirRepo(args []string) string {
	if len(args) > 0 {
		return args[0]
	}
	return ""
}
