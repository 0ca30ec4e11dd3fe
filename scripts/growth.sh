#!/usr/bin/env bash
# Prints how drover's cost grows with the repository: wall time, CPU time
# and peak RSS of `drover validate`, `drover render` of one node and
# `drover plan` of a one-daemon change, on generated repositories
# (internal/repogen, 3 daemons per tenant, 10 nodes in one shard) of 1k,
# 15k, 50k and 100k daemons; then the agent's pass at the same sizes
# (BenchmarkAgentPass: a first pass on an empty node, a pass for one
# changed daemon, a no-op pass, and the agent's live heap).
#   scripts/growth.sh [DAEMONS...]      e.g. scripts/growth.sh 1000 15000
# DROVER_BIN=path measures that binary instead of building this tree's;
# GROWTH_COMMANDS_ONLY=1 leaves the agent's pass out.
# Everything is written below one mktemp directory, removed at the end.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/drover-growth.XXXXXX)
# render writes into memory (tmpfs) when there is one, so its figure is
# drover's cost, not the disk's (creating 75,000 files on this machine's
# disk takes longer than drover's whole render).
out=$work
if [ -d /dev/shm ] && [ -w /dev/shm ]; then out=$(mktemp -d /dev/shm/drover-growth.XXXXXX); fi
trap 'rm -rf "$work" "$out"' EXIT
drover=${DROVER_BIN:-}
if [ -z "$drover" ]; then
  drover=$work/drover
  (cd "$top" && go build -o "$drover" ./cmd/drover)
fi
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(1000 15000 50000 100000)

# measure CMD...: "wall s (cpu s) / MB" of CMD from /usr/bin/time: wall
# time, CPU time (user + system; on a busy machine the wall time says
# little), peak RSS. validate and plan exit 1 or 2 for findings; only a
# failure to run at all stops the script.
measure() {
  local rc=0
  /usr/bin/time -f '%e %U %S %M' -o "$work/time.out" "$@" >"$work/cmd.out" 2>&1 || rc=$?
  if ! tail -n1 "$work/time.out" | grep -qE '^[0-9.]+ [0-9.]+ [0-9.]+ [0-9]+$'; then
    echo "failed: $*" >&2; cat "$work/cmd.out" "$work/time.out" >&2; exit 1
  fi
  tail -n1 "$work/time.out" | awk '{printf "%.2f s (cpu %.2f s) / %d MB", $1, $2+$3, $4/1024}'
  # plan exits 2 when there are changes (--detailed-exitcode aside, 0);
  # anything else is said in the cell, with the first error line.
  if [ "$rc" -ne 0 ]; then
    printf ' (exit %d: %s)' "$rc" "$(grep -m1 -E '^Error' "$work/cmd.out" || head -n1 "$work/cmd.out")"
  fi
}

# No automatic gc: it would pack the repository in the background while
# the commands are timed; it is packed once, in the foreground, instead.
git_() { git -C "$1" -c user.name=growth -c user.email=growth@example.com -c gc.auto=0 "${@:2}"; }

printf '| daemons | validate | render (one node) | plan (one daemon changed) |\n|---|---|---|---|\n'
for n in "${sizes[@]}"; do
  repo=$work/repo-$n
  tenants=$(( (n + 2) / 3 ))
  (cd "$top" && go run ./internal/repogen -tenants "$tenants" -daemons 3 -nodes 10 -out "$repo") >/dev/null
  git_ "$repo" init -q -b main
  git_ "$repo" add -A
  git_ "$repo" commit -q -m base
  git_ "$repo" gc -q
  sync # the generated files reach the disk before anything is timed
  v=$(measure "$drover" validate "$repo")
  r=$(measure "$drover" render --node web-1a --out "$out/out-$n" "$repo")
  # One daemon's command changed, committed on top.
  files=("$repo"/tenants/*.hcl)
  f=${files[0]}
  sed -i '0,/command *= *"/s//command = "exec /' "$f"
  git_ "$repo" commit -q -am "one daemon"
  p=$(measure "$drover" plan --base HEAD~1 --head HEAD "$repo")
  printf '| %s | %s | %s | %s |\n' "$n" "$v" "$r" "$p"
  rm -rf "$repo" "$out/out-$n"
done

[ -z "${GROWTH_COMMANDS_ONLY:-}" ] || exit 0

# The agent's pass, from its benchmark (real Git and bbolt; supervisord and
# the file system faked): sizes by the same names.
pattern=$(IFS='|'; echo "${sizes[*]}")
printf '\n| daemons | agent: first pass | one changed daemon | no-op pass | agent heap |\n|---|---|---|---|---|\n'
(cd "$top" && DROVER_BENCH_LARGE=1 go test -run '^$' -bench "BenchmarkAgentPass/daemons=($pattern)/" -benchtime 2x ./agent/reconcile/) |
  awk '/^BenchmarkAgentPass\//{
    split($1, p, "/"); sub("daemons=", "", p[2]); sub(/-[0-9]+$/, "", p[3])
    t = $3 / 1e9
    for (i = 4; i <= NF; i++) if ($i == "heap-MB") heap[p[2]] = $(i - 1)
    cell = (t >= 0.1) ? sprintf("%.2f s", t) : (t >= 0.0001 ? sprintf("%.1f ms", t * 1e3) : sprintf("%.0f µs", t * 1e6))
    v[p[2] "," p[3]] = cell
    if (!(p[2] in seen)) { seen[p[2]] = 1; order[++n] = p[2] }
  }
  END { for (i = 1; i <= n; i++) { d = order[i]; printf "| %s | %s | %s | %s | %d MB |\n", d, v[d ",first"], v[d ",one-change"], v[d ",noop"], heap[d] } }'
