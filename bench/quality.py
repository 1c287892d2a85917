"""Benchmark: does the ingest refuse exactly the faults the simulator injects?

The sample city's fleet is simulated in this process (``feeds.simulator``:
each device in its own format, LIP radios included) with the simulator's
fault injector at a known rate; every injected fault is labelled on a side
channel (kind, topic, SHA-256 of the payload, expected reason), never in the
payload. Messages go through a real Mosquitto to a real ``dispatchmap ingest``
process writing to a fresh PostGIS database, paced in real time as
``dispatchmap simulate`` paces them (LIP reports are dated on receipt).

When every published message is accounted for (stored fix, device event or
quarantine row), each label is looked up: a fault is caught when a quarantine
row with its topic and payload hash carries the expected reason; an
``unknown_device`` fault is caught when it was stored under a device with no
unit. A duplicate is labelled once and sent twice: one copy is stored, the
other must be quarantined as ``duplicate``. ``false_reject`` is the share of
good (unlabelled) messages that ended in quarantine. The data-quality page's
own queries are checked against the same totals.

Run from the repository root: ``.venv/bin/python bench/quality.py``. With
DATABASE_URL / MQTT_URL unset, private servers run under a temp folder; with
them set, a fresh database is created on that server (and dropped after) and
the topics carry a prefix of this run's own. The last line is the figure the
README quotes: ``quality injected=N caught=M recall=R false_reject=F``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
import psycopg
from psycopg import sql

from dispatchmap.cli import load_city
from dispatchmap.runtime import create_database
from dispatchmap.services import EmbeddedMosquitto, EmbeddedPostgres
from dispatchmap.settings import mqtt_host_port
from feeds.faults import FaultInjector, sha256
from feeds.simulator import build_fleet, messages
from feeds.topics import Topics
from store import city as city_store
from store import quality as stored_quality
from store.migrate import upgrade

PROBE = "bench-probe"
GOAL_RECALL, GOAL_FALSE_REJECT = 0.99, 0.001


@contextmanager
def servers(work: Path) -> Iterator[tuple[str, str, bool]]:
    """(admin database URL, MQTT URL, whether the database is private)."""
    with ExitStack() as stack:
        db = os.environ.get("DATABASE_URL")
        mq = os.environ.get("MQTT_URL")
        if db is None:
            db = stack.enter_context(EmbeddedPostgres(work / "pg")).url
        if mq is None:
            mq = stack.enter_context(EmbeddedMosquitto(work / "mq")).url
        yield db, mq, "DATABASE_URL" not in os.environ


@contextmanager
def fresh_database(admin_url: str) -> Iterator[str]:
    """A database of this run's own, migrated, with the sample city; dropped after."""
    name = f"dmbench_quality_{uuid.uuid4().hex[:8]}"
    url = create_database(admin_url, name)
    try:
        with psycopg.connect(url) as conn:
            upgrade(conn)
        load_city(url, None, None, 1)
        yield url
    finally:
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def ingest(db_url: str, mqtt_url: str, topics: Topics, log: Path) -> Iterator[None]:
    """``dispatchmap ingest`` as a process, configured as deployed, for the block."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "MQTT_URL": mqtt_url,
        "DM_TOPIC_PREFIX": topics.prefix,
        "DM_TOPIC_OWNTRACKS_PREFIX": topics.owntracks_prefix,
        "DM_INGEST_METRICS_PORT": "0",
        "DM_INGEST_CLIENT_ID": f"bench-quality-{uuid.uuid4().hex[:8]}",
    }
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "dispatchmap.cli", "ingest"], env=env, stdout=out, stderr=out
        )
        try:
            yield
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def publisher(mqtt_url: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bench-pub-{os.getpid()}")
    client.max_inflight_messages_set(1000)
    client.connect(*mqtt_host_port(mqtt_url))
    client.loop_start()
    return client


def count(db_url: str, query: str, params: tuple = ()) -> int:
    with psycopg.connect(db_url) as conn:
        row = conn.execute(query, params).fetchone()
    return int(row[0]) if row else 0


def wait_subscribed(db_url: str, client: mqtt.Client, topics: Topics, timeout_s: float) -> None:
    """Publish probes until one is stored: then the worker's session exists."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = {"lat": 60.17, "lon": 24.94, "ts": datetime.now(UTC).isoformat()}
        client.publish(topics.gps(PROBE), json.dumps(body).encode(), qos=1).wait_for_publish(10)
        time.sleep(0.5)
        if count(db_url, "SELECT count(*) FROM positions WHERE device_id = %s", (PROBE,)):
            return
    raise SystemExit("bench/quality: the ingest never subscribed (see its log)")


def simulate(
    db_url: str, client: mqtt.Client, topics: Topics, args: argparse.Namespace, labels: io.StringIO
) -> tuple[list[tuple[str, bytes]], Counter[str], int]:
    """Publish the fleet for ``args.duration`` s as ``dispatchmap simulate`` does;
    (every message published, faults injected by kind, units)."""
    with psycopg.connect(db_url) as conn:
        roster = city_store.roster(conn)[: args.units]
        fleet = build_fleet(
            roster,
            city_store.car_graph(conn),
            city_store.foot_graph(conn),
            city_store.node_positions(conn),
            args.seed,
            "devices",
        )
    faults = FaultInjector(args.fault_rate, args.seed, labels)
    period_s = 1.0 / args.rate
    sent: list[tuple[str, bytes]] = []
    infos = []
    tick, started, started_at = 0, time.monotonic(), datetime.now(UTC)
    while tick * period_s < args.duration:
        at = started_at + timedelta(seconds=tick * period_s)
        for unit in fleet:
            fix = unit.mover.step(period_s * args.speedup)
            for topic, payload in messages(unit, topics, at, fix, tick, faults):
                infos.append(client.publish(topic, payload, qos=1))
                sent.append((topic, payload))
        tick += 1
        threading.Event().wait(max(0.0, started + tick * period_s - time.monotonic()))
    for info in infos:
        info.wait_for_publish(60)
    return sent, Counter({k: v for k, v in faults.injected.items() if v}), len(fleet)


def accounted(db_url: str) -> tuple[int, int, int]:
    """(positions, device events, quarantine rows) stored so far."""
    with psycopg.connect(db_url) as conn:
        row = conn.execute(
            "SELECT (SELECT count(*) FROM positions), (SELECT count(*) FROM device_events),"
            " (SELECT count(*) FROM quarantine)"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def wait_accounted(db_url: str, expected_extra: int, timeout_s: float) -> tuple[int, int, int]:
    """Poll until stored + quarantined = published (+ the probes stored)."""
    deadline, last = time.monotonic() + timeout_s, (0, 0, 0)
    while time.monotonic() < deadline:
        last = accounted(db_url)
        probes = count(db_url, "SELECT count(*) FROM positions WHERE device_id = %s", (PROBE,))
        if sum(last) >= expected_extra + probes:
            time.sleep(1.0)  # anything more (a message accounted twice) shows too
            return accounted(db_url)
        time.sleep(0.25)
    return last


def judge(db_url: str, topics: Topics, sent: list[tuple[str, bytes]], labels: list[dict]):
    """(caught by kind, misses, false rejects by reason with an example, good count)."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            "SELECT topic, encode(sha256(payload), 'hex'), reason, coalesce(detail, '')"
            " FROM quarantine"
        ).fetchall()
        unknown = {
            d
            for (d,) in conn.execute(
                "SELECT DISTINCT device_id FROM positions WHERE unit_id IS NULL"
            )
        }
    reasons: dict[tuple[str, str], list[str]] = defaultdict(list)
    for topic, digest, reason, _ in rows:
        reasons[(topic, digest)].append(reason)
    labelled = {(lb["topic"], lb["sha256"]) for lb in labels}
    caught: Counter[str] = Counter()
    misses = []
    for lb in labels:
        key, expected = (lb["topic"], lb["sha256"]), lb["expected_reason"]
        if expected is None:
            route = topics.route(lb["topic"])
            ok = route is not None and route.device_id in unknown and not reasons.get(key)
        else:
            ok = expected in reasons.get(key, [])
        if ok:
            caught[lb["kind"]] += 1
        else:
            misses.append((lb["kind"], expected, reasons.get(key) or ["stored"]))
    false: dict[str, list[str]] = defaultdict(list)
    for topic, digest, reason, detail in rows:
        if (topic, digest) not in labelled:
            false[reason].append(f"{topic}: {detail}")
    good = sum(1 for topic, payload in sent if (topic, sha256(payload)) not in labelled)
    return caught, misses, false, good


def page_totals(db_url: str, since_s: float) -> dict[str, int]:
    """What the data-quality page's own queries count over the run."""
    with psycopg.connect(db_url) as conn:
        return stored_quality.message_totals(conn, datetime.now(UTC), since_s)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=120.0, help="simulated seconds")
    parser.add_argument("--rate", type=float, default=1.0, help="reports per unit per second")
    parser.add_argument("--speedup", type=float, default=1.0, help="units move this much faster")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of fixes spoiled")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--units", type=int, help="only the first N units of the roster")
    parser.add_argument("--timeout", type=float, default=120.0, help="wait for the ingest, s")
    args = parser.parse_args()
    tag = uuid.uuid4().hex[:6]
    topics = Topics(prefix=f"bq{tag}", owntracks_prefix=f"bqot{tag}")
    with tempfile.TemporaryDirectory(prefix="dm-bench-quality-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # the private PostgreSQL runs as its own user
        with (
            servers(work) as (admin_url, mqtt_url, _private),
            fresh_database(admin_url) as db_url,
            ingest(db_url, mqtt_url, topics, work / "ingest.log"),
        ):
            client = publisher(mqtt_url)
            try:
                wait_subscribed(db_url, client, topics, 60)
                labels_io = io.StringIO()
                began = time.monotonic()
                sent, injected, units = simulate(db_url, client, topics, args, labels_io)
            finally:
                client.loop_stop()
                client.disconnect()
            stored = wait_accounted(db_url, len(sent), args.timeout)
            probes = count(db_url, "SELECT count(*) FROM positions WHERE device_id = %s", (PROBE,))
            labels = [json.loads(line) for line in labels_io.getvalue().splitlines()]
            caught, misses, false, good = judge(db_url, topics, sent, labels)
            page = page_totals(db_url, time.monotonic() - began + 600)
            log_tail = (work / "ingest.log").read_text()[-2000:]
    return report(
        args,
        sent,
        units,
        probes,
        stored,
        injected,
        labels,
        caught,
        misses,
        false,
        good,
        page,
        log_tail,
    )


def report(
    args, sent, units, probes, stored, injected, labels, caught, misses, false, good, page, log_tail
) -> int:
    expected = len(sent) + probes
    total = sum(stored)
    print(
        f"published {len(sent)} messages from {units} units over {args.duration:.0f} s "
        f"(rate {args.rate} Hz, speedup {args.speedup}, fault rate {args.fault_rate}, "
        f"seed {args.seed}) + {probes} probe(s)"
    )
    print(
        f"accounted for: {stored[0]} stored fixes + {stored[1]} events + {stored[2]} quarantined "
        f"= {total} of {expected}" + ("" if total == expected else "  <-- NOT ALL ACCOUNTED FOR")
    )
    print(
        f"page totals: messages={page['messages_n']} rejected={page['rejected_n']}"
        + (
            " (match)"
            if page["messages_n"] == total and page["rejected_n"] == stored[2]
            else " (MISMATCH)"
        )
    )
    for kind in sorted(injected):
        print(f"  {kind:<15} injected {injected[kind]:>4}  caught {caught[kind]:>4}")
    for kind, want, got in misses[:20]:
        print(f"  missed: {kind} expected {want}, got {', '.join(got)}")
    for reason, examples in sorted(false.items()):
        print(f"  false reject: {reason} x{len(examples)}, e.g. {examples[0]}")
    n_caught = sum(caught.values())
    recall = n_caught / len(labels) if labels else 1.0
    false_n = sum(len(v) for v in false.values())
    false_reject = false_n / (good + probes) if good + probes else 0.0
    met = recall >= GOAL_RECALL and false_reject <= GOAL_FALSE_REJECT and total == expected
    print(
        f"goal recall >= {GOAL_RECALL}, false_reject <= {GOAL_FALSE_REJECT}, all accounted: "
        + ("met" if met else "MISSED")
    )
    if total != expected:
        print("ingest log tail:\n" + log_tail)
    print(
        f"quality injected={len(labels)} caught={n_caught} "
        f"recall={recall:.4f} false_reject={false_reject:.4f}"
    )
    return 0 if total == expected else 1


if __name__ == "__main__":
    sys.exit(main())
