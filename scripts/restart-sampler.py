#!/usr/bin/python3
"""Measures a rolling restart from supervisord's own log.

    restart-sampler.py SOCKET LOGFILE TIMEOUT [IDLE]

Notes which processes run now (getAllProcessInfo, once), then follows
supervisord's log from its current end until each of them has been stopped
("stopped: NAME") and has entered RUNNING again ("success: NAME entered
RUNNING state"), TIMEOUT seconds pass, or, once the first stop was seen, no
process was stopped or entered RUNNING for IDLE seconds (default 120): a
process that never comes back (its start failed) ends the wait then, not
at TIMEOUT. Prints how many were restarted (and a few that were not),
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
idle = float(sys.argv[4]) if len(sys.argv) > 4 else 120
rpc = xmlrpc.client.ServerProxy(
    "http://127.0.0.1", transport=SupervisorTransport(None, None, "unix://" + sock))
running = {p["name"] for p in rpc.supervisor.getAllProcessInfo()
           if p["group"].startswith("daemon-") and p["statename"] == "RUNNING"}
line_re = re.compile(r"(\S+ \S+),(\d+) \w+ (stopped: (\S+) \(|success: (\S+) entered RUNNING)")



def rotated(f):
    """Whether supervisord rotated its log away from the open file f."""
    try:
        return os.stat(logfile).st_ino != os.fstat(f.fileno()).st_ino
    except FileNotFoundError:  # between the rename and the new file
        return False


log = open(logfile)
log.seek(0, os.SEEK_END)
stopped, down = {}, {}
first = last = None
deadline = time.time() + timeout
progress = None  # when the last stop or start was read
partial = ""
while len(down) < len(running) and time.time() < deadline:
    if progress is not None and time.time() - progress > idle:
        break
    line = partial + log.readline()
    if not line.endswith("\n"):  # supervisord is still writing it
        partial = line
        if not line and rotated(log):
            log = open(logfile)
        time.sleep(0.2)
        continue
    partial = ""
    m = line_re.match(line)
    if not m:
        continue
    progress = time.time()
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
missing = sorted(running - set(down))
if missing:
    print("not restarted: %s%s" % (" ".join(missing[:5]), " …" if len(missing) > 5 else ""))
