// Package reconcile is the agent's reconciler: a pass over one node, in
// ordered steps that return typed results and typed errors, and the node
// state it keeps between passes — what it applied (in bbolt), the daemons'
// statuses and retries, the background restarts, the snapshot the local API
// answers from, the metrics — and the repairs of drift in files and network.
// It converges supervisord, nginx and (through a seam) the network; every
// side effect goes through a small interface with a real implementation and
// a state-modelling fake, so a pass is tested without root. What triggers a
// pass (the loop, its timers, the watcher, the listeners) is package agent's.
package reconcile

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"filippo.io/age"

	"github.com/drover-sh/drover/agent/config"
	"github.com/drover-sh/drover/agent/failover"
	"github.com/drover-sh/drover/agent/health"
	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/launch"
	"github.com/drover-sh/drover/agent/network"
	"github.com/drover-sh/drover/agent/nginx"
	"github.com/drover-sh/drover/agent/nodecheck"
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

// Deps are the reconciler's side-effect seams; New fills nil ones with the
// real implementations.
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
	// (tenants.go); nil means /etc/passwd.
	Accounts func() (launch.Accounts, error)
	// Trigger asks the loop that runs passes for one as soon as possible
	// (a retry asked for, a repair that left supervisord or nginx to be
	// told, a new retry time); it must not block. Nil: nobody to ask.
	Trigger func()
	// Loading, when not nil, is called with a revision while it is being
	// loaded, the poison guard armed (poison.go). Only tests set it.
	Loading func(rev string)
	// ProcRoot is where CheckNode reads the processes of nginx; ""
	// means /proc.
	ProcRoot string
	// Liveness is what the shard's pool decides now (failover.go); nil
	// without a pool: every daemon runs where it is configured.
	Liveness func() *failover.Snapshot
	// Verify checks a fetched revision against the trust policy (see
	// verify.go); nil without a trust block.
	Verify Verifier
	// Secrets is the node's age key (secrets.key_file), which opens the
	// encrypted environment values of its daemons (secrets.go); nil
	// without one.
	Secrets []age.Identity
}

// Reconciler converges one node.
type Reconciler struct {
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
	// memo, loaded and installed are what a pass reuses (reuse.go).
	memo      *render.Memo
	loaded    *loadedRev
	placed    *netplan.Cluster // of the last revision loaded, for netplan.ComputeFrom
	installed map[string]store.Resource
	// freeTimer gives memory back some time after a large pass
	// (freeLaterIfLarge).
	freeTimer *time.Timer
	now       func() time.Time
	// metrics is never nil; New registers it on a private registry.
	metrics *metrics
	// accounts: see Deps.Accounts and tenants.go; passAccounts is what
	// the pass under way read (inPass, readAccounts).
	accounts     func() (launch.Accounts, error)
	inPass       bool
	passAccounts launch.Accounts
	// secrets opens encrypted environment values (secrets.go).
	secrets *unsealer
	// trigger and loading: see Deps.
	trigger func()
	loading func(rev string)
	verify  Verifier

	// passMu serialises passes (Reconcile, Restore, Uninstall), network
	// calls to the source included. mu serialises what changes the node's
	// state or the store: a pass once its revision is fetched, retries,
	// event-driven status updates and network drift repair. Neither is
	// held by what must answer while a dependency hangs: the status API
	// reads the published snapshot (see snapshot.go) and file repairs take
	// only fileMu (see repair.go).
	passMu sync.Mutex
	mu     sync.Mutex
	// plan is the node plan of the revision last applied in this process
	// (nil until one is, or when restored without the revision in the Git
	// cache); the API reads it.
	plan     *netplan.NodePlan
	planRev  string
	state    nodeState
	lastHead string
	// retryAt is the earliest retry time of a failed daemon (zero: none);
	// forceNext asks the next pass to compare everything again.
	retryAt   time.Time
	forceNext bool
	// startAt is the earliest time a process that ended is started again
	// (starts.go; zero: none).
	startAt time.Time
	// nodeAttempts counts passes in a row that failed as a whole.
	nodeAttempts int
	// statusCache mirrors the store's daemon statuses (see daemonStatuses).
	statusCache map[string]store.DaemonStatus
	// adoptOrphans is set when the store was rebuilt: the first pass takes
	// files an earlier drover wrote as its own (see adopt).
	adoptOrphans bool
	// settle is how long a pass waits for started programs to leave
	// STARTING (see settleTime); zero in the long-running agent.
	settle time.Duration
	// rollout restarts and removes programs in the background (see
	// rollout.go); roll is what the reconciler keeps about it.
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
	// nodeConds are the conditions of the last CheckNode (nodecond.go),
	// which nodeMu serialises; procRoot is Deps.ProcRoot, nginxScan
	// what reads nginx's processes there.
	nodeConds atomic.Pointer[[]nodecheck.Condition]
	nodeMu    sync.Mutex
	procRoot  string
	nginxScan *nodecheck.Scanner

	// Failover (failover.go, singletons.go): liveness is Deps.Liveness;
	// live the decisions the node's plan was placed with and liveKey
	// their key for the stop waits of the shard's singletons (waits);
	// held the singletons the gate keeps stopped, by program, with why;
	// singletons the programs the lease names (read without a lock).
	liveness   func() *failover.Snapshot
	effective  *netplan.Cluster // a.placed with the decisions of a.live
	live       *failover.Snapshot
	liveKey    string
	waits      []int
	held       map[string]string
	singletons atomic.Pointer[[]string]

	// health probes the daemons' health checks (health.go); healthPlan
	// is the plan whose daemons it was last given.
	health     *health.Checker
	healthPlan *netplan.NodePlan
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
	// Suspension is the hold on the node, nil when it applies new
	// revisions (suspend.go); a value once set is never changed.
	Suspension *store.Suspension
}

// New builds the reconciler of the configuration and starts its background
// restarts (Close stops them). The store must be open (and the state dir
// locked) by the caller.
func New(cfg *config.Config, deps Deps) *Reconciler {
	a := &Reconciler{
		cfg:     cfg,
		opts:    cfg.RenderOptions(),
		log:     deps.Log,
		store:   deps.Store,
		src:     deps.Source,
		fs:      deps.FS,
		sup:     deps.Supervisor,
		specs:   newSpecCache(cfg.Source.MaxConfigBytes),
		secrets: &unsealer{ids: deps.Secrets},
		now:     deps.Now,
	}
	a.layout = install.LayoutOf(a.opts)
	a.memo = render.NewMemo(a.opts)
	a.accounts = deps.Accounts // tenant identity check (tenants.go)
	a.trigger, a.loading, a.verify = deps.Trigger, deps.Loading, deps.Verify
	a.procRoot = deps.ProcRoot
	a.liveness = deps.Liveness
	if a.procRoot == "" {
		a.procRoot = "/proc"
	}
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
	a.loadSuspension()
	a.reread.Store(true)
	a.newRollout()
	a.newHealth()
	a.mu.Lock()
	a.publish()
	a.mu.Unlock()
	return a
}

// Close stops the background restarts, and the giving back of memory a
// large pass scheduled (memory.go): the store is closed next, and the
// pending timer would keep the whole reconciler alive until it fired.
func (a *Reconciler) Close() {
	a.stopRollout()
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.freeTimer != nil {
		a.freeTimer.Stop()
	}
}

// WaitForStarts makes every later pass wait, up to settleTime, for the
// programs it started to leave STARTING, so it reports their final state
// (`drover agent --once`, which has no event listener to learn it later).
// Call it before the first pass.
func (a *Reconciler) WaitForStarts() { a.settle = settleTime }

// wake asks the loop for a pass (Deps.Trigger).
func (a *Reconciler) wake() {
	if a.trigger != nil {
		a.trigger()
	}
}
