#!/usr/bin/env bash
# Measures the agent at scale on this machine (root): the 15,000-daemon
# generated repository, about 3,000 of them placed on the measured node, all
# started for real (sleep) by a private supervisord. Prints supervisord's own
# reloadConfig time next to drover's end-to-end time for one changed daemon,
# the agent's RSS and its CPU use at idle. Everything is private and removed
# at the end; nothing of the machine's own services is touched. Last, a
# change to every daemon of the node: time until all run again, the longest
# downtime of one.
# The first converge (drover agent --once on an empty supervisord, until
# every program runs) is measured side by side with supervisord's own cold
# start of the same programs, in the same run, and printed with their ratio.
#   scripts/agent-load.sh [TENANTS] [DAEMONS_PER_TENANT] [NODES]
# NODES (default 5) is the size of the one shard: the measured node runs
# about 1/NODES of the daemons, and carries every tenant's address and
# nginx files (33334 3 34: 100,000 daemons, some 2,900 on the node).
# supervisord keeps about 6 descriptors per process: under the usual limit
# of 20,000 (which root in a container cannot raise) it manages some 3,300
# processes; 33334 3 10 (some 10,000 on the node) fails with "Too many
# open files".
# DROVER_BIN=path measures that binary instead of building this tree's;
# DROVER_LOAD_CONVERGE_ONLY=1 stops after the first-converge comparison;
# ONE_CHANGE_ONLY=1 stops after the one changed daemon (restarting every
# program of a 10,000-program node takes long); DROVER_LOAD_PERF=FILE
# records the agent with perf from just before that commit until the new
# process runs; DROVER_LOAD_PERF_IDLE=FILE records it over the 10 s of idle;
# DROVER_LOAD_WARM=1 commits one change before the measured one (see there).
# The agent's collections (GODEBUG=gctrace=1) are printed at the end.
set -euo pipefail
# The agent runs a tenant's daemons only as a local user carrying the
# tenant's name: the script runs in a private mount namespace whose /etc is
# a copy with the generated tenants (t{i}, uid 10000+i) added to passwd, so
# the machine's own accounts are not touched. The whole directory is
# mounted, not the file: useradd and userdel elsewhere on the machine
# (tests) replace /etc/passwd by a rename, and the kernel detaches a mount
# on a file renamed over in another namespace — the tenants were gone
# halfway through a run and every daemon start failed.
if [ -z "${DROVER_LOAD_NS:-}" ]; then
  exec env DROVER_LOAD_NS=1 unshare --mount --propagation private "$0" "$@"
fi
top=$(cd "$(dirname "$0")/.." && pwd)
tenants=${1:-5000}
per=${2:-3}
nodes=${3:-5}
node=web-1a
[ "$nodes" -le 26 ] || node=web-1-001 # the generator's names past 26 nodes
work=$(mktemp -d /tmp/drover-load.XXXXXX)
chmod 755 "$work"
drover=$work/drover
agent_pid=
cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "FAILED (exit $status)"
    for log in once.log agent.log supervisord.log; do
      [ -f "$work/$log" ] && { echo "--- $log:"; grep -v '^gc ' "$work/$log" | tail -n 20 | cut -c1-300; }
    done
  fi
  [ -n "$agent_pid" ] && kill "$agent_pid" 2>/dev/null || true
  if [ -s "$work/supervisord.pid" ]; then
    svpid=$(cat "$work/supervisord.pid")
    kill "$svpid" 2>/dev/null || true
    # supervisord stops its 3,000 processes before it exits (minutes).
    for _ in $(seq 3000); do kill -0 "$svpid" 2>/dev/null || break; sleep 0.2; done
  fi
  rmdir /sys/fs/cgroup/memory/drover/daemon-t* /sys/fs/cgroup/drover/daemon-t* 2>/dev/null || true
  umount /etc 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "failed at line $LINENO: $BASH_COMMAND"' ERR
mkdir "$work/etc-root"
cp -a /etc/. "$work/etc-root/"
for ((i = 0; i < tenants; i++)); do printf 't%05d:x:%d:%d:::/bin/sh\n' "$i" $((10000 + i)) $((10000 + i)); done >>"$work/etc-root/passwd"
mount --bind "$work/etc-root" /etc
ms() { date +%s%3N; }

if [ -n "${DROVER_BIN:-}" ]; then cp "$DROVER_BIN" "$drover"; else (cd "$top" && go build -o "$drover" ./cmd/drover); fi
(cd "$top" && go run ./internal/repogen -out "$work/repo" \
  -tenants "$tenants" -daemons "$per" -nodes "$nodes" -command "sleep 100000 # \$PORT") >/dev/null
git -C "$work/repo" init -q -b main
# No automatic gc: it would pack the repository in the background while
# the agent is timed; it is packed once, in the foreground, instead.
git -C "$work/repo" config gc.auto 0
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=load -c user.email=load@example.com commit -q -m load
git -C "$work/repo" gc -q
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
ulimit -n "$(ulimit -Hn)"
# start_supervisord: supervisord without the descriptors this script
# inherited: run under flock, a supervisord outliving the script would
# hold the measurement lock.
start_supervisord() {
  /usr/bin/python3 -c 'import os, sys; os.closerange(3, 1 << 16); os.execvp("supervisord", ["supervisord", "-c", sys.argv[1]])' "$work/supervisord.conf"
}
start_supervisord
for _ in $(seq 100); do supervisorctl -c "$work/supervisord.conf" pid >/dev/null 2>&1 && break; sleep 0.1; done

# last_running OFFSET N: waits until N daemon processes have entered
# RUNNING in supervisord's log after byte OFFSET and prints when the last
# of them did (ms since the epoch, supervisord's clock); fails at once when
# a daemon process ended (drover exec's words are in its stderr log). The
# log is read, not supervisord: it writes 4 KB of an answer per turn of its
# main loop, so asking it about 3,000 processes every second would slow
# what is measured and see the end late.
last_running() {
  /usr/bin/python3 - "$work/supervisord.log" "$1" "$2" <<'PY'
import datetime, re, sys, time
log = open(sys.argv[1])
log.seek(int(sys.argv[2]))
want, running, partial = int(sys.argv[3]), set(), ""
line_re = re.compile(r"(\S+ \S+),(\d+) \w+ (success: (daemon-\S+) entered RUNNING|exited: (daemon-\S+)|gave up: (daemon-\S+))")
deadline = time.time() + 1800
while len(running) < want and time.time() < deadline:
    line = partial + log.readline()
    if not line.endswith("\n"):
        partial = line
        time.sleep(0.2)
        continue
    partial = ""
    m = line_re.match(line)
    if m and m.group(4):
        running.add(m.group(4))
        at = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").timestamp() * 1000 + int(m.group(2))
    elif m:
        sys.exit("a daemon process ended: " + line.strip())
if len(running) < want:
    sys.exit("%d of %d daemon processes RUNNING after 30 min" % (len(running), want))
print(int(at))
PY
}
# autostart_procs: how many daemon processes supervisord starts by itself
# (a disabled daemon's does not), asked once.
autostart_procs() {
  /usr/bin/python3 - "$work/supervisor.sock" <<'PY'
import sys, xmlrpc.client
from supervisor.xmlrpc import SupervisorTransport
rpc = xmlrpc.client.ServerProxy("http://127.0.0.1", transport=SupervisorTransport(None, None, "unix://" + sys.argv[1]))
print(sum(c["group"].startswith("daemon-") and c["autostart"] for c in rpc.supervisor.getAllConfigInfo()))
PY
}
# stop_supervisord: supervisord stops its processes before it exits.
stop_supervisord() {
  local svpid
  svpid=$(cat "$work/supervisord.pid"); kill "$svpid"
  for _ in $(seq 3000); do kill -0 "$svpid" 2>/dev/null || break; sleep 0.2; done
}

# The first converge: from the agent's start until it has returned and
# every daemon process runs, against supervisord's own cold start of the
# same programs: from its start until every one runs.
echo "node $node: $programs programs of $((tenants * per)) daemons"
offset=$(stat -c %s "$work/supervisord.log")
t0=$(ms); "$drover" agent --config "$work/agent.hcl" --once >/dev/null 2>"$work/once.log" || true; t1=$(ms)
procs=$(autostart_procs)
t2=$(last_running "$offset" "$procs")
converge=$(( (t1 > t2 ? t1 : t2) - t0 ))
echo "first converge: drover agent --once returned after $((t1 - t0)) ms, the last of $procs processes RUNNING after $((t2 - t0)) ms"
grep 'msg=reconciled' "$work/once.log" | grep -o 'took.*' || true

stop_supervisord
offset=$(stat -c %s "$work/supervisord.log")
t0=$(ms)
start_supervisord
t1=$(last_running "$offset" "$procs")
cold=$((t1 - t0))
echo "supervisord's own cold start of the same $programs programs: the last of $procs processes RUNNING after $cold ms"
awk -v c="$converge" -v s="$cold" 'BEGIN { printf "first converge %.1f s vs supervisord cold start %.1f s (ratio %.2f)\n", c / 1000, s / 1000, c / s }'
[ -z "${DROVER_LOAD_CONVERGE_ONLY:-}" ] || exit 0

t0=$(ms); supervisorctl -c "$work/supervisord.conf" reread >/dev/null; t1=$(ms)
echo "floor: supervisord reloadConfig (supervisorctl reread, nothing changed): $((t1 - t0)) ms"

GODEBUG=gctrace=1 "$drover" agent --config "$work/agent.hcl" >"$work/agent.log" 2>&1 &
agent_pid=$!
for _ in $(seq 100); do [ -S "$work/agent.sock" ] && break; sleep 0.1; done
# The agent is idle once its first pass is done: at 100,000 daemons
# loading the applied revision and that pass take some 30 s, and a commit
# before then would measure them.
t0=$(ms)
for _ in $(seq 1200); do grep -q 'msg=reconciled' "$work/agent.log" && break; sleep 0.5; done
echo "agent start until its first pass is done: $(( $(ms) - t0 )) ms"
# The agent gives a large pass's memory back 5 s after it (freeDelay), a
# collection of its whole heap that takes a second or two at 100,000
# daemons: RSS and idle CPU are read after it.
sleep 10
rss=$(awk '/VmRSS/ {print $2}' /proc/$agent_pid/status)
echo "agent RSS after start: $((rss / 1024)) MB ($(awk '/RssAnon|RssFile/ {printf "%s %d MB ", $1, $2 / 1024}' /proc/$agent_pid/status| sed 's/ $//'))"
idle_perf=
if [ -n "${DROVER_LOAD_PERF_IDLE:-}" ]; then
  perf record -F 999 -g -p "$agent_pid" -o "$DROVER_LOAD_PERF_IDLE" >/dev/null 2>&1 &
  idle_perf=$!
fi
read -r u1 s1 < <(awk '{print $14, $15}' /proc/$agent_pid/stat)
sleep 10
read -r u2 s2 < <(awk '{print $14, $15}' /proc/$agent_pid/stat)
if [ -n "$idle_perf" ]; then kill -INT "$idle_perf"; wait "$idle_perf" || true; fi
echo "agent CPU at idle: $(( (u2 + s2 - u1 - s1) * 10 )) ms over 10 s"

# One changed daemon: a section change (stop_wait_secs), so supervisord must
# reload its configuration and replace the group.
# edit_daemon PROGRAM: adds stop_wait_secs to the daemon of PROGRAM.
edit_daemon() {
  local prog=$1 tenant daemon
  tenant=$(echo "$prog" | sed 's/^daemon-\(t[0-9]*\)-.*/\1/'); daemon=${prog#daemon-$tenant-}
  python3 - "$work/repo/tenants/$tenant.hcl" "$daemon" <<'PY'
import re, sys
path, name = sys.argv[1], sys.argv[2]
s = open(path).read()
i = s.index('daemon "%s"' % name)
j = s.index('{', i) + 1
s = s[:j] + '\n      stop_wait_secs = 7' + s[j:]
open(path, 'w').write(s)
PY
}
# DROVER_LOAD_WARM=1 commits a change to another daemon first and waits
# for its pass: the agent's state is then that of a node that has had
# commits since its start (what its passes allocate is known), not of one
# just started.
if [ -n "${DROVER_LOAD_WARM:-}" ]; then
  warm=$(find "$work/state/exec" -name '*.json' -printf '%f\n' | sort | sed -n '2s/\.json$//p')
  passes=$(grep -c 'msg=reconciled' "$work/agent.log")
  edit_daemon "$warm"
  git -C "$work/repo" -c user.name=load -c user.email=load@example.com commit -q -am "change $warm"
  for _ in $(seq 600); do [ "$(grep -c 'msg=reconciled' "$work/agent.log")" -gt "$passes" ] && break; sleep 0.1; done
  echo "warm-up change ($warm): $(grep 'msg=reconciled' "$work/agent.log" | tail -n1 | grep -o 'took=[^ ]*')"
  sleep 20
fi
prog=$(find "$work/state/exec" -name '*.json' -printf '%f\n' | sort | sed -n '1s/\.json$//p')
before=$(supervisorctl -c "$work/supervisord.conf" pid "$prog" 2>/dev/null | head -n1 || true)
edit_daemon "$prog"
perf_pid=
if [ -n "${DROVER_LOAD_PERF:-}" ]; then
  perf record -F 999 -g -p "$agent_pid" -o "$DROVER_LOAD_PERF" >/dev/null 2>&1 &
  perf_pid=$!
  sleep 1
fi
t0=$(ms)
git -C "$work/repo" -c user.name=load -c user.email=load@example.com commit -q -am "change $prog"
for _ in $(seq 1200); do
  grep -q "spawned: '$prog' with pid" <(tail -n 50 "$work/supervisord.log") && break
  sleep 0.05
done
spawned=$(grep "spawned: '$prog' with pid" "$work/supervisord.log" | tail -n1 | cut -c1-23)
t1=$(date -d "${spawned/,/.}" +%s%3N)
echo "one changed daemon ($prog), commit -> new process spawned (supervisord's log): $((t1 - t0)) ms"
if [ -n "$perf_pid" ]; then kill -INT "$perf_pid"; wait "$perf_pid" || true; fi
sleep 10
grep -E 'msg=reconciled' "$work/agent.log" | tail -n1
rss=$(awk '/VmRSS/ {print $2}' /proc/$agent_pid/status)
echo "agent RSS after the change: $((rss / 1024)) MB ($(awk '/RssAnon|RssFile/ {printf "%s %d MB ", $1, $2 / 1024}' /proc/$agent_pid/status| sed 's/ $//'))"
grep -v '^gc ' "$work/agent.log" | cut -c1-220 | tail -n 8
grep '^gc ' "$work/agent.log" | tail -n 8
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
echo "agent RSS after restarting every program: $((rss / 1024)) MB ($(awk '/RssAnon|RssFile/ {printf "%s %d MB ", $1, $2 / 1024}' /proc/$agent_pid/status| sed 's/ $//'))"

