"""Benchmark: what the hash chain costs an insert into the event log and the
audit log (schema 010_records).

Inserts ``--rows`` (2,000) rows into ``events`` and into ``audit_log``, one
row per transaction as the programs write them (a commit each), from
``--threads`` (1, then 4) connections at once as the dispatcher's role, twice:
with the chain trigger switched off (the ceiling: the same insert, no lock,
no hash) and on. Prints rows per second for each and the ratio chain / no
chain. Every chained run is verified afterwards (``geo.records.verify``).

Run from the repository root, with DATABASE_URL unset for a private server
under a temp folder: ``PYTHONPATH=$PWD .venv/bin/python bench/records.py``.
"""

from __future__ import annotations

import argparse
import threading
import time
from contextlib import ExitStack

import psycopg
from psycopg import sql
from scratch import scratch_database  # bench/ is on the path when run as a script

from geo import records
from geo.migrate import upgrade
from geo.roles import role_url

INSERT = {
    "events": "INSERT INTO events (at, kind, actor, data) VALUES (now(), 'note', %s, %s)",
    "audit_log": "INSERT INTO audit_log (actor, action, ok, ip, detail)"
    " VALUES (%s, 'dispatch', false, '127.0.0.1', %s)",
}
TRIGGER = {"events": "zz_events_chain", "audit_log": "zz_audit_log_chain"}


def rate(url: str, log: str, rows: int, threads: int) -> float:
    """Rows per second inserting ``rows`` rows into ``log`` from ``threads``
    connections, one row per committed transaction."""
    each = rows // threads
    start = threading.Barrier(threads + 1)
    detail = '{"right": "dispatch", "refused": "wall token"}'

    def work(n: int) -> None:
        with psycopg.connect(role_url(url, "dispatcher"), autocommit=True) as conn:
            start.wait()
            for i in range(each):
                conn.execute(INSERT[log], (f"desk:{n}-{i}", detail))

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    start.wait()
    t0 = time.perf_counter()
    for w in workers:
        w.join()
    return each * threads / (time.perf_counter() - t0)


def chain_switch(url: str, log: str, on: bool) -> None:
    """Switch ``log``'s chain trigger on or off (as the owner)."""
    statement = "ALTER TABLE {} ENABLE TRIGGER {}" if on else "ALTER TABLE {} DISABLE TRIGGER {}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL(statement).format(sql.Identifier(log), sql.Identifier(TRIGGER[log])))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args()
    with ExitStack() as stack:
        for log in records.LOGS:
            for threads in args.threads:
                # A fresh database each time: the no-chain rows would break the chain.
                url = scratch_database(stack, "bench_records")
                with psycopg.connect(url) as conn:
                    upgrade(conn)
                chain_switch(url, log, False)
                bare = rate(url, log, args.rows, threads)
                url = scratch_database(stack, "bench_records")
                with psycopg.connect(url) as conn:
                    upgrade(conn)
                chained = rate(url, log, args.rows, threads)
                with psycopg.connect(url) as conn:
                    report = records.verify(conn, log)
                assert report.ok and report.rows == args.rows // threads * threads, report
                print(
                    f"{log:9s} threads {threads}: no chain {bare:7.0f} rows/s, "
                    f"chained {chained:7.0f} rows/s, ratio {chained / bare:.2f} "
                    f"(verified {report.rows} rows)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
