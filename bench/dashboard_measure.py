#!/usr/bin/env python3
"""Measures a running `jobctl serve`: for each path, WARMUP requests, then REQUESTS timed requests on
one keep-alive connection (time to the whole body); prints p50, p95 and max per path, the server's
resident memory (VmRSS) after the warm-up and at the end, and one JSON document with --json FILE.

With --db-pid PID (a PostgreSQL postmaster), also the database server's memory at the same points:
the proportional set size (PSS, shared memory divided among the processes that map it, so that the
shared buffers count once) of the postmaster and all its children.

usage: dashboard_measure.py BASE_URL SERVER_PID [--requests N] [--warmup N] [--json FILE] [--db-pid PID] PATH...
"""
import os
import argparse
import http.client
import json
import time
import urllib.parse


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tree_pss_kib(root):
    """The summed PSS of `root` and its descendants (processes that end meanwhile are skipped)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as stat:
                ppid = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        todo.extend(children.get(pid, []))
        try:
            with open("/proc/%d/smaps_rollup" % pid) as rollup:
                for line in rollup:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def percentile(values, share):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(share * len(ordered) + 0.5)) - 1))
    return ordered[index]


parser = argparse.ArgumentParser()
parser.add_argument("base")
parser.add_argument("pid", type=int)
parser.add_argument("--requests", type=int, default=100)
parser.add_argument("--warmup", type=int, default=5)
parser.add_argument("--json")
parser.add_argument("--db-pid", type=int)
parser.add_argument("paths", nargs="+")
options = parser.parse_args()
url = urllib.parse.urlsplit(options.base)
connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)


def fetch(path):
    start = time.perf_counter()
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    elapsed = time.perf_counter() - start
    if response.status != 200:
        raise SystemExit("%s: HTTP %d: %s" % (path, response.status, body[:200]))
    return elapsed, len(body)


for path in options.paths:
    for _ in range(options.warmup):
        fetch(path)
rss_start = rss_kib(options.pid)
db_samples = [tree_pss_kib(options.db_pid)] if options.db_pid else []
results = []
rss_samples = [rss_start]
for path in options.paths:
    times = []
    size = 0
    for _ in range(options.requests):
        elapsed, size = fetch(path)
        times.append(elapsed * 1000)
    rss_samples.append(rss_kib(options.pid))
    if options.db_pid:
        db_samples.append(tree_pss_kib(options.db_pid))
    results.append({"path": path, "bytes": size, "p50_ms": percentile(times, 0.50),
                    "p95_ms": percentile(times, 0.95), "max_ms": max(times), "requests": len(times)})
# A second pass over every path: memory after twice the work, to see whether it keeps growing.
for path in options.paths:
    for _ in range(options.requests):
        fetch(path)
rss_end = rss_kib(options.pid)
db_end = tree_pss_kib(options.db_pid) if options.db_pid else None
width = max(len(r["path"]) for r in results)
print("%-*s  %10s  %8s  %8s  %8s" % (width, "path", "bytes", "p50 ms", "p95 ms", "max ms"))
for r in results:
    flag = "" if r["p95_ms"] <= 100 else "  > 100 ms"
    print("%-*s  %10d  %8.1f  %8.1f  %8.1f%s" % (width, r["path"], r["bytes"], r["p50_ms"], r["p95_ms"], r["max_ms"], flag))
print("server RSS: %d KiB after warm-up, %d KiB after pass 1 (max %d), %d KiB after pass 2" % (
    rss_start, rss_samples[-1], max(rss_samples), rss_end))
if options.db_pid:
    print("database server PSS: %d KiB after warm-up, %d KiB after pass 1 (max %d), %d KiB after pass 2" % (
        db_samples[0], db_samples[-1], max(db_samples), db_end))
if options.json:
    with open(options.json, "w") as out:
        json.dump({"results": results, "rssKiB": {"afterWarmup": rss_start, "afterPass1": rss_samples[-1],
                   "samples": rss_samples, "afterPass2": rss_end},
                   "databasePssKiB": {"afterWarmup": db_samples[0], "afterPass1": db_samples[-1],
                                      "samples": db_samples, "afterPass2": db_end} if options.db_pid else None},
                  out, indent=2)
