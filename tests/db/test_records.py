"""Records that can be trusted: the program roles may only append to and read
the event log and the audit log, nobody may TRUNCATE them, and both are hash
chains that `dispatchmap audit verify` checks (real PostgreSQL)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from datetime import UTC, datetime

import psycopg
import pytest

from geo import records
from store import migrate
from store.roles import ROLES, role_url
from tests.conftest import wait_until

REFUSED = [
    "UPDATE {log} SET actor = 'x'",
    "DELETE FROM {log}",
    "TRUNCATE {log}",
    "ALTER TABLE {log} DISABLE TRIGGER USER",
    "DROP TRIGGER zz_{log}_chain ON {log}",
    "ALTER TABLE {log} ADD COLUMN extra text",
    "CREATE TRIGGER sneak BEFORE INSERT ON {log} FOR EACH ROW"
    " EXECUTE FUNCTION log_truncate_refused()",
    "UPDATE log_chain_heads SET seq = 0",
]
INSERTS = {
    "events": "INSERT INTO events (at, kind, actor, data) VALUES (now(), 'note', %s, '{}')",
    "audit_log": "INSERT INTO audit_log (actor, action, ok) VALUES (%s, 'test', true)",
}


def cli(db_url: str, *words: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.run(
        [sys.executable, "-m", "dispatchmap.cli", *words],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("program", sorted(ROLES))
@pytest.mark.parametrize("log", ["events", "audit_log"])
def test_program_roles_append_and_read_the_logs_and_nothing_else(db_url, program, log):
    with psycopg.connect(role_url(db_url, program), autocommit=True) as conn:
        assert conn.execute("SELECT current_user").fetchone() == (ROLES[program],)
        conn.execute(INSERTS[log], (program,))
        assert conn.execute(f"SELECT count(*) FROM {log}").fetchone() == (1,)
        for statement in REFUSED:
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement.format(log=log))


@pytest.mark.parametrize("program", ["ingest", "dispatcher"])
def test_ingest_and_dispatcher_cannot_read_users_or_sessions(db_url, program):
    with psycopg.connect(role_url(db_url, program), autocommit=True) as conn:
        for table in ("users", "sessions", "wall_tokens"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT * FROM {table}")


def test_the_owner_cannot_truncate_the_logs_either(conn):
    for log in ("events", "audit_log"):
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="TRUNCATE refused"):
            conn.execute(f"TRUNCATE {log} CASCADE")
        conn.rollback()


def test_the_ingest_role_makes_day_partitions_it_cannot_drop(db_url, conn):
    with psycopg.connect(role_url(db_url, "ingest"), autocommit=True) as ingest:
        made = ingest.execute("SELECT ensure_position_partitions('2031-01-01', '2031-01-02')")
        assert made.fetchone() == (2,)
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ingest.execute("DROP TABLE positions_20310101")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            ingest.execute("CREATE TABLE mine (x int)")
    owner = conn.execute(
        "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE relname = 'positions_20310101'"
    ).fetchone()
    assert owner == (conn.info.user,)
    for program in ("dispatcher", "dashboard"):
        with (
            psycopg.connect(role_url(db_url, program)) as other,
            pytest.raises(psycopg.errors.InsufficientPrivilege),
        ):
            other.execute("SELECT ensure_position_partitions('2031-02-01', '2031-02-01')")


def test_concurrent_appends_make_one_unbroken_chain(db_url):
    threads, each = 6, 25
    errors: list[BaseException] = []
    start = threading.Barrier(threads)

    def append(n: int) -> None:
        program = sorted(ROLES)[n % len(ROLES)]
        try:
            with psycopg.connect(role_url(db_url, program)) as conn:
                start.wait()
                for i in range(each):
                    with conn.transaction():
                        conn.execute(INSERTS["events"], (f"{program}-{n}-{i}",))
                        conn.execute(INSERTS["audit_log"], (f"{program}-{n}-{i}",))
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    workers = [threading.Thread(target=append, args=(n,)) for n in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert errors == []
    with psycopg.connect(db_url) as conn:
        for log in records.LOGS:
            report = records.verify(conn, log)
            assert report.ok, report
            assert report.rows == report.head_seq == threads * each
    done = cli(db_url, "audit", "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"events: ok, {threads * each} row(s), head seq {threads * each}" in done.stdout


def test_an_uncommitted_event_does_not_hold_up_other_event_writers(db_url):
    """The chain's lock is taken at commit: a transaction that logged an event
    and goes on to lock a unit never waits for the chain while holding that
    unit (a deadlock when the lock was taken at INSERT)."""
    with (
        psycopg.connect(role_url(db_url, "dashboard")) as desk,
        psycopg.connect(role_url(db_url, "dispatcher")) as worker,
    ):
        desk.execute(INSERTS["events"], ("desk:alice",))  # open, uncommitted
        worker.execute("SET lock_timeout = '5s'")
        worker.execute("UPDATE units SET status = status WHERE id = 'U002'")
        worker.execute(INSERTS["events"], ("unit:U002",))
        worker.commit()
        desk.execute("UPDATE units SET status = status WHERE id = 'U002'")
        desk.commit()
        rows = desk.execute("SELECT actor, chain_seq FROM events ORDER BY chain_seq").fetchall()
    assert rows == [("unit:U002", 1), ("desk:alice", 2)]  # commit order, not id order
    with psycopg.connect(db_url) as conn:
        assert records.verify(conn, "events").ok


def test_appending_to_both_logs_in_either_order_does_not_deadlock(db_url):
    """Each chain link locks both heads in one order: a transaction logging an
    event then an audit row, and another doing it the other way round, queue
    instead of deadlocking (links made at once, as SET CONSTRAINTS allows)."""
    errors: list[BaseException] = []
    with (
        psycopg.connect(role_url(db_url, "dashboard")) as first,
        psycopg.connect(role_url(db_url, "dashboard")) as second,
    ):
        pid = second.info.backend_pid
        first.execute("SET CONSTRAINTS ALL IMMEDIATE")
        first.execute(INSERTS["events"], ("first",))

        def other_order() -> None:
            try:
                second.execute("SET CONSTRAINTS ALL IMMEDIATE")
                second.execute(INSERTS["audit_log"], ("second",))
                second.execute(INSERTS["events"], ("second",))
                second.commit()
            except BaseException as exc:  # reported below
                errors.append(exc)

        thread = threading.Thread(target=other_order)
        thread.start()
        with psycopg.connect(db_url, autocommit=True) as watch:
            waiting = "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s"
            wait_until(lambda: watch.execute(waiting, (pid,)).fetchone() == (True,))
        first.execute(INSERTS["audit_log"], ("first",))
        first.commit()
        thread.join(30)
    assert errors == []
    with psycopg.connect(db_url) as conn:
        assert all(records.verify(conn, log).ok for log in records.LOGS)


def test_inside_its_transaction_a_row_may_not_be_rechained_by_hand(conn):
    conn.execute(INSERTS["events"], ("desk:alice",))
    with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
        conn.execute("UPDATE events SET chain_seq = 7, chain_hash = 'x'")


def _edit_as_superuser(conn: psycopg.Connection, log: str, trigger: str, change: str) -> None:
    conn.execute(f"ALTER TABLE {log} DISABLE TRIGGER {trigger}")
    conn.execute(change)
    conn.execute(f"ALTER TABLE {log} ENABLE TRIGGER {trigger}")
    conn.commit()


def test_verify_names_the_row_the_owner_edited(db_url, conn):
    for i in range(5):
        conn.execute(INSERTS["events"], (f"desk:{i}",))
        conn.execute(INSERTS["audit_log"], (f"desk:{i}",))
    conn.commit()
    third = conn.execute("SELECT id, chain_seq FROM events ORDER BY chain_seq OFFSET 2").fetchone()
    _edit_as_superuser(
        conn,
        "events",
        "events_append_only",
        f"UPDATE events SET data = '{{\"x\": 1}}' WHERE id = {third[0]}",
    )
    report = records.verify(conn, "events")
    assert (report.seq, report.row_id) == (third[1], third[0])
    assert "stored hash" in (report.problem or "")
    assert records.verify(conn, "audit_log").ok
    done = cli(db_url, "audit", "verify")
    assert done.returncode == 1
    assert f"events: BROKEN at chain seq {third[1]} (id {third[0]})" in done.stdout
    assert "audit_log: ok, 5 row(s)" in done.stdout


def test_verify_finds_a_deleted_row_and_a_cut_off_end(conn):
    for i in range(4):
        conn.execute(INSERTS["audit_log"], (f"admin:{i}",))
    conn.commit()
    _edit_as_superuser(
        conn, "audit_log", "audit_log_append_only", "DELETE FROM audit_log WHERE chain_seq = 2"
    )
    gap = records.verify(conn, "audit_log")
    assert gap.seq == 3 and "where 2 was due" in (gap.problem or "")
    _edit_as_superuser(
        conn, "audit_log", "audit_log_append_only", "DELETE FROM audit_log WHERE chain_seq <> 1"
    )
    cut = records.verify(conn, "audit_log")
    assert cut.row_id is None and "log ends at seq 1" in (cut.problem or "")


def test_rows_there_before_the_migration_are_chained_in_id_order(empty_db_url):
    with psycopg.connect(empty_db_url) as conn:
        with conn.transaction():
            migrate.applied(conn)  # makes the ledger
            for m in migrate.shipped():
                if m.version < 10:
                    conn.execute(m.sql.encode())
                    conn.execute(
                        "INSERT INTO schema_migrations (version, name, sha256) VALUES (%s, %s, %s)",
                        (m.version, m.name, m.sha256),
                    )
            at = datetime(2026, 3, 2, 10, 15, tzinfo=UTC)
            for i in range(3):
                conn.execute(
                    "INSERT INTO events (at, kind, actor, geom, data) VALUES "
                    "(%s, 'note', 'desk', ST_SetSRID(ST_MakePoint(24.9, 60.1), 4326), %s)",
                    (at, json.dumps({"i": i})),
                )
                conn.execute(INSERTS["audit_log"], (f"old:{i}",))
        applied = migrate.upgrade(conn)
        assert applied[0].version == 10
        seqs = conn.execute("SELECT id, chain_seq FROM events ORDER BY id").fetchall()
        assert [s for _, s in seqs] == [1, 2, 3]
        for log in records.LOGS:
            report = records.verify(conn, log)
            assert report.ok and report.rows == 3, report
        conn.execute("SET TIME ZONE 'Asia/Shanghai'")  # the hash does not follow the session
        assert records.verify(conn, "events").ok
