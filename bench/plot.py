#!/usr/bin/env python3
"""Plots the lateness distributions measured by bench/peers/peers.py compare (bench/out/peers.json)
as empirical CDFs on a log scale: 1 s periodic jobs, and a burst due at one instant.

Usage: bench/out/venv/bin/python bench/plot.py [bench/out/peers.json] [bench/lateness.png]
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

here = os.path.dirname(os.path.abspath(__file__))
source = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "out", "peers.json")
target = sys.argv[2] if len(sys.argv) > 2 else os.path.join(here, "lateness.png")
with open(source) as f:
    document = json.load(f)

systems = [("JobRunner", "jobrunner_lateness", "#1f77b4"), ("huey", "huey_lateness", "#d62728"),
           ("APScheduler", "apscheduler_lateness", "#2ca02c")]
figure, axes = plt.subplots(1, 2, figsize=(12, 4.6))
for axis, key, title in ((axes[0], "samples_ms", "%d periodic jobs every 1 s (%d s)" % (
        document["sizes"]["lateness_jobs"], document["sizes"]["lateness_seconds"])),
                         (axes[1], "burst_samples_ms", "%d jobs due at the same instant" % document["sizes"]["burst"])):
    for name, field, colour in systems:
        values = sorted(v for r in document["rounds"] for v in r[field][key])
        if not values:
            continue
        floor = 0.001
        xs = [max(v, floor) for v in values]
        ys = [(i + 1) / len(values) for i in range(len(values))]
        median = values[len(values) // 2]
        p99 = values[min(len(values) - 1, int(0.99 * len(values)))]
        axis.step(xs, ys, where="post", color=colour,
                  label="%s (p50 %.3g ms, p99 %.3g ms, n=%d)" % (name, median, p99, len(values)))
    axis.set_xscale("log")
    axis.set_xlabel("lateness: started - scheduled (ms, log scale)")
    axis.set_ylabel("fraction of runs")
    axis.set_title(title)
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(loc="lower right", fontsize=8)
figure.suptitle("Lateness distributions, measured side by side in %d round(s) (bench/peers/peers.py compare)" %
                len(document["rounds"]))
figure.tight_layout()
figure.savefig(target, dpi=110)
print("wrote %s" % target)
