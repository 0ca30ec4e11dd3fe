package render

import (
	"strings"
	"testing"

	"github.com/drover-sh/drover/netplan"
	"github.com/drover-sh/drover/spec"
)

func TestListenerSection(t *testing.T) {
	got := ListenerSection("drover-events", "/usr/bin/drover events --rate 100%")
	want := `[eventlistener:drover-events]
command=/usr/bin/drover events --rate 100%%
events=PROCESS_STATE
buffer_size=16384
autostart=true
autorestart=true
redirect_stderr=false
stdout_logfile=NONE
stderr_logfile=AUTO
stderr_logfile_maxbytes=1MB
stderr_logfile_backups=2
`
	if got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}

// TestProgramSectionSingleton: supervisord never starts a singleton by
// itself, enabled or not; the agent does. Other programs start as enabled
// says.
func TestProgramSectionSingleton(t *testing.T) {
	for _, c := range []struct {
		enabled, singleton bool
		autostart          string
	}{
		{true, false, "autostart=true\n"},
		{false, false, "autostart=false\n"},
		{true, true, "autostart=false\n"},
		{false, true, "autostart=false\n"},
	} {
		d := &netplan.Daemon{Daemon: &spec.Daemon{Tenant: "acme", Webroot: "main", Name: "cron", NumProcs: 1,
			StopSignal: "TERM", StopWaitSecs: 30, Enabled: c.enabled, Singleton: c.singleton}, Program: "daemon-acme-cron"}
		if got := ProgramSection(d, Options{}); !strings.Contains(got, "\n"+c.autostart) {
			t.Errorf("enabled %v, singleton %v:\n%s\nwant %s", c.enabled, c.singleton, got, c.autostart)
		}
	}
}

// The exec wrapper is exec_binary when it is set, the drover binary
// otherwise; the event listener and the guard always run the drover binary.
func TestExecBinary(t *testing.T) {
	d := &netplan.Daemon{Daemon: &spec.Daemon{Tenant: "acme", Webroot: "main", Name: "ws", NumProcs: 1,
		StopSignal: "TERM", StopWaitSecs: 30, Enabled: true}, Program: "daemon-acme-ws"}
	o := Options{StateDir: "/var/lib/drover", Binary: "/usr/local/bin/drover", APISocket: "/run/drover/agent.sock",
		Lease: "/run/drover/lease", SupervisorSocket: "/run/supervisor.sock"}
	if got := ProgramSection(d, o); !strings.Contains(got, "\ncommand=/usr/local/bin/drover exec /var/lib/drover/exec/daemon-acme-ws.json\n") {
		t.Errorf("without exec_binary:\n%s", got)
	}
	o.ExecBinary = "/usr/local/bin/drover-exec"
	if got := ProgramSection(d, o); !strings.Contains(got, "\ncommand=/usr/local/bin/drover-exec exec /var/lib/drover/exec/daemon-acme-ws.json\n") {
		t.Errorf("with exec_binary:\n%s", got)
	}
	for _, s := range []string{EventListenerSection(o), GuardSection(o)} {
		if strings.Contains(s, "drover-exec") || !strings.Contains(s, "command=/usr/local/bin/drover ") {
			t.Errorf("a section of drover's own runs the exec wrapper:\n%s", s)
		}
	}
}

// Every daemon's stdout and stderr go to rotated log files of bounded
// size, so a chatty daemon cannot fill the disk.
func TestProgramSectionLogBounds(t *testing.T) {
	d := &netplan.Daemon{Daemon: &spec.Daemon{Tenant: "acme", Webroot: "main", Name: "ws", NumProcs: 2,
		StopSignal: "TERM", StopWaitSecs: 30, Enabled: true}, Program: "daemon-acme-ws"}
	got := ProgramSection(d, Options{})
	for _, want := range []string{
		"\nredirect_stderr=false\n",
		"\nstdout_logfile=AUTO\nstdout_logfile_maxbytes=10MB\nstdout_logfile_backups=3\n",
		"\nstderr_logfile=AUTO\nstderr_logfile_maxbytes=10MB\nstderr_logfile_backups=3\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("program section:\n%s\nwant %q", got, want)
		}
	}
}
