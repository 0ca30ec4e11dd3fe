package agent

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/drover-sh/drover/agent/lease"
	"github.com/drover-sh/drover/agent/supervisor"
)

// `drover guard` runs under supervisord, next to the daemons, as
// [program:drover-guard]. It stops the node's singleton programs when the
// lease the agent keeps renewing while the node holds quorum lapses: the
// agent stops them itself when it loses quorum, but the guard still does
// when the agent is dead or hung. It never starts anything.

// Guard timing: how often the guard reads the lease, and the deadline of
// each call to supervisord (a slow supervisord delays the guard by at most
// this, then the stop is tried again).
const (
	GuardTick        = 250 * time.Millisecond
	guardCallTimeout = 2 * time.Second
)

// Guard watches the lease at leasePath and stops, through the supervisord at
// socket, the programs of the last lease it read once that lease has
// expired or the file is missing or unreadable. It returns when ctx ends
// (SIGTERM); a bad lease never ends it.
func Guard(ctx context.Context, leasePath, socket string, log *slog.Logger) error {
	c := supervisor.New(socket)
	c.Timeout = guardCallTimeout
	g := &guard{path: leasePath, sup: c, log: log, now: lease.Now}
	g.run(ctx, GuardTick)
	return nil
}

// stopper is the part of supervisord the guard uses.
type stopper interface {
	StopNoWait(ctx context.Context, groups []string) ([][]string, []error)
}

// guard is the guard's state between ticks.
type guard struct {
	path string
	sup  stopper
	log  *slog.Logger
	now  func() int64 // CLOCK_BOOTTIME ns

	// programs are those of the last lease read.
	programs []string
	// lapsed is set from the tick that found the lease lapsed until one
	// finds it valid again; pending are the programs still to stop in this
	// lapse (their stop failed so far).
	lapsed  bool
	pending []string
	// lastErr is the last stop failure logged, so a supervisord that stays
	// away is not logged four times a second.
	lastErr string
}

func (g *guard) run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		g.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// tick reads the lease once and, when it has lapsed, stops what is left to
// stop.
func (g *guard) tick(ctx context.Context) {
	l, err := lease.Read(g.path)
	if err == nil {
		g.programs = l.Programs
		if l.Valid(g.now()) {
			if g.lapsed {
				g.log.Info("lease renewed: singleton programs may run again", "lease", g.path, "programs", l.Programs)
			}
			g.lapsed, g.pending, g.lastErr = false, nil, ""
			return
		}
		err = errors.New("expired")
	}
	if !g.lapsed {
		g.lapsed = true
		g.pending = slices.Clone(g.programs)
		g.log.Warn("lease lapsed: stopping the singleton programs of the last lease", "lease", g.path, "reason", err.Error(), "programs", g.pending)
	}
	if len(g.pending) > 0 {
		g.pending = g.stop(ctx, g.pending)
	}
}

// stop stops each program without waiting for it (supervisord sends the
// stop signal, then SIGKILL after stopwaitsecs) and returns those whose stop
// failed. A program that is not running, or that supervisord does not know,
// is done.
func (g *guard) stop(ctx context.Context, programs []string) []string {
	ctx, cancel := context.WithTimeout(ctx, guardCallTimeout)
	defer cancel()
	procs, errs := g.sup.StopNoWait(ctx, programs)
	var failed []string
	for i, err := range errs {
		switch {
		case err == nil:
			if len(procs[i]) > 0 {
				g.log.Warn("stopped singleton program", "program", programs[i], "processes", procs[i])
			}
		case supervisor.IsFault(err, supervisor.FaultBadName), supervisor.IsFault(err, supervisor.FaultNotRunning):
		default:
			failed = append(failed, programs[i])
			if msg := err.Error(); msg != g.lastErr {
				g.lastErr = msg
				g.log.Error("stopping singleton program; trying again", "program", programs[i], "err", err)
			}
		}
	}
	return failed
}
