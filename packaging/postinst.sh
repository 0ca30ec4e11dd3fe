#!/bin/sh
# drover's postinst: tell systemd about drover.service and the
# supervisor.service drop-in. A first install starts nothing (agent.hcl
# needs node and source.url first); an upgrade restarts the agent only if
# it runs. supervisord and the tenants' daemons are never restarted here:
# a new agent restarts only what its next pass changes.
set -e
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
	if [ -n "$2" ]; then
		systemctl try-restart drover.service || true
	fi
fi
exit 0
