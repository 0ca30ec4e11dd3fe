package render_test

import (
	"strings"
	"testing"

	"github.com/drover-sh/drover/render"
)

// guardOptions are the options of a node with a failover pool.
var guardOptions = func() render.Options {
	o := defaultNetwork
	o.Binary, o.Lease, o.SupervisorSocket = "/usr/local/bin/drover", "/run/drover/lease", "/run/supervisor.sock"
	return o
}()

func TestGuardSection(t *testing.T) {
	o := guardOptions
	o.Lease = "/run/drover/lease-100%"
	want := `[program:drover-guard]
command=/usr/local/bin/drover guard --lease /run/drover/lease-100%% --socket /run/supervisor.sock
autostart=true
autorestart=true
startsecs=0
startretries=1000000
stopsignal=TERM
stopwaitsecs=2
redirect_stderr=false
stdout_logfile=AUTO
stdout_logfile_maxbytes=1MB
stdout_logfile_backups=2
stderr_logfile=AUTO
stderr_logfile_maxbytes=1MB
stderr_logfile_backups=2
`
	if got := render.GuardSection(o); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
	defer func() {
		if recover() == nil {
			t.Error("a newline in the lease path did not panic")
		}
	}()
	o.Lease = "/run/x\n[program:evil]"
	render.GuardSection(o)
}

// TestGuardFile: a node with a pool carries drover-guard.conf, a file of
// the node as a whole that the agent recognises as its own (so it installs
// it and keeps it like the event listener's); a node without one does not.
func TestGuardFile(t *testing.T) {
	p := nodePlan(t, shardRepo, "web-1a")
	guard := func(o render.Options) *render.File {
		for _, f := range render.Node(p, o) {
			if f.Root == render.RootSupervisor && f.Path == render.GuardFile {
				return &f
			}
		}
		return nil
	}
	if f := guard(defaultNetwork); f != nil {
		t.Errorf("a node without a pool carries %s:\n%s", f.Path, f.Data)
	}
	f := guard(guardOptions)
	switch {
	case f == nil:
		t.Fatalf("a node with a pool does not carry %s", render.GuardFile)
	case string(f.Data) != render.Header+"\n"+render.GuardSection(guardOptions):
		t.Errorf("%s =\n%s", f.Path, f.Data)
	case !f.Owner.IsNode() || f.Mode != 0o644:
		t.Errorf("%s: owner %+v, mode %v; want the node's, 0644", f.Path, f.Owner, f.Mode)
	case !render.Generated(f.Root, f.Path, f.Data):
		t.Errorf("%s is not recognised as drover's", f.Path)
	case !strings.Contains(string(f.Data), "command=/usr/local/bin/drover guard --lease /run/drover/lease --socket /run/supervisor.sock\n"):
		t.Errorf("%s runs something else:\n%s", f.Path, f.Data)
	}
}
