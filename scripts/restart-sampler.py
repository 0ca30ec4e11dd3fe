#!/usr/bin/python3
"""Samples a supervisord while a change restarts its programs.

    restart-sampler.py SOCKET TIMEOUT

Reads every process twice a second (getAllProcessInfo) from the moment it
starts until every process that ran at the start runs again with a new pid,
or TIMEOUT seconds pass (stopped programs, disabled ones, are left out). Prints how many processes were restarted, the time from
the first stop to the last start, and the longest and median time a process
was not RUNNING.
Used by scripts/agent-load.sh; needs supervisord's own Python package.
"""
import statistics
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

sock, timeout = sys.argv[1], float(sys.argv[2])
rpc = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", transport=SupervisorTransport(None, None, "unix://" + sock))


def sample():
    return {p["group"] + ":" + p["name"]: p for p in rpc.supervisor.getAllProcessInfo()
            if p["group"].startswith("daemon-")}


start = time.time()
first = {n: p for n, p in sample().items() if p["statename"] == "RUNNING"}
down_since, down, restarted = {}, {}, set()
first_down = None
while time.time() - start < timeout:
    now = time.time()
    procs = sample()
    for name, p in procs.items():
        if name not in first:
            continue
        if p["statename"] == "RUNNING":
            if name in down_since:
                down[name] = max(down.get(name, 0), now - down_since.pop(name))
            if name in first and p["pid"] != first[name]["pid"]:
                restarted.add(name)
        elif name not in down_since:
            down_since[name] = now
            first_down = first_down or now
    for name in first:
        if name not in procs and name not in down_since:
            down_since[name] = now  # removed for a moment (remove + add)
            first_down = first_down or now
    if len(restarted) == len(first) and not down_since:
        break
    time.sleep(0.5)
took = time.time() - (first_down or start)
for name, since in down_since.items():
    down[name] = max(down.get(name, 0), time.time() - since)
values = sorted(down.values()) or [0]
print("%d of %d processes restarted, the last %.1f s after the first stopped; longest down %.1f s, median down %.1f s"
      % (len(restarted), len(first), took, values[-1], statistics.median(values)))
