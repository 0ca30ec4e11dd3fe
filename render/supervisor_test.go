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
