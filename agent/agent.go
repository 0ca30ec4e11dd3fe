// Package agent is the only part of drover that touches the machine: it pulls
// the config repository, keeps what it applied in bbolt, and converges
// supervisord, nginx and (through a seam) the network of one node. Every side
// effect goes through a small interface with a real implementation and a
// state-modelling fake, so the reconcile logic is tested without root.
package agent

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/agent/network"
	"github.com/drover-sh/drover/agent/nginx"
	"github.com/drover-sh/drover/agent/source"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/agent/supervisor"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
)

// Source is the config repository (agent/source.Source in production).
type Source interface {
	Head(ctx context.Context) (string, error)
	Fetch(ctx context.Context, rev string) (source.FetchResult, error)
	Files(ctx context.Context, rev, root string) (map[string]source.Blob, error)
}

// Deps are the agent's side-effect seams; New fills nil ones with the real
// implementations.
type Deps struct {
	Store      *store.Store
	Source     Source
	FS         install.FS
	Supervisor supervisor.API
	Runner     nginx.Runner
	// Network applies addresses, routes and nftables; nil means the real
	// one when the configuration has a network block, none otherwise.
	Network network.Applier
	Log     *slog.Logger
	Now     func() time.Time
	// Accounts reads the account database tenants are checked against
	// (agent/tenants.go); nil means /etc/passwd.
	Accounts func() (launch.Accounts, error)
}

// Agent converges one node.
type Agent struct {
	cfg    *config.Config
	opts   render.Options
	layout install.Layout
	log    *slog.Logger
	store  *store.Store
	src    Source
	fs     install.FS
	sup    supervisor.API
	net    network.Applier // nil without a network block
	nginx  *nginx.Nginx
	specs  *specCache
	now    func() time.Time
	// metrics is never nil; New registers it on a private registry.
	metrics *metrics
	// accounts: see Deps.Accounts and agent/tenants.go.
	accounts func() (launch.Accounts, error)

	// passMu serialises passes (Reconcile, Restore, Uninstall), network
	// calls to the source included. mu serialises what changes the node's
	// state or the store: a pass once its revision is fetched, retries,
	// event-driven status updates and network drift repair. Neither is
	// held by what must answer while a dependency hangs: the status API
	// reads the published snapshot (see snapshot.go) and file repairs take
	// only fileMu (see watch.go).
	passMu sync.Mutex
	mu     sync.Mutex
	// plan is the node plan of the revision last applied in this process
	// (nil until one is, or when restored without the revision in the Git
	// cache); the API reads it.
	plan     *netplan.NodePlan
	planRev  string
	state    nodeState
	wake     chan struct{}
	lastHead string
	// retryAt is the earliest retry time of a failed daemon (zero: none);
	// forceNext asks the next pass to compare everything again.
	retryAt   time.Time
	forceNext bool
	// nodeAttempts counts passes in a row that failed as a whole.
	nodeAttempts int
	// statusCache mirrors the store's daemon statuses (see daemonStatuses).
	statusCache map[string]store.DaemonStatus
	// events queues supervisord's process state changes for eventLoop.
	events chan localapi.Event
	// adoptOrphans is set when the store was rebuilt: the first pass takes
	// files an earlier drover wrote as its own (see adopt).
	adoptOrphans bool
	// settle is how long a pass waits for started programs to leave
	// STARTING (see settleTime); zero in the long-running agent.
	settle time.Duration
	// rollout restarts and removes programs in the background (see
	// rollout.go); roll is what the agent keeps about it.
	rollout     *supervisor.Rollout
	roll        *rolloutState
	stopRollout func()
	// reread makes the next pass ask supervisord to reread its files even
	// if drover wrote none: at start, supervisord may still run an older
	// configuration than the files (an agent stopped mid-rollout), and
	// after a repair of program files. reload makes it reload nginx after
	// a repair of nginx files.
	reread, reload atomic.Bool
	// owedSubmitted is set once the restarts the store says are owed
	// have been handed to the rollout (the first pass that reaches
	// supervisord).
	owedSubmitted bool
	// fileMu serialises file repairs with the keys of the pass in
	// progress (passKeys), which repairs leave alone.
	fileMu   sync.Mutex
	passKeys map[string]bool
	// snap is what the status API answers from; statusesChanged says its
	// statuses must be copied again at the next publish.
	snap            atomic.Pointer[snapshot]
	statusesChanged bool
	// release closes what Open opened (nil for an agent from New).
	release func()
}

// nodeState is what `drover status` reports about the node as a whole.
type nodeState struct {
	SourceError   string
	LastResult    Outcome
	LastError     string
	LastReconcile time.Time
	Rejected      string // revision of the newest rejected head, if it is the head
	RejectedDiags string
	Head          string
	NetworkError  string
	// NetworkRepairs counts network drift repairs since start.
	NetworkRepairs int
}

// New builds an agent for the configuration. The store must be open (and
// the state dir locked) by the caller.
func New(cfg *config.Config, deps Deps) *Agent {
	a := &Agent{
		cfg:    cfg,
		opts:   cfg.RenderOptions(),
		log:    deps.Log,
		store:  deps.Store,
		src:    deps.Source,
		fs:     deps.FS,
		sup:    deps.Supervisor,
		specs:  newSpecCache(),
		now:    deps.Now,
		wake:   make(chan struct{}, 1),
		events: make(chan localapi.Event, eventQueue),
	}
	a.layout = install.LayoutOf(a.opts)
	a.accounts = deps.Accounts // tenant identity check (agent/tenants.go)
	a.adoptOrphans = a.store != nil && a.store.Rebuilt()
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.fs == nil {
		a.fs = install.OS{}
	}
	if a.sup == nil {
		c := supervisor.New(cfg.Supervisor.Socket)
		c.Timeout = cfg.Supervisor.CallTimeout
		a.sup = c
	}
	if cfg.Network != nil {
		a.net = deps.Network
		if a.net == nil {
			a.net = network.NewLinux()
		}
	}
	runner := deps.Runner
	if runner == nil {
		runner = nginx.Exec{}
	}
	a.nginx = &nginx.Nginx{Runner: runner, TestCommand: cfg.Nginx.TestCommand, ReloadCommand: cfg.Nginx.ReloadCommand,
		Timeout: cfg.Nginx.CommandTimeout}
	if a.now == nil {
		a.now = time.Now
	}
	a.metrics = newMetrics()
	a.reread.Store(true)
	a.newRollout()
	a.mu.Lock()
	a.publish()
	a.mu.Unlock()
	return a
}

// Trigger asks the running loop for a reconcile as soon as possible.
func (a *Agent) Trigger() {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}
