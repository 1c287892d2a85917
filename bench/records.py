"""Benchmark: what the hash chain costs an insert into the event log and the
audit log (schema 010_records).

Inserts ``--rows`` (2,000) rows into ``events`` and into ``audit_log``, one
row per transaction as the programs write them (a commit each), from
``--threads`` (1, then 4) connections at once as the dispatcher's role, into
two databases: one with the chain trigger switched off (the ceiling: the same
insert, no lock, no hash) and one with it on, ``--rounds`` (5) rounds each,
interleaved, since the machine is shared and its load comes in bursts. Prints
the best and the median rows per second of each and the ratio of the bests;
the chained log is verified afterwards (``geo.records.verify``).

Run from the repository root, with DATABASE_URL unset for a private server
under a temp folder: ``PYTHONPATH=$PWD .venv/bin/python bench/records.py``.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from contextlib import ExitStack

import psycopg
from psycopg import sql
from scratch import scratch_database  # bench/ is on the path when run as a script

from geo import records
from store.migrate import upgrade
from store.roles import role_url

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


def fresh(stack: ExitStack, log: str, chained: bool) -> str:
    """A new migrated database; ``log``'s chain trigger off unless ``chained``."""
    url = scratch_database(stack, "bench_records")
    with psycopg.connect(url) as conn:
        upgrade(conn)
    if not chained:
        chain_switch(url, log, False)
    return url


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=2000, help="rows a round")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 4])
    args = ap.parse_args()
    with ExitStack() as stack:
        for log in records.LOGS:
            for threads in args.threads:
                bare_url, chained_url = fresh(stack, log, False), fresh(stack, log, True)
                bare, chained = [], []
                for _ in range(args.rounds):  # interleaved: a load burst hits both
                    bare.append(rate(bare_url, log, args.rows, threads))
                    chained.append(rate(chained_url, log, args.rows, threads))
                with psycopg.connect(chained_url) as conn:
                    report = records.verify(conn, log)
                assert report.ok and report.rows == args.rounds * args.rows // threads * threads
                print(
                    f"{log:9s} threads {threads}: no chain {max(bare):6.0f} rows/s "
                    f"(median {statistics.median(bare):6.0f}), chained {max(chained):6.0f} "
                    f"(median {statistics.median(chained):6.0f}), best ratio "
                    f"{max(chained) / max(bare):.2f}; {report.rows} chained rows verified",
                    flush=True,
                )


if __name__ == "__main__":
    main()
