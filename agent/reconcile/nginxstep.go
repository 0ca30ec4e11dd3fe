package reconcile

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/drover-sh/drover/agent/install"
	"github.com/drover-sh/drover/agent/store"
	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/render"
)

// nginxWrites is the writing of a pass's nginx files, in progress.
type nginxWrites struct {
	txn  *install.Txn
	errs []error // errs[i] for the pass's i-th nginx write
	took time.Duration
	done chan struct{}
}

// writeNginxFiles starts writing the pass's nginx files beside the
// supervisord step: a first converge writes two files per webroot of the
// shard (about 10,000, two seconds), and the supervisord step mostly waits
// for supervisord to spawn processes. nginx reads none of them before
// stepNginx tests and reloads it, and puts the old ones back on any
// failure, exactly as when they were written in that step.
func (a *Reconciler) writeNginxFiles(p *pass) *nginxWrites {
	w := &nginxWrites{txn: install.NewTxn(a.fs), done: make(chan struct{})}
	written := p.diff.writes[render.RootNginx]
	files := make([]install.Write, len(written))
	for i, wr := range written {
		files[i] = install.Write{Path: wr.path, Data: wr.file.Data, Mode: wr.file.Mode}
	}
	go func() {
		defer close(w.done)
		start := time.Now()
		w.errs = w.txn.WriteFiles(files) // all at once, the directory synced once
		w.took = time.Since(start).Round(time.Millisecond)
	}()
	return w
}

// wait returns the transaction once every file is written.
func (w *nginxWrites) wait() *install.Txn {
	<-w.done
	return w.txn
}

// stepNginx writes and removes nginx files, then tests and reloads nginx.
// On any failure it puts drover's previous files back, so nginx keeps
// serving the old configuration, and fails the daemons of the webroots
// concerned with nginx's message; the store keeps the old files.
//
// The files are written by writeNginxFiles, started before the supervisord
// step: w holds its outcome.
func (a *Reconciler) stepNginx(ctx context.Context, p *pass, w *nginxWrites) stepResult {
	var r stepResult
	failed := ""
	txn := w.wait()
	var removed []string
	written := p.diff.writes[render.RootNginx]
	for i, err := range w.errs {
		if err != nil {
			failed = fmt.Sprintf("write %s: %v", written[i].path, err)
			break
		}
	}
	if len(written) > 0 {
		r.took = map[string]time.Duration{"nginx files": w.took}
	}
	if failed == "" {
		for _, key := range p.diff.removes[render.RootNginx] {
			path, _ := a.layout.Path(key)
			if err := txn.Remove(path); err != nil {
				failed = fmt.Sprintf("remove %s: %v", path, err)
				break
			}
			removed = append(removed, key)
		}
	}
	// A repair of nginx files asked for a reload (see Repair).
	reload := a.reload.Swap(false)
	if !txn.Changed() && failed == "" && !reload {
		return r
	}
	if failed == "" {
		start := time.Now()
		if err := a.nginx.TestAndReload(ctx); err != nil {
			failed = err.Error()
		}
		r.timed("nginx", start)
	}
	if failed != "" {
		// drover's previous files back: nginx keeps serving (and a later
		// reload loads) the old configuration.
		if err := txn.Rollback(); err != nil {
			a.log.Error("roll back nginx files", "error", err)
		}
		r.fail("nginx", errors.New(failed))
		r.changef("nginx change rolled back: %s", firstLine(failed))
		for _, program := range programsOfNginxFiles(p.plan, p.diff.writes[render.RootNginx], p.diff.removes[render.RootNginx], p.installed) {
			r.failProgram(program, failed)
		}
		return r
	}
	for _, w := range written {
		r.put = append(r.put, resourceOf(w.file))
		r.changef("wrote %s", w.key)
	}
	for _, key := range removed {
		r.del = append(r.del, key)
		r.changef("removed %s", key)
	}
	r.changef("reloaded nginx")
	return r
}

// programsOfNginxFiles lists this node's proxied programs whose webroot's
// nginx files were part of a failed change, by the files' owners.
func programsOfNginxFiles(plan *netplan.NodePlan, writes []write, removes []string, installed map[string]store.Resource) []string {
	if plan == nil {
		return nil
	}
	var owners []render.Owner
	for _, w := range writes {
		owners = append(owners, w.file.Owner)
	}
	for _, key := range removes {
		owners = append(owners, installed[key].Owner)
	}
	var out []string
	for _, d := range plan.Programs {
		if d.ProxyPath != "" && slices.ContainsFunc(owners, func(o render.Owner) bool { return o.InWebroot(d.Tenant, d.Webroot) }) {
			out = append(out, d.Program)
		}
	}
	return out
}
