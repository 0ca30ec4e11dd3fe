// Package agent is the only part of drover that touches the machine: it
// pulls the config repository, keeps what it applied in bbolt, and converges
// supervisord, nginx and (through a seam) the network of one node. The
// passes themselves are agent/reconcile's; this package is the loop that
// runs them and what triggers one — the poll, retry and network-check
// timers, the file watcher, supervisord's events, the local API, the
// webhook — and Open, which wires an agent from its configuration.
package agent

import (
	"context"
	"log/slog"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/reconcile"
	"github.com/drover-sh/drover/render"
)

// TestHookLoading, when not nil, is called with the revision while it is
// being loaded, the poison guard armed (reconcile.Deps.Loading). Only tests
// set it: cmd/drover's test binary kills itself there, as a hostile
// revision would. Nothing in the drover binary (flag, file, environment)
// sets it.
var TestHookLoading func(rev string)

// Agent runs the reconciler of one node on every trigger.
type Agent struct {
	cfg    *config.Config
	opts   render.Options
	layout install.Layout
	log    *slog.Logger
	// src is the reconciler's source, watched when it is a LocalSource.
	src reconcile.Source
	rec *reconcile.Reconciler
	// wake asks the loop for a pass (Trigger).
	wake chan struct{}
	// events queues supervisord's process state changes for eventLoop.
	events chan localapi.Event
	// release closes what Open opened (nil for an agent from New).
	release func()
	// live is the shard's pool and what it decides (liveness.go); nil
	// without a pool block.
	live *liveness
}

// New builds an agent for the configuration, with a reconciler on deps
// (their Trigger is the agent's). The store must be open (and the state dir
// locked) by the caller.
func New(cfg *config.Config, deps reconcile.Deps) *Agent {
	a := &Agent{
		cfg:    cfg,
		opts:   cfg.RenderOptions(),
		log:    deps.Log,
		src:    deps.Source,
		wake:   make(chan struct{}, 1),
		events: make(chan localapi.Event, eventQueue),
	}
	a.layout = install.LayoutOf(a.opts)
	if a.log == nil {
		a.log = slog.Default()
	}
	deps.Trigger = a.Trigger
	if deps.Loading == nil {
		deps.Loading = func(rev string) {
			if TestHookLoading != nil {
				TestHookLoading(rev)
			}
		}
	}
	a.rec = reconcile.New(cfg, deps)
	return a
}

// Trigger asks the running loop for a reconcile as soon as possible.
func (a *Agent) Trigger() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// Uninstall removes everything drover installed on the node: programs,
// exec specs, nginx files, memory cgroups, the nftables table and drover's
// addresses and routes (reconcile.Reconciler.Uninstall).
func (a *Agent) Uninstall(ctx context.Context) *reconcile.Result { return a.rec.Uninstall(ctx) }
