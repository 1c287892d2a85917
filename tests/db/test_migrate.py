import psycopg
import pytest

from store import migrate


def test_upgrade_applies_everything_once_and_records_it(empty_db_url):
    with psycopg.connect(empty_db_url) as conn:
        first = migrate.upgrade(conn)
        assert [m.version for m in first] == [m.version for m in migrate.shipped()]
        assert migrate.upgrade(conn) == []
        recorded = conn.execute("SELECT version, name FROM schema_migrations ORDER BY 1").fetchall()
        assert recorded == [(m.version, m.name) for m in first]
        assert conn.execute("SELECT postgis_version() IS NOT NULL").fetchone() == (True,)


def test_an_edited_applied_migration_is_an_error(empty_db_url):
    with psycopg.connect(empty_db_url) as conn:
        migrate.upgrade(conn)
        conn.execute("UPDATE schema_migrations SET sha256 = 'x' WHERE version = 1")
        conn.commit()
        with pytest.raises(migrate.MigrationError, match="edited after it was applied"):
            migrate.upgrade(conn)


def test_positions_are_partitioned_by_day_with_gist_indexes(conn):
    made = conn.execute("SELECT ensure_position_partitions('2026-03-01', '2026-03-03')").fetchone()
    again = conn.execute("SELECT ensure_position_partitions('2026-03-01', '2026-03-03')").fetchone()
    assert made == (3,) and again == (0,)
    bound = conn.execute(
        "SELECT pg_get_expr(relpartbound, oid) FROM pg_class WHERE relname = 'positions_20260302'"
    ).fetchone()
    assert bound == ("FOR VALUES FROM ('2026-03-02 00:00:00+00') TO ('2026-03-03 00:00:00+00')",)
    gist = {
        r[0]
        for r in conn.execute("SELECT tablename FROM pg_indexes WHERE indexdef LIKE '%USING gist%'")
    }
    assert {"road_edges", "beats", "cameras", "positions"} <= gist


def test_latest_state_tables_are_updated_in_place(conn):
    """No index on a column every fix changes, and room on each page: the
    upserts of every batch are heap-only (HOT) updates."""
    indexed = conn.execute(
        "SELECT tablename, indexname FROM pg_indexes"
        " WHERE tablename IN ('device_latest', 'unit_latest') ORDER BY 1"
    ).fetchall()
    assert indexed == [("device_latest", "device_latest_pkey"), ("unit_latest", "unit_latest_pkey")]
    options = conn.execute(
        "SELECT relname, reloptions FROM pg_class"
        " WHERE relname IN ('device_latest', 'unit_latest') ORDER BY 1"
    ).fetchall()
    assert options == [("device_latest", ["fillfactor=50"]), ("unit_latest", ["fillfactor=50"])]
