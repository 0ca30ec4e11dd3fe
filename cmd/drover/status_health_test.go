package main

import (
	"strings"
	"testing"
	"time"

	"github.com/drover-sh/drover/agent/localapi"
)

// TestStatusHealth: the list's HEALTH column says what the probes say
// (unhealthy with its failures in a row), REASON the failed probe and the
// restart the backoff holds; drover status KEY prints the check, the last
// probe and the backoff. The daemon's answer is the tenant's: escape
// sequences and bidirectional overrides are escaped, not printed.
func TestStatusHealth(t *testing.T) {
	at := time.Date(2026, 11, 26, 10, 0, 0, 0, time.UTC)
	hc := func(status string) *localapi.Health {
		return &localapi.Health{Path: "/healthz", Interval: "10s", Timeout: "2s", Failures: 3, StartPeriod: "0s", Status: status}
	}
	sick := hc(localapi.HealthUnhealthy)
	sick.Reason, sick.FailuresInARow, sick.Since, sick.LastProbe = "HTTP 500: \x1b[2Jdown \u202eevil", 3, &at, &at
	sick.Restarts, sick.NextRestart = 2, new(at.Add(2*time.Minute))
	daemons := []localapi.Daemon{
		{Key: "acme/main/api", Status: "running", PIDs: []int{7}, Health: hc(localapi.HealthHealthy)},
		{Key: "acme/main/queue", Status: "running", PIDs: []int{8}},
		{Key: "acme/main/slow", Status: "provisioning", PIDs: []int{}, Health: hc(localapi.HealthNotChecked)},
		{Key: "acme/main/web", Status: "running", PIDs: []int{9}, Health: sick},
	}
	c := serveStatus(t, localapi.Status{Node: "n1"}, daemons)
	var out, errOut strings.Builder
	env := &cmdEnv{stdout: &out, stderr: &errOut}
	if code := runStatus(env, c, false); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"DAEMON           STATUS        HEALTH         PIDS",
		"acme/main/api    running       healthy        7",
		"acme/main/queue  running       -              8",
		"acme/main/slow   provisioning  not checked    -",
		"acme/main/web    running       unhealthy 3/3  9",
		`health: HTTP 500: \x1b[2Jdown \u202eevil (restart held until ` + when(at.Add(2*time.Minute)) + ")",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("drover status printed\n%s\nwant a line with\n%s", out.String(), want)
		}
	}
	if strings.ContainsAny(out.String(), "\x1b\u202e") {
		t.Errorf("the tenant's control characters reached the terminal:\n%q", out.String())
	}

	out.Reset()
	fs := lookup("status").cobra(&cmdEnv{}).Flags()
	if code := runStatusDaemon(env, fs, c, "acme/main/web", false); code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{
		"health:      unhealthy since " + when(at) + `: HTTP 500: \x1b[2Jdown \u202eevil (3 of 3 failures in a row)` + "\n",
		"probe:       GET /healthz every 10s (timeout 2s, restart after 3 failures in a row, start period 0s)\n",
		"last probe:  " + when(at) + "\n",
		"backoff:     2 health restarts in a row, the next not before " + when(at.Add(2*time.Minute)) + "\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("drover status acme/main/web printed\n%s\nwant\n%s", out.String(), want)
		}
	}
	if strings.ContainsAny(out.String(), "\x1b\u202e") {
		t.Errorf("the tenant's control characters reached the terminal:\n%q", out.String())
	}
}
