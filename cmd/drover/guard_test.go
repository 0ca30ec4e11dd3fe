package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/lease"
	"github.com/drover-sh/drover/internal/testenv"
)

// TestRealGuardStopsSingleton: `drover guard`, run by a real supervisord as
// its program, stops the singleton its lease lists once the lease expires,
// and leaves the other programs (and itself) running.
func TestRealGuardStopsSingleton(t *testing.T) {
	testenv.RequireRoot(t)
	drover, err := exec.LookPath("drover") // this test binary, see TestMain
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	run := filepath.Join(dir, "run")
	if err := os.Mkdir(run, 0o700); err != nil {
		t.Fatal(err)
	}
	leasePath := filepath.Join(run, "lease")
	// A lease that outlasts the start of the programs, however slow the
	// machine; renewed for a short lifetime once they run.
	renew := func(lifetime time.Duration) {
		if err := lease.Write(leasePath, lease.Lease{Expires: lease.ExpiresIn(lifetime), Programs: []string{"daemon-acme-cron"}}); err != nil {
			t.Fatal(err)
		}
	}
	renew(time.Minute)
	testenv.WriteFile(t, filepath.Join(dir, "daemons.conf"), `[program:daemon-acme-cron]
command=/bin/sleep 1000
stopwaitsecs=1
[program:daemon-acme-web]
command=/bin/sleep 1000
`, 0o644)
	sv := testenv.StartSupervisord(t, filepath.Join(dir, "*.conf"))
	// The guard needs the socket's path, known once supervisord runs.
	testenv.WriteFile(t, filepath.Join(dir, "guard.conf"), fmt.Sprintf(`[program:drover-guard]
command=%s guard --lease %s --socket %s
`, drover, leasePath, sv.Socket), 0o644)
	if out, err := sv.Ctl("update"); err != nil {
		t.Fatalf("supervisorctl update: %v\n%s", err, out)
	}
	for _, p := range []string{"daemon-acme-cron", "daemon-acme-web", "drover-guard"} {
		sv.WaitRunning(t, p)
	}
	const lifetime = 3 * time.Second
	expires := time.Now().Add(lifetime)
	renew(lifetime)
	time.Sleep(time.Until(expires) - 300*time.Millisecond)
	if st := sv.Status("daemon-acme-cron"); st != "RUNNING" {
		t.Fatalf("before the expiry, daemon-acme-cron is %s", st)
	}
	// Two ticks and the stop take well under a second; the rest is room
	// for a busy machine (the time taken is logged).
	testenv.Eventually(t, 5*time.Second, "daemon-acme-cron stopped", func() bool {
		return sv.Status("daemon-acme-cron") == "STOPPED"
	})
	t.Logf("stopped %s after the expiry", time.Since(expires).Round(10*time.Millisecond))
	for _, p := range []string{"daemon-acme-web", "drover-guard"} {
		if st := sv.Status(p); st != "RUNNING" {
			log, _ := sv.Ctl("tail", "drover-guard", "stderr")
			t.Errorf("%s is %s, want RUNNING; guard's log:\n%s", p, st, log)
		}
	}
}
