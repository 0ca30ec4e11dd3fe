#!/usr/bin/env bash
# Measures the agent at scale on this machine (root): the 15,000-daemon
# generated repository, about 3,000 of them placed on the measured node, all
# started for real (sleep) by a private supervisord. Prints supervisord's own
# reloadConfig time next to drover's end-to-end time for one changed daemon,
# the agent's RSS and its CPU use at idle. Everything is private and removed
# at the end; nothing of the machine's own services is touched. Last, a
# change to every daemon of the node: time until all run again, the longest
# downtime of one, and supervisord's own cold start of the same programs.
#   scripts/agent-load.sh [TENANTS] [DAEMONS_PER_TENANT] [NODES]
# NODES (default 5) is the size of the one shard: the measured node runs
# about 1/NODES of the daemons, and carries every tenant's address and
# nginx files (33334 3 10: 100,000 daemons, some 10,000 on the node).
# DROVER_BIN=path measures that binary instead of building this tree's.
# ONE_CHANGE_ONLY=1 stops after the one changed daemon (restarting every
# program of a 10,000-program node takes long).
set -euo pipefail
# The agent runs a tenant's daemons only as a local user carrying the
# tenant's name: the script runs in a private mount namespace whose
# /etc/passwd adds the generated tenants (t{i}, uid 10000+i), so the
# machine's own accounts are not touched.
if [ -z "${DROVER_LOAD_NS:-}" ]; then
  exec env DROVER_LOAD_NS=1 unshare --mount --propagation private "$0" "$@"
fi
top=$(cd "$(dirname "$0")/.." && pwd)
tenants=${1:-5000}
per=${2:-3}
nodes=${3:-5}
node=web-1a
work=$(mktemp -d /tmp/drover-load.XXXXXX)
chmod 755 "$work"
drover=$work/drover
agent_pid=
cleanup() {
  status=$?
  if [ "$status" -ne 0 ] && [ -f "$work/agent.log" ]; then
    echo "FAILED (exit $status); agent log:"; grep -v '^gc ' "$work/agent.log" | tail -n 20 | cut -c1-300
  fi
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
  if [ -s "$work/supervisord.pid" ]; then
    svpid=$(cat "$work/supervisord.pid")
    kill "$svpid" 2>/dev/null || true
    # supervisord stops its 3,000 processes before it exits.
    for _ in $(seq 600); do kill -0 "$svpid" 2>/dev/null || break; sleep 0.2; done
  fi
  rmdir /sys/fs/cgroup/memory/drover/daemon-t* /sys/fs/cgroup/drover/daemon-t* 2>/dev/null || true
  umount /etc/passwd 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
{ cat /etc/passwd; for ((i = 0; i < tenants; i++)); do printf 't%05d:x:%d:%d:::/bin/sh\n' "$i" $((10000 + i)) $((10000 + i)); done; } >"$work/passwd"
mount --bind "$work/passwd" /etc/passwd
ms() { date +%s%3N; }

if [ -n "${DROVER_BIN:-}" ]; then cp "$DROVER_BIN" "$drover"; else (cd "$top" && go build -o "$drover" ./cmd/drover); fi
(cd "$top" && go run ./internal/repogen -out "$work/repo" \
  -tenants "$tenants" -daemons "$per" -nodes "$nodes" -command "sleep 100000 # \$PORT") >/dev/null
git -C "$work/repo" init -q -b main
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=load -c user.email=load@example.com commit -q -m load
mkdir -p "$work/etc/supervisor" "$work/etc/nginx" "$work/logs" "$work/storage"
# Every webroot directory the node's daemons run in.
"$drover" render --node "$node" --out "$work/r" "$work/repo" >/dev/null 2>&1
grep -ho '"dir": "[^"]*"' "$work/r/exec/"*.json | cut -d'"' -f4 | sed "s#^/var/www/storage#$work/storage#" | sort -u | xargs mkdir -p
programs=$(ls "$work/r/exec" | wc -l)
rm -rf "$work/r"

cat >"$work/agent.hcl" <<CFG
node = "$node"
state_dir = "$work/state"
storage_root = "$work/storage"
binary = "$drover"
source {
  url = "$work/repo"
  poll_interval = "1h"
}
supervisor {
  conf_dir = "$work/etc/supervisor"
  socket = "$work/supervisor.sock"
}
nginx {
  conf_dir = "$work/etc/nginx"
  test_command = ["true"]
  reload_command = ["true"]
}
api {
  socket = "$work/agent.sock"
  metrics_listen = ""
}
CFG
cat >"$work/supervisord.conf" <<CFG
[unix_http_server]
file=$work/supervisor.sock
[supervisord]
logfile=$work/supervisord.log
pidfile=$work/supervisord.pid
childlogdir=$work/logs
minfds=4096
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://$work/supervisor.sock
[include]
files = $work/etc/supervisor/*.conf
CFG
# supervisord keeps two pipes and two log files open per process: 10,000
# programs need more than the usual 20,000 descriptors.
ulimit -Hn 1048576 2>/dev/null || true
ulimit -n "$(ulimit -Hn)"
supervisord -c "$work/supervisord.conf"
for _ in $(seq 100); do supervisorctl -c "$work/supervisord.conf" pid >/dev/null 2>&1 && break; sleep 0.1; done

echo "node $node: $programs programs of $((tenants * per)) daemons"
t0=$(ms); "$drover" agent --config "$work/agent.hcl" --once >/dev/null 2>"$work/once.log" || true; t1=$(ms)
echo "first converge (--once, all programs added and started): $((t1 - t0)) ms"

t0=$(ms); supervisorctl -c "$work/supervisord.conf" reread >/dev/null; t1=$(ms)
echo "floor: supervisord reloadConfig (supervisorctl reread, nothing changed): $((t1 - t0)) ms"

GODEBUG=gctrace=1 "$drover" agent --config "$work/agent.hcl" >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do [ -S "$work/agent.sock" ] && break; sleep 0.1; done
sleep 3
rss=$(awk '/VmRSS/ {print $2}' /proc/$agent_pid/status)
echo "agent RSS after start: $((rss / 1024)) MB"
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$agent_pid/stat)
sleep 10
read -r u2 s2 < <(awk '{print $14, $15}' /proc/$agent_pid/stat)
echo "agent CPU at idle: $(( (u2 + s2 - u1 - s1) * 10 )) ms over 10 s"

# One changed daemon: a section change (stop_wait_secs), so supervisord must
# reload its configuration and replace the group.
prog=$(find "$work/state/exec" -name '*.json' -printf '%f\n' | sort | sed -n '1s/\.json$//p')
tenant=$(echo "$prog" | sed 's/^daemon-\(t[0-9]*\)-.*/\1/'); daemon=${prog#daemon-$tenant-}
file=$work/repo/tenants/$tenant.hcl
before=$(supervisorctl -c "$work/supervisord.conf" pid "$prog" 2>/dev/null | head -n1 || true)
python3 - "$file" "$daemon" <<'PY'
import re, sys
path, name = sys.argv[1], sys.argv[2]
s = open(path).read()
i = s.index('daemon "%s"' % name)
j = s.index('{', i) + 1
s = s[:j] + '\n      stop_wait_secs = 7' + s[j:]
open(path, 'w').write(s)
PY
t0=$(ms)
git -C "$work/repo" -c user.name=load -c user.email=load@example.com commit -q -am "change $prog"
for _ in $(seq 1200); do
  grep -q "spawned: '$prog' with pid" <(tail -n 50 "$work/supervisord.log") && break
  sleep 0.05
done
spawned=$(grep "spawned: '$prog' with pid" "$work/supervisord.log" | tail -n1 | cut -c1-23)
t1=$(date -d "${spawned/,/.}" +%s%3N)
echo "one changed daemon ($prog), commit -> new process spawned (supervisord's log): $((t1 - t0)) ms"
sleep 3
grep -E 'msg=reconciled' "$work/agent.log" | tail -n1
rss=$(awk '/VmRSS/ {print $2}' /proc/$agent_pid/status)
echo "agent RSS after the change: $((rss / 1024)) MB"
grep -v '^gc ' "$work/agent.log" | cut -c1-220 | tail -n 8
grep '^gc ' "$work/agent.log" | tail -n 2
[ -z "${ONE_CHANGE_ONLY:-}" ] || exit 0

# Every daemon changes (its command, as when a shared value changes): from
# the commit until every program of the node runs again with a new pid.
sed -i 's/sleep 100000 #/sleep 100001 #/' "$work"/repo/tenants/*.hcl
/usr/bin/python3 "$top/scripts/restart-sampler.py" "$work/supervisor.sock" "$work/supervisord.log" 7200 >"$work/sampler.out" &
sampler=$!
sleep 2
git -C "$work/repo" -c user.name=load -c user.email=load@example.com commit -q -am "change every daemon"
wait "$sampler"
echo "every daemon changed: $(cat "$work/sampler.out")"
grep -E 'msg="restarts done"' "$work/agent.log" | tail -n1 | cut -c1-220 || true
rss=$(awk '/VmRSS/ {print $2}' /proc/$agent_pid/status)
echo "agent RSS after restarting every program: $((rss / 1024)) MB"

# supervisord's own cold start of the same programs, for comparison.
kill "$agent_pid"; wait "$agent_pid" 2>/dev/null || true; agent_pid=
svpid=$(cat "$work/supervisord.pid"); kill "$svpid"
for _ in $(seq 1200); do kill -0 "$svpid" 2>/dev/null || break; sleep 0.2; done
t0=$(ms)
supervisord -c "$work/supervisord.conf"
/usr/bin/python3 - "$work/supervisor.sock" "$programs" <<'PY'
import sys, time, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=SupervisorTransport(None, None, "unix://" + sys.argv[1]))
while True:
    try:
        n = sum(p["statename"] == "RUNNING" for p in rpc.supervisor.getAllProcessInfo() if p["group"].startswith("daemon-"))
        if n >= int(sys.argv[2]):
            break
    except Exception:
        pass
    time.sleep(0.5)
PY
t1=$(ms)
echo "supervisord's own cold start of the same $programs programs (all RUNNING): $((t1 - t0)) ms"
