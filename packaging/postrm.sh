#!/bin/sh
# drover's postrm: on purge, delete the agent's state (a cache of what Git
# holds: the store, the Git cache, the exec specs). dpkg deletes
# /etc/drover/agent.hcl; keys the operator put in /etc/drover stay.
set -e
if [ "$1" = purge ]; then
	rm -rf /var/lib/drover
fi
if { [ "$1" = remove ] || [ "$1" = purge ]; } && [ -d /run/systemd/system ]; then
	systemctl daemon-reload || true
fi
exit 0
