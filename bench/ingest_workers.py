"""The ingest benchmark's workers, each in a process of its own as
``dispatchmap ingest`` runs (its own heap, garbage collector and GIL, not the
benchmark's), the live stream, and the py-spy breakdown of a worker's time."""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from ingest_backlog import Graphs, walker
from ingest_servers import TOPICS, Env, session

from dispatchmap.settings import IngestSettings
from feeds.ingest import IngestWorker, tune_gc
from feeds.pipeline import Limits, Pipeline

MAX_UNACKED = 10_000  # live publisher's cap on messages the broker has not acknowledged
LIVE_LATENCY = (
    "SELECT count(*), percentile_cont(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY lag_s),"
    " max(lag_s) FROM (SELECT extract(epoch FROM pg_xact_commit_timestamp(xmin) - fix_at)"
    " AS lag_s FROM positions WHERE device_id LIKE 'live-%%') AS x"
)


# ------------------------------------------------------------------ workers


@dataclass(frozen=True)
class WorkerSpec:
    """What a worker process needs to run as ``dispatchmap ingest`` does."""

    mqtt_host: str
    mqtt_port: int
    url: str
    client_id: str
    limits: Limits
    share_group: str | None


def worker_main(spec: WorkerSpec, received: Any, pipe: Any) -> None:
    """(In a process of its own.) Run one ingest worker, tuned as the CLI's;
    keep ``received`` current; answer ``pipe``: "report" with its figures,
    "stop" with its figures, then stop."""
    tune_gc()
    cfg = IngestSettings()
    worker = IngestWorker(
        mqtt_host=spec.mqtt_host,
        mqtt_port=spec.mqtt_port,
        database_url=spec.url,
        topics=TOPICS,
        pipeline=Pipeline(TOPICS, spec.limits),
        client_id=spec.client_id,
        share_group=spec.share_group,
        batch_max=cfg.batch_max,
        batch_wait_ms=cfg.batch_wait_ms,
        queue_max=cfg.queue_max,
    )
    worker.start()
    thread = threading.Thread(target=worker.run, name="writer", daemon=True)
    thread.start()
    while True:
        received.value = worker.stats.received
        if not pipe.poll(0.02):
            continue
        request = pipe.recv()
        reg = worker.metrics.registry
        pipe.send(
            {
                "cpu_s": sum(os.times()[:2]),
                "received": worker.stats.received,
                "batches": worker.stats.batches,
                "batch_s": reg.get_sample_value("dm_ingest_batch_seconds_sum") or 0.0,
            }
        )
        if request == "stop":
            worker.stop()
            thread.join(10)
            return


class Workers:
    """``count`` ingest worker processes; one session each, sharing the feed
    through ``share_group`` when there are several."""

    def __init__(self, specs: Sequence[WorkerSpec]) -> None:
        ctx = multiprocessing.get_context("spawn")
        self._received = [ctx.Value("q", 0, lock=False) for _ in specs]
        self._pipes = []
        self.procs = []
        for spec, received in zip(specs, self._received, strict=True):
            ours, theirs = ctx.Pipe()
            proc = ctx.Process(target=worker_main, args=(spec, received, theirs), daemon=True)
            proc.start()
            self._pipes.append(ours)
            self.procs.append(proc)

    def received(self) -> int:
        return sum(v.value for v in self._received)

    def wait_received(self, total: int, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while (got := self.received()) < total:
            if time.monotonic() > deadline:
                raise RuntimeError(f"ingest took {got} of {total} in time")
            if any(p.exitcode is not None for p in self.procs):
                raise RuntimeError("an ingest worker process died")
            time.sleep(0.02)

    def report(self, request: str = "report") -> dict[str, float]:
        """The workers' figures summed."""
        for pipe in self._pipes:
            pipe.send(request)
        total: Counter[str] = Counter()
        for pipe in self._pipes:
            if not pipe.poll(30):
                raise RuntimeError("an ingest worker did not answer")
            total.update(pipe.recv())
        return dict(total)

    def stop(self) -> None:
        if all(p.exitcode is None for p in self.procs):
            self.report("stop")
        for proc in self.procs:
            proc.join(15)
            if proc.exitcode is None:
                proc.kill()


# ------------------------------------------------------------- live stream


def live_publisher(env: Env, graphs: Graphs, ids: list[str], rate: float, seconds: float, pipe):
    """(In a process of its own.) Publish native fixes of ``ids`` round robin at
    ``rate`` a second for ``seconds``; ``ts`` is the wall time of publishing."""
    rng = random.Random(7)
    walks = [walker(graphs, "car", rng) for _ in ids]
    topics = [TOPICS.gps(i) for i in ids]
    last = [time.time()] * len(ids)
    acked = 0

    def on_publish(*_):
        nonlocal acked
        acked += 1

    # A paho publisher with too many unacknowledged messages stalls (DOMAIN):
    # hold back, and count it, when the broker is that far behind.
    client = session(env, f"bench-live-{os.getpid()}", clean=True, inflight=MAX_UNACKED)
    client.on_publish = on_publish
    sent, held_s, started = 0, 0.0, time.monotonic()
    while (elapsed := time.monotonic() - started) < seconds:
        while sent < elapsed * rate and sent - acked < MAX_UNACKED:
            k = sent % len(ids)
            now = time.time()
            lon, lat, speed_kmh, heading_deg = walks[k].step(now - last[k])
            last[k] = now
            payload = (
                f'{{"lat": {lat:.7f}, "lon": {lon:.7f}, "speed_kmh": {speed_kmh:.1f}, '
                f'"heading_deg": {heading_deg:.1f}, "acc_m": 5.0, "seq": {sent}, '
                f'"ts": "{datetime.now(UTC).isoformat()}"}}'
            )
            client.publish(topics[k], payload.encode(), qos=1)
            sent += 1
        held_s += 0.002 if sent - acked >= MAX_UNACKED else 0.0
        time.sleep(0.002)
    took = time.monotonic() - started
    deadline = time.monotonic() + 120
    while acked < sent and time.monotonic() < deadline:
        time.sleep(0.05)
    client.disconnect()
    client.loop_stop()
    pipe.send((sent, took, held_s))


def live_stream(env, graphs, workers: Workers, url, ids, rate, seconds) -> dict[str, float]:
    """Run the live publisher against the running worker; latency percentiles (ms)."""
    already = workers.received()
    ctx = multiprocessing.get_context("spawn")
    ours, theirs = ctx.Pipe()
    proc = ctx.Process(target=live_publisher, args=(env, graphs, ids, rate, seconds, theirs))
    proc.start()
    if not ours.poll(seconds + 120):
        proc.kill()
        raise RuntimeError(f"the live publisher did not finish (exit code {proc.exitcode})")
    sent, took, held_s = ours.recv()
    proc.join(30)
    workers.wait_received(already + sent, 120)
    with psycopg.connect(url) as conn:
        row = conn.execute(LIVE_LATENCY).fetchone()
    assert row is not None
    count, (p50, p95, p99), worst = row[0], row[1] or (None,) * 3, row[2]
    ms = {k: (v or 0.0) * 1000 for k, v in (("p50", p50), ("p95", p95), ("p99", p99))}
    return {
        "sent": sent,
        "rate": sent / took,
        "stored": count,
        "held_s": held_s,
        "max": (worst or 0) * 1000,
        **ms,
    }


# ------------------------------------------------------------------ profile


@contextmanager
def sampled(py_spy: str | None, pid: int, out: Path) -> Iterator[None]:
    """Sample process ``pid`` with py-spy (idle included) while the block runs."""
    if not py_spy:
        yield
        return
    args = [py_spy, "record", "--pid", str(pid), "--format", "raw", "--idle"]
    args += ["--threads", "--rate", "100", "--nonblocking", "-o", str(out)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)


# Frames that say where a sample is: the first label one of whose needles
# appears anywhere in the stack wins.
WHERE = (
    ("store_positions/COPY (DB)", ("_write_positions",)),
    ("quarantine COPY (DB)", ("_write_quarantine",)),
    ("prepare: devices + last fixes (DB)", ("prepare (feeds/writer.py",)),
    ("pipeline.process (decode+validate)", ("process (feeds/pipeline.py",)),
    ("stage: COPY encoding", ("stage (feeds/writer.py",)),
    ("mark duplicates", ("_mark_duplicates",)),
    ("commit (DB)", ("__exit__ (psycopg/transaction.py",)),
    ("acks to paho", ("send_acks", "puback_packet")),
    ("metrics", ("observe_batch",)),
    ("waiting for a batch", ("take (feeds/session.py",)),
    ("PUBLISH split + hand-over", ("_take_publishes", "_on_publishes")),
    ("paho network loop", ("paho",)),
)


def profile_report(path: Path) -> list[str]:
    """Per-thread breakdown of py-spy's raw samples (idle included: wall time)."""
    if not path.exists():
        return ["py-spy wrote no profile"]
    threads: dict[str, Counter[str]] = defaultdict(Counter)
    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = stack.split(";")
        thread = frames[1] if len(frames) > 1 and frames[0].startswith("process") else frames[0]
        threads[thread][classify(frames)] += int(n)
    lines = []
    for thread, where in sorted(threads.items(), key=lambda t: -sum(t[1].values())):
        total = sum(where.values())
        if total < 50:
            continue
        parts = ", ".join(f"{k} {v / total:.0%}" for k, v in where.most_common(8))
        lines.append(f"  {thread} ({total} samples): {parts}")
    return lines


def classify(frames: Sequence[str]) -> str:
    text = ";".join(frames)
    for label, needles in WHERE:
        if any(n in text for n in needles):
            return label
    return frames[-1].split(" (")[0] if frames else "?"
