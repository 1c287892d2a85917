"""Benchmark: how fast the ingest drains a broker backlog into PostGIS.

A realistic backlog is built in memory: thousands of devices driving or
walking the sample city's roads (native JSON and NMEA trackers, OwnTracks
phones, TETRA LIP radios), each report plausible after the last, plus a few
per cent bad messages whose expected quarantine reason is known (garbage,
(0,0) fixes, future times, bad NMEA checksums, no-fix NMEA, duplicates).
It is published once, while every subscriber is away, into the persistent
QoS 1 sessions of

1. ``mqtt_ceiling``: a paho subscriber that only counts (the broker's ceiling);
2. ``ingest``: real :class:`feeds.ingest.IngestWorker` s, each in a process of
   its own configured as ``dispatchmap ingest`` is (``--workers N``: N of them
   on one MQTT shared subscription, the broker splitting the backlog), on a
   fresh database,

and in the same run ``copy_ceiling`` writes the decoded good rows with the
writer's own statements (binary COPY into the stage, then ``store_positions``:
history insert plus both latest-state upserts), one transaction per batch, on
another fresh database: the database's ceiling (with ``--workers N``, N
processes writing at once). Then a live stream at a fixed
rate runs through the same worker, from a separate publisher process; its
latency is the commit timestamp of the transaction that stored a row
(``track_commit_timestamp``) minus the wall time at which the publisher built
and published the message (carried as the native ``ts``, in microseconds).

Run from the repository root with DATABASE_URL / MQTT_URL unset (private
servers under a temp folder): ``.venv/bin/python bench/ingest.py``. With
``py-spy`` on PATH (or ``--py-spy``) the drain is sampled and the time of the
(first) worker's threads is broken down. The last line is the figure the
README quotes. The pieces: ``ingest_backlog.py`` (fleet and messages),
``ingest_servers.py`` (servers, ceilings, accounting), ``ingest_workers.py``
(worker processes, live stream, profile).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
import time
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

from ingest_backlog import build_backlog, prepare_template
from ingest_servers import (
    Accounting,
    account,
    copy_ceiling,
    create_session,
    decode_backlog,
    fresh_database,
    ingest_limits,
    mqtt_ceiling,
    publish_backlog,
    servers,
)
from ingest_workers import Workers, WorkerSpec, live_stream, profile_report, sampled

from dispatchmap.settings import IngestSettings


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--messages", type=int, default=200_000, help="backlog size")
    p.add_argument("--devices", type=int, default=3_000, help="devices in the backlog")
    p.add_argument("--bad-share", type=float, default=0.03, help="share of bad messages")
    p.add_argument("--workers", type=int, default=1, help="ingest worker processes")
    p.add_argument("--live-rate", type=float, default=5_000.0, help="live msgs/s")
    p.add_argument("--live-seconds", type=float, default=20.0)
    p.add_argument("--live-devices", type=int, default=3_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--py-spy", default=shutil.which("py-spy"), help="py-spy binary (optional)")
    return p.parse_args()


def say(label: str, value: str, meaning: str) -> None:
    print(f"{label:<24} {value:<16} {meaning}", flush=True)


def run(args: argparse.Namespace) -> None:
    t_start = time.perf_counter()
    # A SIGTERM (timeout, CI) unwinds the stack, so the private servers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    say(
        "load",
        " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "machine load average "
        f"(1/5/15 min) at start on {os.cpu_count()} CPUs: other work skews every figure",
    )
    batch = IngestSettings().batch_max
    with ExitStack() as stack:
        env = stack.enter_context(servers(stack))
        devices, graphs, live_ids = prepare_template(env, args)
        t0 = time.perf_counter()
        samples = build_backlog(devices, args.messages, args.bad_share, args.seed)
        n_bad = sum(1 for s in samples if s.reason)
        say(
            "backlog",
            f"{len(samples)}",
            f"messages from {len(devices)} devices, {n_bad} bad "
            f"({time.perf_counter() - t0:.1f} s to build)",
        )
        formats = Counter(
            s.topic.split("/")[1] if s.topic.startswith("dm/") else "owntracks" for s in samples
        )
        say("formats", " ".join(f"{k}={v}" for k, v in sorted(formats.items())), "topics")
        tag = f"{os.getpid()}"
        share = f"bench-{tag}" if args.workers > 1 else None
        counter_id = f"bench-count-{tag}"
        ingest_ids = [f"bench-ingest-{tag}-{i}" for i in range(args.workers)]
        create_session(env, counter_id)
        for client_id in ingest_ids:
            create_session(env, client_id, share)
        took = publish_backlog(env, samples)
        say("publish", f"{len(samples) / took:,.0f}", "msg/s the publisher queued (not timed)")

        mqtt_rate = mqtt_ceiling(env, counter_id, len(samples))
        say("mqtt_ceiling", f"{mqtt_rate:,.0f}", "msg/s a counting QoS 1 subscriber drains")

        copy_url = fresh_database(env, "bench_copy", "bench_template")
        ingest_url = fresh_database(env, "bench_ingest", "bench_template")
        limits = ingest_limits(ingest_url)
        rows, per_msg = decode_backlog(samples, copy_url, limits)
        copy_rate = copy_ceiling(copy_url, rows, batch, args.workers)
        say(
            "copy_ceiling",
            f"{copy_rate:,.0f}",
            f"rows/s binary COPY + store_positions, {len(rows)} rows in {batch}-row batches"
            + (f", {args.workers} processes at once" if args.workers > 1 else ""),
        )
        say(
            "pipeline_us",
            f"{per_msg['all']:.1f}",
            "µs/msg Pipeline.process alone: "
            + ", ".join(f"{k} {v:.1f}" for k, v in sorted(per_msg.items()) if k != "all"),
        )

        specs = [
            WorkerSpec(env.mqtt_host, env.mqtt_port, ingest_url, client_id, limits, share)
            for client_id in ingest_ids
        ]
        workers = Workers(specs)
        stack.callback(workers.stop)
        profile = Path(tempfile.gettempdir()) / f"dm-bench-ingest-{tag}.txt"
        with sampled(args.py_spy, workers.procs[0].pid or 0, profile):
            before = workers.report()
            started = time.perf_counter()
            workers.wait_received(len(samples), 600)
            drain_s = time.perf_counter() - started
            after = workers.report()
        ingest_rate = len(samples) / drain_s
        say(
            "ingest",
            f"{ingest_rate:,.0f}",
            f"msg/s drained and committed ({drain_s:.1f} s, {args.workers} worker process"
            + ("es)" if args.workers > 1 else ")"),
        )
        cpu_s = after["cpu_s"] - before["cpu_s"]
        say(
            "ingest_cpu_us",
            f"{cpu_s / len(samples) * 1e6:.0f}",
            f"µs of the workers' CPU per message in the drain ({cpu_s / drain_s:.2f} cores "
            "busy; PostgreSQL's and the broker's apart)",
        )
        acc = account(ingest_url, samples)
        report_drain(after, before, acc, drain_s, per_msg["all"], len(samples))
        if args.py_spy:  # "" turns sampling off
            print("where the first worker's wall time goes in the drain (py-spy, per thread):")
            for line in profile_report(profile):
                print(line)

        live = live_stream(
            env, graphs, workers, ingest_url, live_ids, args.live_rate, args.live_seconds
        )
        p95 = live["p95"] if env.commit_ts else float("nan")
        say(
            "live",
            f"{live['rate']:,.0f}",
            f"msg/s published for {args.live_seconds:.0f} s, "
            f"{live['sent']} sent, {live['stored']} stored, publisher held back "
            f"{live['held_s']:.1f} s by unacknowledged messages",
        )
        say(
            "p95_commit_ms",
            f"{p95:.0f}",
            f"publish() wall time -> commit timestamp; "
            f"p50 {live['p50']:.0f} ms, p99 {live['p99']:.0f} ms, max {live['max']:.0f} ms",
        )
        lost = acc.lost + max(0, live["sent"] - live["stored"])
        ratio = ingest_rate / min(mqtt_rate, copy_rate)
        say(
            "total",
            f"{time.perf_counter() - t_start:.0f} s",
            "whole benchmark; load average now " + " ".join(f"{x:.1f}" for x in os.getloadavg()),
        )
        print(
            f"ingest msgs_per_s={ingest_rate:.0f} mqtt_ceiling={mqtt_rate:.0f} "
            f"copy_ceiling={copy_rate:.0f} ratio={ratio:.2f} p95_commit_ms={p95:.0f} "
            f"lost={lost} duplicated={acc.duplicated}",
            flush=True,
        )


def report_drain(
    after: dict, before: dict, acc: Accounting, drain_s: float, pipeline_us: float, n: int
) -> None:
    batches = after["batches"] - before["batches"]
    batch_s = after["batch_s"] - before["batch_s"]
    say(
        "accounted",
        f"{acc.positions + acc.quarantined}",
        f"= {acc.positions} positions + "
        f"{acc.quarantined} quarantined; lost {acc.lost}, duplicated {acc.duplicated}",
    )
    say(
        "reasons",
        f"{acc.reason_mismatches} wrong",
        "quarantine rows vs the expected reason: "
        + ", ".join(f"{k} {v}" for k, v in sorted(acc.by_reason.items())),
    )
    say(
        "batches",
        f"{batches}",
        f"mean {n / max(batches, 1):.0f} msgs, "
        f"{batch_s / max(batches, 1) * 1000:.1f} ms to write and commit each",
    )
    say(
        "pipeline_share",
        f"{pipeline_us * n / 1e6 / drain_s:.0%}",
        "of the drain the pipeline alone would take (one thread, no I/O)",
    )


if __name__ == "__main__":
    run(parse_args())
