#!/usr/bin/env bash
# make demo: converge a config repository on this machine with the real
# drover agent, a real supervisord and a real nginx, then clean up.
#
# Everything runs inside a network namespace of its own (drover-demo-PID)
# with its own supervisord, nginx and agent, configured under a directory of
# its own (mktemp, below $TMPDIR): the machine's own services, ports and
# addresses are not touched, and two demos can run at once. It removes only
# what it created — the processes it started, the namespace it recorded in
# its directory, the directory — and refuses to start rather than take over
# a namespace of the same name. Needs root (network namespaces, tenant
# uids) and Debian's supervisor and nginx, which it installs when missing.
# DROVER_BIN is the drover binary to run (make demo passes bin/drover);
# DROVER_DEMO_NETNS names the namespace to create instead.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
drover=${DROVER_BIN:-$(cd "$here/../.." && pwd)/bin/drover}
ns=${DROVER_DEMO_NETNS:-drover-demo-$$}
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ "$(id -u)" -ne 0 ]; then
  echo "make demo needs root (network namespace, tenant uids, supervisord)." >&2
  exit 1
fi
# The agent runs a tenant's daemons only as a local user carrying the
# tenant's name (on a real node: useradd --uid 10100 hello). The demo runs in
# a private mount namespace whose /etc/passwd adds that user, so the
# machine's own accounts are not touched.
if [ -z "${DROVER_DEMO_NS:-}" ]; then
  exec env DROVER_DEMO_NS=1 unshare --mount --propagation private "$0" "$@"
fi
missing=()
for tool in supervisord nginx git ip curl; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if [ ${#missing[@]} -gt 0 ]; then
  say "Installing supervisor, nginx, git, iproute2 and curl (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends supervisor nginx git iproute2 curl >/dev/null
fi

if [ ! -x "$drover" ]; then
  echo "make demo: no drover binary at $drover (run make build, or set DROVER_BIN)." >&2
  exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/drover-demo.XXXXXX")
chmod 755 "$work" # the tenant's daemon must reach its webroot below it
pids=()
# cleanup removes what this run created, and only that: the processes it
# started (their PIDs, or pidfiles in $work), the namespace named in
# $work/netns (written once this run created it), then $work.
cleanup() {
  say "Cleaning up"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pidfile in "$work/supervisord.pid" "$work/nginx.pid"; do
    [ -s "$pidfile" ] && kill "$(cat "$pidfile")" 2>/dev/null || true
  done
  sleep 1
  if [ -s "$work/netns" ]; then
    ip netns del "$(cat "$work/netns")" && echo "removed the namespace $(cat "$work/netns")"
  fi
  umount /etc/passwd 2>/dev/null || true
  rm -rf "$work"
  echo "removed $work"
}
trap cleanup EXIT
{ cat /etc/passwd; echo "hello:x:10100:10100::$work/storage/hello:/bin/sh"; } >"$work/passwd"
mount --bind "$work/passwd" /etc/passwd
# ip netns add fails when the name is taken: that namespace is someone
# else's (or a crashed run's), and is left alone.
if ! ip netns add "$ns"; then
  echo "make demo: the network namespace $ns exists already and is not this run's; refusing to touch it (if it is stale: ip netns del $ns)." >&2
  exit 1
fi
echo "$ns" >"$work/netns"
ip -n "$ns" link set lo up
inns() { ip netns exec "$ns" "$@"; }

say "A config repository: examples/demo/config as a local Git repository"
mkdir -p "$work/repo" "$work/state" "$work/storage/hello/webroots/www/app" "$work/etc/supervisor" "$work/etc/nginx" "$work/logs"
cp -r "$here/config/." "$work/repo/"
git -C "$work/repo" init -q -b main
git -C "$work/repo" add -A
git -C "$work/repo" -c user.name=demo -c user.email=demo@example.com commit -q -m "demo config"
echo "<h1>hello from the demo daemon, through nginx</h1>" >"$work/storage/hello/webroots/www/app/index.html"
"$drover" validate "$work/repo"

say "The tenant address (drover manages addresses only with a network block; the demo adds it by hand)"
addr=$("$drover" placement --json "$work/repo" | sed -n 's/.*"host": "\(.*\)".*/\1/p' | head -n1)
inns ip addr add "$addr/128" dev lo nodad
echo "$addr on lo in namespace $ns"

cat >"$work/agent.hcl" <<EOF
node         = "demo-1"
state_dir    = "$work/state"
storage_root = "$work/storage"
binary       = "$drover"
source {
  url           = "$work/repo"
  branch        = "main"
  poll_interval = "30s"
}
supervisor {
  conf_dir = "$work/etc/supervisor"
  socket   = "$work/supervisor.sock"
}
nginx {
  conf_dir       = "$work/etc/nginx"
  listen         = ["127.0.0.1:8080"]
  test_command   = ["nginx", "-t", "-q", "-c", "$work/nginx.conf", "-p", "$work"]
  reload_command = ["nginx", "-s", "reload", "-c", "$work/nginx.conf", "-p", "$work"]
}
api {
  socket         = "$work/agent.sock"
  metrics_listen = "127.0.0.1:9181"
}
EOF
cat >"$work/supervisord.conf" <<EOF
[unix_http_server]
file=$work/supervisor.sock
chmod=0700
[supervisord]
logfile=$work/supervisord.log
pidfile=$work/supervisord.pid
childlogdir=$work/logs
[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
[supervisorctl]
serverurl=unix://$work/supervisor.sock
[include]
files = $work/etc/supervisor/*.conf
EOF
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 64; }
http {
    access_log off;
    include $work/etc/nginx/servers/*.conf;
}
EOF
mkdir -p "$work/etc/nginx/servers"

say "A private supervisord and nginx in namespace $ns"
inns supervisord -c "$work/supervisord.conf"
inns nginx -c "$work/nginx.conf" -p "$work"
sleep 1

say "drover agent --once: one full reconcile"
inns "$drover" agent --config "$work/agent.hcl" --once

say "The running agent (long-lived: polls, watches the repository and the managed files)"
# (not through the inns function: $! must be the agent itself, to stop it)
ip netns exec "$ns" "$drover" agent --config "$work/agent.hcl" >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do [ -S "$work/agent.sock" ] && break; sleep 0.1; done
sleep 2

say "A request answered by the daemon through nginx: curl -H 'Host: hello.example.com' http://127.0.0.1:8080/app/"
inns curl -sS -H 'Host: hello.example.com' http://127.0.0.1:8080/app/

say "drover status"
"$drover" status --socket "$work/agent.sock"

say "A commit lands: the worker's greeting changes; the agent applies it within a second or two"
sed -i 's/GREETING = "worker"/GREETING = "busy worker"/' "$work/repo/tenants/hello.hcl"
git -C "$work/repo" -c user.name=demo -c user.email=demo@example.com commit -q -am "worker greeting"
sleep 3
"$drover" status --socket "$work/agent.sock"

say "A managed file deleted by hand is repaired"
rm "$work/etc/nginx/locations/hello_www.conf"
sleep 1
ls -l "$work/etc/nginx/locations/"

say "The agent's log"
tail -n 20 "$work/agent.log"
