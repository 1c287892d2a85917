"""Administration: the schema, the city, users, wall tokens, retention."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dispatchmap.commands import database_url


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import ProgramDatabaseSettings
    from store.migrate import upgrade
    from store.roles import ROLES, set_role_password

    cfg = ProgramDatabaseSettings()
    with psycopg.connect(database_url()) as conn:
        done = upgrade(conn)
        for program, role in ROLES.items():
            if (password := cfg.password(program)) is not None:
                set_role_password(conn, program, password)
                print(f"password of role {role} set")
        conn.commit()
    print(
        f"applied {len(done)} migration(s)" + "".join(f"\n  {m.version:03d}_{m.name}" for m in done)
    )
    print("program roles: " + ", ".join(ROLES.values()))
    return 0


def cmd_audit_verify(args: argparse.Namespace) -> int:
    import psycopg

    from geo import records

    broken = 0
    with psycopg.connect(database_url()) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ  # one snapshot
        conn.read_only = True
        for log in records.LOGS:
            report = records.verify(conn, log)
            if report.ok:
                print(
                    f"{log}: ok, {report.rows} row(s), head seq {report.head_seq} "
                    f"hash {records.short(report.head_hash)}"
                )
                continue
            broken += 1
            where = (
                f" at chain seq {report.seq} (id {report.row_id})"
                if report.row_id is not None
                else ""
            )
            print(f"{log}: BROKEN{where}: {report.problem}")
    return 1 if broken else 0


def load_city(url: str, pbf: Path | None, furniture_dir: Path | None, seed: int) -> str:
    """:func:`usecases.city.load_city`, imported when called (the CLI starts
    without pyrosm, shapely and the city's modules)."""
    from usecases.city import load_city as load

    return load(url, pbf, furniture_dir, seed)


def cmd_load_city(args: argparse.Namespace) -> int:
    print(load_city(database_url(), args.pbf, args.furniture, args.seed))
    return 0


def cmd_users_add(args: argparse.Namespace) -> int:
    import getpass

    import psycopg

    from geo.access import AccessError
    from usecases import access

    password = sys.stdin.readline().rstrip("\n") if args.password_stdin else getpass.getpass()
    with psycopg.connect(database_url()) as conn:
        try:
            access.add_user(conn, args.name, args.role, password)
        except AccessError as exc:
            sys.exit(f"dispatchmap users add: {exc}")
        access.audit(conn, "cli", "add_user", True, detail={"name": args.name, "role": args.role})
    print(f"user {args.name} ({args.role}) created")
    return 0


def cmd_wall_token(args: argparse.Namespace) -> int:
    import psycopg

    from geo.access import AccessError
    from usecases import access

    with psycopg.connect(database_url()) as conn:
        try:
            token = access.add_wall_token(conn, args.label, "cli")
        except AccessError as exc:
            # Returned, not raised: leaving the block normally commits the
            # refusal's audit row.
            print(f"dispatchmap wall-token: error: {exc}", file=sys.stderr)
            return 2
    print(f"wall token for {args.label!r} (shown once): {token}")
    print(f"open the wall at /wall?token={token}")
    return 0


def cmd_retention(args: argparse.Namespace) -> int:
    import psycopg

    from usecases.retention import drop_old_partitions

    with psycopg.connect(database_url()) as conn:
        dropped = drop_old_partitions(conn, args.keep_days)
    print(
        f"dropped {len(dropped)} day partition(s) of positions"
        + "".join(f"\n  {name}" for name in dropped)
    )
    return 0
