"""Data quality, pure: the figures of the ``/quality`` page, its CSV export
and the wall's tile, aggregated from the rows :mod:`store.quality` reads."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

FEEDS = ("native", "nmea", "lip", "jt808", "status", "owntracks")
# Reason codes the ingest gives (feeds.pipeline, feeds.decoders, feeds.writer),
# in the order the page lists them, with the words it shows.
REASONS = {
    "bad_checksum": "bad checksum",
    "out_of_range": "out of range",
    "zero_fix": "zero fix",
    "future_time": "future time",
    "too_old": "too old",
    "duplicate": "duplicate",
    "conflicting_fix": "conflicting fix",
    "gps_jump": "GPS jump",
    "poor_accuracy": "poor accuracy",
    "outside_area": "outside area",
    "undecodable": "undecodable",
    "no_fix": "no fix",
    "unsupported": "unsupported",
    "unknown_topic": "unknown topic",
    "store_error": "store error",
}
PRESENCE_RANK = {"offline": 0, "stale": 1, "no_fix": 2, "online": 3}


def share(part: int, whole: int) -> float | None:
    """``part / whole``, or None when there is nothing to divide."""
    return part / whole if whole else None


def worst_first(devices: Iterable[dict[str, Any]], key: str = "worst") -> list[dict[str, Any]]:
    """Devices sorted for the people who fix terminals. ``worst``: highest
    rejected share, then offline, stale, never heard, online, then the oldest
    fix; ``rejected``, ``messages``, ``fix_age`` (largest first) or ``device``."""

    def rejected(d: dict[str, Any]) -> float:
        return share(d["rejected_n"], d["messages_n"]) or 0.0

    def age(d: dict[str, Any]) -> float:
        return d["fix_age_s"] if d["fix_age_s"] is not None else float("inf")

    keys = {
        "worst": lambda d: (-rejected(d), PRESENCE_RANK[d["presence"]], -age(d), d["device_id"]),
        "rejected": lambda d: (-rejected(d), -d["rejected_n"], d["device_id"]),
        "messages": lambda d: (-d["messages_n"], d["device_id"]),
        "fix_age": lambda d: (-age(d), d["device_id"]),
        "device": lambda d: (d["device_id"],),
    }
    return sorted(devices, key=keys[key])


def filter_devices(
    devices: Iterable[dict[str, Any]],
    formats: Sequence[str] | None = None,
    presences: Sequence[str] | None = None,
    problems_only: bool = False,
    text: str = "",
) -> list[dict[str, Any]]:
    """Devices of the given formats and presences (None or empty: any), only
    those with a refused message or not online if ``problems_only``, and whose
    id or call sign contains ``text`` (case-insensitive)."""
    text = text.strip().lower()

    def keep(d: dict[str, Any]) -> bool:
        if formats and d["format"] not in formats:
            return False
        if presences and d["presence"] not in presences:
            return False
        if problems_only and not (d["rejected_n"] or d["presence"] != "online"):
            return False
        return not text or text in f"{d['device_id']} {d['call_sign'] or ''}".lower()

    return [d for d in devices if keep(d)]


def unit_quality(
    units: Sequence[dict[str, Any]], devices: Sequence[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Units (from :func:`units_with_devices`) with their devices' window
    figures summed: ``formats``, ``messages_n``, ``rejected_n``,
    ``rejected_by_reason``, and ``no_device`` when the roster gave it none."""
    by_id = {d["device_id"]: d for d in devices}
    out = []
    for u in units:
        mine = [by_id[i] for i in u["device_ids"] if i in by_id]
        reasons: Counter[str] = Counter()
        for d in mine:
            reasons.update(d["rejected_by_reason"])
        out.append(
            {
                **u,
                "formats": sorted({d["format"] for d in mine}),
                "messages_n": sum(d["messages_n"] for d in mine),
                "rejected_n": sum(d["rejected_n"] for d in mine),
                "rejected_by_reason": dict(reasons),
                "no_device": not u["device_ids"],
            }
        )
    return out


def units_without_fix(units: Sequence[dict[str, Any]], stale_s: float) -> list[dict[str, Any]]:
    """Units with devices but no valid fix for longer than ``stale_s`` (or never)."""
    return [
        u for u in units if u["device_ids"] and (u["fix_age_s"] is None or u["fix_age_s"] > stale_s)
    ]


def totals(buckets: Iterable[dict[str, Any]]) -> dict[str, int]:
    """``messages_n``, ``rejected_n`` and ``unrouted_n`` (refused for a topic
    no feed reads) summed from :func:`feed_buckets` rows."""
    rows = list(buckets)
    refused = [r for r in rows if r["reason"] is not None]
    return {
        "messages_n": sum(int(r["n"]) for r in rows),
        "rejected_n": sum(int(r["n"]) for r in refused),
        "unrouted_n": sum(int(r["n"]) for r in refused if r["format"] is None),
    }


@dataclass
class Feed:
    """One feed's window: totals, refusals by reason, and per-bucket counts
    (index 0 the oldest) of accepted and of each reason."""

    format: str
    messages_n: int = 0
    rejected_n: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    accepted: list[int] = field(default_factory=list)
    rejected: dict[str, list[int]] = field(default_factory=dict)

    def rate_per_min(self, window_s: float) -> float:
        return self.messages_n / window_s * 60.0


def feeds(buckets: Iterable[dict[str, Any]], window_s: float, bucket_s: float) -> list[Feed]:
    """Per feed (every one of :data:`FEEDS`, with or without traffic) from
    :func:`feed_buckets` rows; rows of unknown topics are left out."""
    count = max(1, round(window_s / bucket_s))
    out = {f: Feed(f, accepted=[0] * count) for f in FEEDS}
    for row in buckets:
        feed = out.get(row["format"])
        if feed is None or not 0 <= row["bucket"] < count:
            continue
        slot, n = count - 1 - row["bucket"], int(row["n"])
        feed.messages_n += n
        if row["reason"] is None:
            feed.accepted[slot] += n
        else:
            feed.rejected_n += n
            feed.by_reason[row["reason"]] += n
            feed.rejected.setdefault(row["reason"], [0] * count)[slot] += n
    return list(out.values())


def payload_text(payload: bytes, limit: int = 400) -> tuple[str, str]:
    """("text", the payload) when it is printable UTF-8 (line breaks allowed),
    else ("hex", its bytes in hex); cut to ``limit`` characters with "…"."""
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and all(c.isprintable() or c in "\r\n\t" for c in text):
        kind, shown = "text", text
    else:
        kind, shown = "hex", payload.hex(" ")
    return kind, shown if len(shown) <= limit else shown[: limit - 1] + "…"


def reasons_text(by_reason: dict[str, int], messages_n: int) -> str:
    """e.g. ``GPS jump 8.3 % · duplicate 4.2 %``, most frequent first."""
    parts = sorted(by_reason.items(), key=lambda kv: (-kv[1], kv[0]))
    return " · ".join(
        f"{REASONS.get(r, r)} {100.0 * n / messages_n:.1f} %" for r, n in parts if messages_n
    )


CSV_COLUMNS = (
    "device_id",
    "unit_id",
    "call_sign",
    "kind",
    "format",
    "presence",
    "last_message_at",
    "last_fix_at",
    "fix_age_s",
    "messages_n",
    "rejected_n",
    "rejected_share",
    "acc_median_m",
)


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 3)
    # Device ids come from MQTT topics: never let a spreadsheet run one as a formula.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def devices_csv(devices: Iterable[dict[str, Any]]) -> str:
    """The device table as CSV: :data:`CSV_COLUMNS`, then one column per reason
    code (:data:`REASONS`) with its count; times ISO 8601 UTC, shares 0-1."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([*CSV_COLUMNS, *(f"rejected_{r}" for r in REASONS)])
    for d in devices:
        row = {**d, "rejected_share": share(d["rejected_n"], d["messages_n"])}
        writer.writerow(
            [_cell(row[c]) for c in CSV_COLUMNS]
            + [d["rejected_by_reason"].get(r, 0) for r in REASONS]
        )
    return out.getvalue()
