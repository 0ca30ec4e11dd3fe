#!/usr/bin/python3
"""Measures a rolling restart from supervisord's own log.

    restart-sampler.py SOCKET LOGFILE TIMEOUT

Notes which processes run now (getAllProcessInfo, once), then follows
supervisord's log from its current end until each of them has been stopped
("stopped: NAME") and has entered RUNNING again ("success: NAME entered
RUNNING state"), or TIMEOUT seconds pass. Prints how many were restarted,
the time from the first stop to the last start, and the longest and median
time a process was down (stop to RUNNING), all from supervisord's own
timestamps: sampling getAllProcessInfo at 3,000 processes is too coarse.
Used by scripts/agent-load.sh; needs supervisord's own Python package.
"""
import datetime
import os
import re
import statistics
import sys
import time
import xmlrpc.client

from supervisor.xmlrpc import SupervisorTransport

sock, logfile, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
rpc = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", transport=SupervisorTransport(None, None, "unix://" + sock))
running = {p["name"] for p in rpc.supervisor.getAllProcessInfo()
           if p["group"].startswith("daemon-") and p["statename"] == "RUNNING"}
line_re = re.compile(r"(\S+ \S+),(\d+) \w+ (stopped: (\S+) \(|success: (\S+) entered RUNNING)")

log = open(logfile)
log.seek(0, os.SEEK_END)
stopped, down = {}, {}
first = last = None
deadline = time.time() + timeout
partial = ""
while len(down) < len(running) and time.time() < deadline:
    line = partial + log.readline()
    if not line.endswith("\n"):  # supervisord is still writing it
        partial = line
        time.sleep(0.2)
        continue
    partial = ""
    m = line_re.match(line)
    if not m:
        continue
    ts = datetime.datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").timestamp() + int(m.group(2)) / 1000
    if m.group(4) in running and m.group(4) not in down:
        stopped[m.group(4)] = ts
        first = first or ts
    elif m.group(5) in stopped and m.group(5) not in down:
        down[m.group(5)] = ts - stopped[m.group(5)]
        last = ts
values = sorted(down.values()) or [0]
print("%d of %d processes restarted, the last %.1f s after the first stopped; longest down %.1f s, median down %.1f s"
      % (len(down), len(running), (last or 0) - (first or 0), values[-1], statistics.median(values)))
