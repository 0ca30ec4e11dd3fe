package render

import "testing"

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
