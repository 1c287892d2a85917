"""JT/T 808 end to end: N terminals over real TCP sockets, each reporting every
``--period`` s, through ``dispatchmap jt808-gateway`` (its own process) ->
Mosquitto -> an ingest worker (its own process) -> PostGIS.

Each report's latency is from the moment the terminal wrote it to the commit
of the row that stores it (``pg_xact_commit_timestamp``; the frame's own time
has whole seconds only, so the bench keeps the send time of every report).
"lost" counts reports the terminals sent during the run that are not stored.
The last line: ``jt808 terminals=N reports_per_s=R p95_report_to_commit_ms=L lost=0``.

Run: ``PYTHONPATH=$PWD .venv/bin/python bench/jt808.py --terminals 5000 --seconds 60``
(private PostgreSQL and Mosquitto unless DATABASE_URL / MQTT_URL are set).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta

import psycopg
from ingest_servers import Env, create_session, servers
from ingest_workers import Workers, WorkerSpec
from psycopg import sql

from dispatchmap.services import free_port
from feeds.decoders import jt808 as j
from feeds.pipeline import Limits
from store import migrate

GMT8 = timedelta(hours=8)
CENTRE = (60.17, 24.94)
SECRET = "bench-secret"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--terminals", type=int, default=5000)
    p.add_argument("--period", type=float, default=5.0, help="seconds between reports")
    p.add_argument("--seconds", type=float, default=60.0, help="measured reporting time")
    p.add_argument("--seed", type=int, default=1)
    return p.parse_args()


def phone(i: int) -> str:
    return f"0139{i:08d}"


def prepare_database(env: Env, n: int) -> str:
    """A fresh migrated database with ``n`` units, each with a JT/T 808 terminal."""
    name = "bench_jt808"
    with psycopg.connect(env.admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = env.admin_url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(url) as conn:
        migrate.upgrade(conn)
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO units (id, call_sign, kind) VALUES (%s, %s, 'car')",
                [(f"J{i:05d}", f"J-{i:05d}") for i in range(n)],
            )
            cur.executemany(
                "INSERT INTO devices (id, unit_id, kind, format) VALUES (%s, %s, 'gps', 'jt808')",
                [(f"jt808-{phone(i)}", f"J{i:05d}") for i in range(n)],
            )
    return url


class Terminal:
    """One terminal's connection; ``sent`` maps fix time -> wall time written."""

    def __init__(self, i: int, rng: random.Random) -> None:
        self.phone, self.serial = phone(i), 0
        self.lat = CENTRE[0] + rng.uniform(-0.05, 0.05)
        self.lon = CENTRE[1] + rng.uniform(-0.1, 0.1)
        self.sent: dict[datetime, float] = {}
        self.acked = 0
        self.reader: asyncio.StreamReader
        self.writer: asyncio.StreamWriter

    def frame(self, msg_id: int, body: bytes) -> bytes:
        self.serial = (self.serial + 1) & 0xFFFF
        return j.build_frame(msg_id, self.phone, self.serial, body)

    async def login(self, port: int) -> None:
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", port)
        self.writer.write(self.frame(j.REGISTER, bytes(37)))
        code = (await self._next()).body[3:]
        self.writer.write(self.frame(j.AUTHENTICATE, code))
        answer = await self._next()
        if answer.body[4] != j.OK:
            raise RuntimeError(f"{self.phone} not authenticated")

    async def _next(self) -> j.Frame:
        start = await self.reader.readuntil(b"\x7e")
        if start != b"\x7e":
            raise RuntimeError("reply does not start with a flag")
        return j.parse_frame(b"\x7e" + await self.reader.readuntil(b"\x7e"))

    def location(self, at: datetime) -> bytes:
        self.lat += random.uniform(-1e-4, 1e-4)
        self.lon += random.uniform(-1e-4, 1e-4)
        bcd = (at + GMT8).strftime("%y%m%d%H%M%S")
        return (
            bytes(4)
            + j.STATUS_POSITIONED.to_bytes(4)
            + round(self.lat * 1e6).to_bytes(4)
            + round(self.lon * 1e6).to_bytes(4)
            + bytes(2)
            + (400).to_bytes(2)
            + (90).to_bytes(2)
            + bytes.fromhex(bcd)
        )

    async def report_until(self, period: float, offset: float, stop_at: float) -> None:
        """Report every ``period`` s from ``offset`` until ``stop_at`` (monotonic)."""
        await asyncio.sleep(offset)
        acks = asyncio.create_task(self._count_acks())
        next_at = time.monotonic()
        while next_at < stop_at:
            now = datetime.now(UTC)
            self.sent[now.replace(microsecond=0)] = now.timestamp()
            self.writer.write(self.frame(j.LOCATION, self.location(now)))
            next_at += period
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
        await asyncio.sleep(2.0)  # the last answers
        acks.cancel()
        self.writer.close()

    async def _count_acks(self) -> None:
        while True:
            if (await self._next()).header.msg_id == j.PLATFORM_RESPONSE:
                self.acked += 1


async def drive(terminals: list[Terminal], port: int, args: argparse.Namespace) -> float:
    """Log every terminal in (a hundred at a time), then report; seconds logging in took."""
    started = time.monotonic()
    for i in range(0, len(terminals), 100):
        await asyncio.gather(*(t.login(port) for t in terminals[i : i + 100]))
    logged_in = time.monotonic() - started
    stop_at = time.monotonic() + args.period + args.seconds
    rng = random.Random(args.seed)
    await asyncio.gather(
        *(t.report_until(args.period, rng.uniform(0, args.period), stop_at) for t in terminals)
    )
    return logged_in


def start_gateway(env: Env, url: str, port: int) -> subprocess.Popen[bytes]:
    run_env = dict(
        os.environ,
        DATABASE_URL=url,
        MQTT_URL=f"mqtt://{env.mqtt_host}:{env.mqtt_port}",
        DM_JT808_AUTH_SECRET=SECRET,
        DM_JT808_MAX_CONNECTIONS=str(20000),
    )
    cmd = [sys.executable, "-m", "dispatchmap.cli", "jt808-gateway"]
    proc = subprocess.Popen(
        [*cmd, "--host", "127.0.0.1", "--port", str(port)],
        env=run_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            import socket

            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the gateway did not listen")


def latencies(url: str, terminals: list[Terminal], timeout_s: float) -> tuple[list[float], int]:
    """Report-to-commit latencies (s) of the stored reports, and how many are
    missing once nothing more arrived for a few seconds (or ``timeout_s``)."""
    sent = {(f"jt808-{t.phone}", at): wall for t in terminals for at, wall in t.sent.items()}
    deadline, last, stable_since = time.monotonic() + timeout_s, -1, time.monotonic()
    query = "SELECT count(*) FROM positions"
    with psycopg.connect(url) as conn:
        while time.monotonic() < deadline:
            n = conn.execute(query).fetchone()[0]  # type: ignore[index]
            if n >= len(sent) or (n == last and time.monotonic() - stable_since > 5):
                break
            if n != last:
                last, stable_since = n, time.monotonic()
            time.sleep(0.5)
        rows = conn.execute(
            "SELECT device_id, fix_at, extract(epoch FROM pg_xact_commit_timestamp(xmin)) "
            "FROM positions"
        ).fetchall()
        refused = conn.execute(
            "SELECT reason, left(detail, 80), count(*) FROM quarantine GROUP BY 1, 2"
        ).fetchall()
    for reason, detail, n in refused:
        print(f"quarantined {n} {reason}: {detail}")
    lags = [float(c) - sent[(d, at)] for d, at, c in rows if (d, at) in sent]
    return lags, len(sent) - len(lags)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    args = parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"load {load} (1/5/15 min) on {os.cpu_count()} CPUs")
    with ExitStack() as stack:
        env = stack.enter_context(servers(stack))
        if not env.commit_ts:
            sys.exit("track_commit_timestamp is off on the configured server")
        url = prepare_database(env, args.terminals)
        spec = WorkerSpec(
            env.mqtt_host, env.mqtt_port, url, f"bench-jt808-{os.getpid()}", Limits(), None
        )
        create_session(env, spec.client_id)  # the broker keeps what comes before it runs
        workers = Workers([spec])
        stack.callback(workers.stop)
        port = free_port()
        gateway = start_gateway(env, url, port)
        stack.callback(lambda: (gateway.terminate(), gateway.wait(15)))
        rng = random.Random(args.seed)
        terminals = [Terminal(i, rng) for i in range(args.terminals)]
        logged_in = asyncio.run(drive(terminals, port, args))
        print(f"login {args.terminals} terminals registered and authenticated in {logged_in:.1f} s")
        lags, lost = latencies(url, terminals, timeout_s=120)
        ingest_cpu_s = workers.report()["cpu_s"]
        print(
            f"cpu_s gateway={cpu_s(gateway.pid):.1f} ingest={ingest_cpu_s:.1f} "
            f"terminals={sum(os.times()[:2]):.1f} (this process)"
        )
        sent = sum(len(t.sent) for t in terminals)
        acked = sum(t.acked for t in terminals)
        lags.sort()
        p95 = lags[int(0.95 * (len(lags) - 1))] * 1000 if lags else float("nan")
        p50 = lags[len(lags) // 2] * 1000 if lags else float("nan")
        rate = sent / (args.seconds + args.period)
        print(
            f"reports sent={sent} answered_0x8001={acked} stored={len(lags)} "
            f"p50_ms={p50:.0f} max_ms={lags[-1] * 1000 if lags else 0:.0f}"
        )
        print(
            f"jt808 terminals={args.terminals} reports_per_s={rate:.0f} "
            f"p95_report_to_commit_ms={p95:.0f} lost={lost}"
        )


if __name__ == "__main__":
    main()
