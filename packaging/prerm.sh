#!/bin/sh
# drover's prerm: on removal, stop and disable the agent. The tenants'
# daemons keep running under supervisord, nginx keeps serving drover's
# files; `drover agent --uninstall`, run before removing the package,
# is what takes them off the node.
set -e
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl stop drover.service || true
fi
if [ "$1" = remove ] && command -v systemctl >/dev/null 2>&1; then
	systemctl --no-reload disable drover.service || true
fi
exit 0
