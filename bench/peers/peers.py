#!/usr/bin/env python3
"""The peers, side by side with JobRunner: huey (SqliteHuey) and APScheduler 3 (SQLAlchemy job store
on SQLite), on the same throughput and lateness scenarios as `jobctl bench`, interleaved in one run.

Subcommands (each peer measurement runs in its own process):
  huey-throughput / apscheduler-throughput --db FILE --jobs N --workers W
  huey-lateness / apscheduler-lateness --db FILE --jobs N --seconds S --burst B --workers W
  compare --jobctl PATH [--reference PATH] [--rounds R] [--out DIR] [--quick]

Every figure printed comes from the run itself: nothing is hard-coded.
"""
import argparse
import datetime
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

UTC = datetime.timezone.utc


def percentile(sorted_values, p):
    """Nearest-rank percentile, as jobctl bench computes it."""
    if not sorted_values:
        return float("nan")
    rank = math.ceil(p / 100 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def summary(samples_ms):
    s = sorted(samples_ms)
    return {"p50_ms": percentile(s, 50), "p99_ms": percentile(s, 99), "max_ms": s[-1] if s else float("nan"),
            "runs": len(s)}


def sleep_until(t):
    while True:
        remaining = t - time.time()
        if remaining <= 0:
            return
        time.sleep(min(remaining, 0.5))


# ---------------------------------------------------------------------------------------------- huey

def make_huey(db):
    from huey import SqliteHuey
    # Defaults, as a user gets them (WAL; SQLite's default synchronous).
    return SqliteHuey(name="bench", filename=db)


def huey_consumer(huey, workers):
    return huey.create_consumer(workers=workers, worker_type="thread", periodic=False, initial_delay=0.001,
                                max_delay=0.1, scheduler_interval=1, check_worker_health=False)


def huey_throughput(db, jobs, workers):
    huey = make_huey(db)
    done = threading.Semaphore(0)
    counter = {"n": 0}
    lock = threading.Lock()

    @huey.task()
    def noop():
        pass

    from huey.signals import SIGNAL_COMPLETE

    @huey.signal(SIGNAL_COMPLETE)
    def completed(signal, task, *args, **kwargs):
        with lock:
            counter["n"] += 1
            if counter["n"] == jobs:
                done.release()

    for _ in range(jobs):
        noop()  # enqueued into the SQLite queue; nothing runs until the consumer starts
    consumer = huey_consumer(huey, workers)
    start = time.time()
    consumer.start()
    done.acquire()
    elapsed = time.time() - start
    consumer.stop(graceful=True)
    return {"runs": jobs, "seconds": elapsed, "runs_per_second": jobs / elapsed}


def huey_lateness(db, jobs, seconds, burst, workers, interval=1.0):
    huey = make_huey(db)
    samples = []
    burst_samples = []

    @huey.task()
    def tick(slot, end):
        samples.append((slot, time.time() - slot))
        following = slot + interval
        if following < end:
            tick.schedule(args=(following, end), eta=datetime.datetime.fromtimestamp(following, UTC))

    @huey.task()
    def due(at):
        burst_samples.append(time.time() - at)

    consumer = huey_consumer(huey, workers)
    consumer.start()
    lead = 3.0
    first = time.time() + lead
    end = first + seconds
    for i in range(jobs):
        slot = first + i * interval / jobs
        tick.schedule(args=(slot, end), eta=datetime.datetime.fromtimestamp(slot, UTC))
    sleep_until(end + 2.5)
    at = time.time() + lead
    for _ in range(burst):
        due.schedule(args=(at,), eta=datetime.datetime.fromtimestamp(at, UTC))
    deadline = at + 60
    while len(burst_samples) < burst and time.time() < deadline:
        time.sleep(0.05)
    consumer.stop(graceful=True)
    periodic_ms = [late * 1000 for slot, late in samples if first <= slot < end]
    return {"periodic": summary(periodic_ms), "burst": summary([b * 1000 for b in burst_samples]),
            "samples_ms": periodic_ms, "burst_samples_ms": [b * 1000 for b in burst_samples]}


# ---------------------------------------------------------------------------------------- APScheduler

SAMPLES = []
BURST = []
EXECUTED = {"n": 0}
EXECUTED_LOCK = threading.Lock()
ALL_DONE = threading.Event()
TARGET = {"n": 0}


def aps_noop():
    pass


def aps_probe(start, interval):
    now = time.time()
    slot = start + math.floor((now - start) / interval) * interval
    SAMPLES.append((slot, now - slot))


def aps_due(at):
    BURST.append(time.time() - at)


def make_scheduler(db, workers):
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler
    return BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url="sqlite:///" + db)},
        executors={"default": ThreadPoolExecutor(workers)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
        timezone=UTC,
    )


def apscheduler_throughput(db, jobs, workers):
    from apscheduler.events import EVENT_JOB_EXECUTED
    scheduler = make_scheduler(db, workers)

    def executed(event):
        with EXECUTED_LOCK:
            EXECUTED["n"] += 1
            if EXECUTED["n"] == jobs:
                ALL_DONE.set()

    scheduler.add_listener(executed, EVENT_JOB_EXECUTED)
    scheduler.start(paused=True)
    now = datetime.datetime.now(UTC)
    for i in range(jobs):
        scheduler.add_job(aps_noop, "date", run_date=now, id="due-%d" % i)
    start = time.time()
    scheduler.resume()
    ALL_DONE.wait()
    elapsed = time.time() - start
    scheduler.shutdown(wait=True)
    return {"runs": jobs, "seconds": elapsed, "runs_per_second": jobs / elapsed}


def apscheduler_lateness(db, jobs, seconds, burst, workers, interval=1.0):
    scheduler = make_scheduler(db, workers)
    scheduler.start(paused=True)
    lead = 3.0 + jobs / 500
    first = time.time() + lead
    end = first + seconds
    for i in range(jobs):
        start = first + i * interval / jobs
        scheduler.add_job(aps_probe, "interval", seconds=interval,
                          start_date=datetime.datetime.fromtimestamp(start, UTC), args=[start, interval],
                          id="late-%d" % i)
    scheduler.resume()
    sleep_until(end + 0.5)
    scheduler.remove_all_jobs()
    at = time.time() + 2.0 + burst / 500
    for i in range(burst):
        scheduler.add_job(aps_due, "date", run_date=datetime.datetime.fromtimestamp(at, UTC), args=[at],
                          id="burst-%d" % i)
    deadline = at + 120
    while len(BURST) < burst and time.time() < deadline:
        time.sleep(0.05)
    scheduler.shutdown(wait=True)
    periodic_ms = [late * 1000 for slot, late in SAMPLES if first <= slot < end]
    return {"periodic": summary(periodic_ms), "burst": summary([b * 1000 for b in BURST]),
            "samples_ms": periodic_ms, "burst_samples_ms": [b * 1000 for b in BURST]}


# ------------------------------------------------------------------------------------------- compare

def run_json(argv):
    result = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stderr[-3000:])
        raise SystemExit("failed: %s (exit %d)" % (" ".join(argv), result.returncode))
    return json.loads(result.stdout)


def metric(document, scenario, key):
    for s in document["scenarios"]:
        if s["name"] == scenario:
            for m in s["metrics"]:
                if m["key"] == key:
                    return m["median"]
    raise KeyError(key)


def peer(kind, scenario, args, workdir):
    db = os.path.join(workdir, "%s-%s-%d.sqlite" % (kind, scenario, time.monotonic_ns()))
    argv = [sys.executable, os.path.abspath(__file__), "%s-%s" % (kind, scenario), "--db", db] + args
    try:
        return run_json(argv)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(db + suffix):
                os.remove(db + suffix)


def compare(options):
    quick = options.quick
    sizes = {
        "huey_jobs": 300 if quick else 5000,
        "aps_jobs": 100 if quick else 2000,
        "lateness_jobs": 20 if quick else 1000,
        "lateness_seconds": 2 if quick else 20,
        "burst": 20 if quick else 1000,
        "huey_workers": 4,
        "aps_workers": 20,
    }
    workdir = tempfile.mkdtemp(prefix="jobrunner-peers-", dir=options.dir)
    rounds = []
    try:
        for r in range(options.rounds):
            log = lambda message: sys.stderr.write("peers: round %d of %d: %s\n" % (r + 1, options.rounds, message))
            entry = {}
            ours_args = [options.jobctl, "bench", "--json", "--dir", workdir]
            if quick:
                ours_args.append("--quick")
            throughput_args = ours_args + ["--scenario", "throughput"]
            if options.reference:
                throughput_args += ["--reference", options.reference]
            log("JobRunner throughput")
            ours = run_json(throughput_args)
            entry["jobrunner_throughput"] = metric(ours, "throughput", "due_now_normal")
            entry["jobrunner_throughput_full"] = metric(ours, "throughput", "due_now_full")
            if options.reference:
                entry["c_reference_throughput"] = metric(ours, "throughput", "c_due_now_normal")
            log("huey throughput")
            entry["huey_throughput"] = peer("huey", "throughput", ["--jobs", str(sizes["huey_jobs"]), "--workers",
                                                                   str(sizes["huey_workers"])], workdir)["runs_per_second"]
            log("APScheduler throughput")
            entry["apscheduler_throughput"] = peer("apscheduler", "throughput", [
                "--jobs", str(sizes["aps_jobs"]), "--workers", str(sizes["aps_workers"])], workdir)["runs_per_second"]

            log("JobRunner lateness")
            lateness_args = ours_args + ["--scenario", "lateness", "--samples"]
            if not quick:
                lateness_args += ["--lateness-seconds", str(sizes["lateness_seconds"])]
            ours = run_json(lateness_args)
            scenario = next(s for s in ours["scenarios"] if s["name"] == "lateness")
            entry["jobrunner_lateness"] = {
                "periodic": summary(scenario["samples"]["lateness_ms"]),
                "burst": summary(scenario["samples"]["burst_ms"]),
                "samples_ms": scenario["samples"]["lateness_ms"],
                "burst_samples_ms": scenario["samples"]["burst_ms"],
            }
            lateness_peer_args = ["--jobs", str(sizes["lateness_jobs"]), "--seconds", str(sizes["lateness_seconds"]),
                                  "--burst", str(sizes["burst"])]
            log("huey lateness")
            entry["huey_lateness"] = peer("huey", "lateness", lateness_peer_args + [
                "--workers", str(sizes["huey_workers"])], workdir)
            log("APScheduler lateness")
            entry["apscheduler_lateness"] = peer("apscheduler", "lateness", lateness_peer_args + [
                "--workers", str(sizes["aps_workers"])], workdir)
            rounds.append(entry)
            log("JobRunner %.0f runs/s, huey %.0f, APScheduler %.0f" % (
                entry["jobrunner_throughput"], entry["huey_throughput"], entry["apscheduler_throughput"]))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    document = {"sizes": sizes, "rounds": rounds, "versions": versions(),
                "jobctl": options.jobctl, "quick": quick}
    os.makedirs(options.out, exist_ok=True)
    with open(os.path.join(options.out, "peers.json"), "w") as f:
        json.dump(document, f)
    print(render(document))


def versions():
    from importlib.metadata import version
    return {name: version(name) for name in ("huey", "APScheduler", "SQLAlchemy")} | {
        "python": sys.version.split()[0]}


def render(document):
    rounds = document["rounds"]

    def stats(values):
        s = sorted(values)
        return "%s / %s / %s" % (fmt(s[0]), fmt(statistics.median(s)), fmt(s[-1]))

    lines = []
    v = document["versions"]
    lines.append("Peers side by side, %d interleaved round(s): huey %s (SqliteHuey, %d thread workers), "
                 "APScheduler %s (SQLAlchemy %s job store on SQLite, %d threads), Python %s" % (
                     len(rounds), v["huey"], document["sizes"]["huey_workers"], v["APScheduler"], v["SQLAlchemy"],
                     document["sizes"]["aps_workers"], v["python"]))
    lines.append("")
    lines.append("| figure | JobRunner | huey | APScheduler | JobRunner ahead of huey (×) | JobRunner ahead of APScheduler (×) |")
    lines.append("|---|---|---|---|---|---|")

    def row(label, ours, huey, aps, invert=False):
        # invert: higher is better (throughput), so the ratio is JobRunner over the peer.
        if invert:
            rh = [o / h for o, h in zip(ours, huey)]
            ra = [o / a for o, a in zip(ours, aps)]
        else:
            rh = [h / o for o, h in zip(ours, huey)]
            ra = [a / o for o, a in zip(ours, aps)]
        lines.append("| %s | %s | %s | %s | %s | %s |" % (label, stats(ours), stats(huey), stats(aps),
                                                        stats(rh), stats(ra)))

    row("throughput, runs/s (JobRunner at NORMAL)", [r["jobrunner_throughput"] for r in rounds],
        [r["huey_throughput"] for r in rounds], [r["apscheduler_throughput"] for r in rounds], invert=True)
    row("throughput, runs/s (JobRunner at FULL)", [r["jobrunner_throughput_full"] for r in rounds],
        [r["huey_throughput"] for r in rounds], [r["apscheduler_throughput"] for r in rounds], invert=True)
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99"), ("max_ms", "max")):
        row("lateness %s, ms (1 s periodic)" % label,
            [r["jobrunner_lateness"]["periodic"][key] for r in rounds],
            [r["huey_lateness"]["periodic"][key] for r in rounds],
            [r["apscheduler_lateness"]["periodic"][key] for r in rounds])
    for key, label in (("p50_ms", "p50"), ("p99_ms", "p99")):
        row("burst lateness %s, ms (%d at once)" % (label, document["sizes"]["burst"]),
            [r["jobrunner_lateness"]["burst"][key] for r in rounds],
            [r["huey_lateness"]["burst"][key] for r in rounds],
            [r["apscheduler_lateness"]["burst"][key] for r in rounds])
    lines.append("")
    lines.append("huey runs with SQLite's default synchronous=FULL (as SqliteHuey leaves it) and keeps no history; "
                 "APScheduler's SQLAlchemy store uses the same default. JobRunner records every run in its history.")
    lines.append("APScheduler's periodic lateness is computed from the latest 1 s slot at or before the run, so "
                 "it cannot exceed 1 s: when APScheduler falls a full interval behind, its figures are lower bounds.")
    lines.append("Cells are min / median / max over rounds. Ratio columns: throughput is JobRunner / peer "
                 "(how many times faster); lateness is peer / JobRunner (how many times later). Each ratio is "
                 "computed within a round, then summarised.")
    if "c_reference_throughput" in rounds[0]:
        c = [r["c_reference_throughput"] for r in rounds]
        frac = [r["jobrunner_throughput"] / r["c_reference_throughput"] for r in rounds]
        lines.append("C reference (the SQLite limit) in the same rounds: %s runs/s; JobRunner / C: %s." % (
            stats(c), stats(frac)))
    return "\n".join(lines)


def fmt(x):
    if x != x:
        return "-"
    if abs(x) >= 1000:
        return "{:,.0f}".format(x)
    if abs(x) >= 100:
        return "%.0f" % x
    if abs(x) >= 10:
        return "%.1f" % x
    if abs(x) >= 1:
        return "%.2f" % x
    return "%.3f" % x


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("huey-throughput", "apscheduler-throughput"):
        p = sub.add_parser(name)
        p.add_argument("--db", required=True)
        p.add_argument("--jobs", type=int, required=True)
        p.add_argument("--workers", type=int, default=4)
    for name in ("huey-lateness", "apscheduler-lateness"):
        p = sub.add_parser(name)
        p.add_argument("--db", required=True)
        p.add_argument("--jobs", type=int, required=True)
        p.add_argument("--seconds", type=float, required=True)
        p.add_argument("--burst", type=int, required=True)
        p.add_argument("--workers", type=int, default=4)
    p = sub.add_parser("render", help="print the ratio table of a peers.json again")
    p.add_argument("file")
    p = sub.add_parser("compare")
    p.add_argument("--jobctl", required=True)
    p.add_argument("--reference")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "out"))
    p.add_argument("--dir", default=None, help="where the temporary databases go")
    p.add_argument("--quick", action="store_true")
    options = parser.parse_args()
    if options.command == "compare":
        compare(options)
        return
    if options.command == "render":
        with open(options.file) as f:
            print(render(json.load(f)))
        return
    if options.command == "huey-throughput":
        result = huey_throughput(options.db, options.jobs, options.workers)
    elif options.command == "apscheduler-throughput":
        result = apscheduler_throughput(options.db, options.jobs, options.workers)
    elif options.command == "huey-lateness":
        result = huey_lateness(options.db, options.jobs, options.seconds, options.burst, options.workers)
    else:
        result = apscheduler_lateness(options.db, options.jobs, options.seconds, options.burst, options.workers)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    sys.stdout.flush()
    os._exit(0)  # do not wait for library threads that outlive their shutdown


if __name__ == "__main__":
    main()
