package main

import (
	"fmt"

	"github.com/drover-sh/drover/agent/localapi"
	"github.com/drover-sh/drover/internal/english"
)

// statusHealthHelp is the part of drover status's help about health
// checks.
const statusHealthHelp = `HEALTH is what the agent's probes of a daemon's health block say: healthy,
unhealthy N/M (N failed probes in a row; the daemon is restarted at M),
"not checked" (it does not run, or its first probe has not come yet), or
- without a health block. An unhealthy daemon's REASON is the failed
probe's, and when the backoff holds its restart, when the next may come.`

// healthColumn is a daemon's HEALTH in the list.
func healthColumn(d localapi.Daemon) string {
	h := d.Health
	switch {
	case h == nil:
		return "-"
	case h.Status == localapi.HealthUnhealthy:
		return fmt.Sprintf("unhealthy %d/%d", h.FailuresInARow, h.Failures)
	}
	return h.Status
}

// healthReason is what the list's REASON says of an unhealthy daemon:
// the failed probe and the restart the backoff holds; "" otherwise.
func healthReason(d localapi.Daemon) string {
	h := d.Health
	if h == nil || h.Status != localapi.HealthUnhealthy {
		return ""
	}
	s := "health: " + h.Reason // escaped with the rest of REASON
	if h.NextRestart != nil && h.FailuresInARow >= h.Failures {
		s += " (restart held until " + when(*h.NextRestart) + ")"
	}
	return s
}

// healthLines are drover status KEY's lines about the daemon's health
// check; none without one.
func healthLines(d localapi.Daemon) [][2]string {
	h := d.Health
	if h == nil {
		return nil
	}
	status := h.Status
	if h.Since != nil {
		status += " since " + when(*h.Since)
	}
	if h.Status == localapi.HealthUnhealthy {
		status += fmt.Sprintf(": %s (%d of %d failures in a row)", safeText(h.Reason), h.FailuresInARow, h.Failures)
	}
	lines := [][2]string{
		{"health", status},
		{"probe", fmt.Sprintf("GET %s every %s (timeout %s, restart after %d failures in a row, start period %s)",
			h.Path, h.Interval, h.Timeout, h.Failures, h.StartPeriod)},
	}
	if h.LastProbe != nil {
		lines = append(lines, [2]string{"last probe", when(*h.LastProbe)})
	}
	if h.Restarts > 0 {
		backoff := english.Count(h.Restarts, "health restart") + " in a row"
		if h.NextRestart != nil {
			backoff += ", the next not before " + when(*h.NextRestart)
		}
		lines = append(lines, [2]string{"backoff", backoff})
	}
	return lines
}
