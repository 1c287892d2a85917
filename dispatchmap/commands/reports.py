"""Questions about the live station: suggestions, the response clock, presence."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta

from dispatchmap.commands import database_url


def cmd_suggest(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import DispatchSettings
    from usecases import desk, shown_sets
    from usecases import incidents as inc

    cfg = DispatchSettings()
    with psycopg.connect(database_url()) as conn:
        now = datetime.now(UTC)
        router = inc.load_router(conn)
        cover = desk.current_coverage(conn, router, now, cfg.max_fix_age_s, cfg.coverage_target_s)
        try:
            rules = inc.rules_for(conn, cfg.max_fix_age_s)
            view = desk.incident_view(conn, router, args.incident, rules, cover, now)
        except LookupError:
            print(f"no incident {args.incident}", file=sys.stderr)
            return 1
        if args.dispatch:
            # The desk's path: the view stored as the set shown, dispatched from it.
            viewer = shown_sets.Viewer(args.actor)
            try:
                sent = desk.dispatch_first(
                    conn, view, args.dispatch, viewer, now, cfg.shown_max_age_s
                )
            except shown_sets.DispatchRefused as exc:
                conn.rollback()
                print(f"not dispatched: {exc.reason} {exc.detail}", file=sys.stderr)
                return 1
            conn.commit()
            print(f"dispatched {len(sent.orders)} unit(s); refused {len(sent.refused)}")
    row = view.incident
    print(f"incident {row['id']} {row['type']} P{row['priority']} in {row['beat']}")
    for s in view.ranked:
        print(
            f"  {s['call_sign']:<6} eta {s['eta_s']:6.0f} s  road {s['road_distance_m']:6.0f} m  "
            f"line {s['straight_distance_m']:6.0f} m  fix {s['fix_age_s']:4.0f} s  "
            f"cover {s['coverage_pct']:3d} %  {'; '.join(s['reasons'])}"
        )
    if view.suggestions.shortfall:
        print(f"  shortfall: {view.suggestions.shortfall}")
    return 0


def cmd_response_clock(args: argparse.Namespace) -> int:
    import psycopg

    from geo.response import csv_text, summary
    from store import incidents as incident_store
    from store import orders as order_store

    until = args.until or datetime.now(UTC)
    since = args.since or until - timedelta(hours=24)
    with psycopg.connect(database_url()) as conn:
        clocks = incident_store.response_clock(conn, since, until)
        acks = order_store.order_ack_times(conn, since, until)
    if args.csv:
        args.csv.write_text(csv_text(clocks))
    for key, value in summary(clocks, acks).items():
        shown = "-" if value is None else f"{value:.3f}" if isinstance(value, float) else value
        print(f"{key:<32} {shown}")
    return 0


def cmd_presence(args: argparse.Namespace) -> int:
    import psycopg

    from dispatchmap.settings import PresenceSettings
    from geo import queries

    cfg = PresenceSettings()
    read = queries.device_presence if args.devices else queries.unit_presence
    with psycopg.connect(database_url()) as conn:
        rows = read(conn, datetime.now(UTC), cfg.stale_s, cfg.offline_s)
    key = "device_id" if args.devices else "call_sign"
    for r in rows:
        age = "-" if r["fix_age_s"] is None else f"{r['fix_age_s']:.0f} s"
        print(f"{r[key]:<24} {r['presence']:<8} {age:>10}")
    return 0
