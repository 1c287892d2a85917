"""Shared helpers for feed tests: captured payload fixtures and invariants of
the decoders, and a PostgreSQL of a test's own for the fault tests."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from dispatchmap.cli import load_city
from dispatchmap.runtime import create_database
from dispatchmap.services import EmbeddedPostgres
from feeds.decoders import DecodeError, DeviceEvent, PositionReport, StatusReport
from store.migrate import upgrade

PAYLOADS = Path(__file__).resolve().parents[1] / "fixtures" / "payloads"
_FIX_FIELDS = ("lat", "lon", "speed_kmh", "heading_deg", "acc_m", "alt_m", "sats", "seq")
_STATUS_FIELDS = ("emergency", "ptt", "talkgroup", "battery_pct", "state")


def load_cases(fmt: str) -> list[dict[str, Any]]:
    """The cases of ``tests/fixtures/payloads/<fmt>.json``; each has a source."""
    cases = json.loads((PAYLOADS / f"{fmt}.json").read_text(encoding="utf-8"))["cases"]
    assert cases and all(case.get("source") for case in cases)
    return cases


def case_payload(case: dict[str, Any]) -> bytes:
    if "payload_hex" in case:
        return bytes.fromhex(case["payload_hex"])
    return str(case["payload"]).encode("utf-8")


def case_received_at(case: dict[str, Any]) -> dict[str, datetime]:
    return (
        {"received_at": datetime.fromisoformat(case["received_at"])}
        if "received_at" in case
        else {}
    )


def check_invariants(decoded: list[Any]) -> None:
    """Shared invariants: coordinates in range, aware times, speed >= 0."""
    assert isinstance(decoded, list)
    for item in decoded:
        assert isinstance(item, PositionReport | StatusReport | DeviceEvent)
        if isinstance(item, PositionReport):
            assert -90 <= item.lat <= 90 and -180 <= item.lon <= 180
            assert item.fix_at.tzinfo is not None and item.fix_at.utcoffset() is not None
            assert item.speed_kmh is None or item.speed_kmh >= 0
            assert all(
                v is None or math.isfinite(v) for v in (item.speed_kmh, item.acc_m, item.alt_m)
            )
        elif isinstance(item, StatusReport) or item.reported_at is not None:
            assert item.reported_at.tzinfo is not None


def assert_matches(decoded: Any, expected: dict[str, Any]) -> None:
    """Compare one decoded item with its fixture entry; absent keys must be None."""
    if isinstance(decoded, PositionReport):
        assert decoded.fix_at == datetime.fromisoformat(expected["fix_at"])
        fields: tuple[str, ...] = _FIX_FIELDS
    elif isinstance(decoded, StatusReport):
        assert decoded.reported_at == datetime.fromisoformat(expected["reported_at"])
        fields = _STATUS_FIELDS
    else:
        assert isinstance(decoded, DeviceEvent)
        assert decoded.kind == expected["kind"]
        want_at = expected["reported_at"]
        assert decoded.reported_at == (datetime.fromisoformat(want_at) if want_at else None)
        return
    for name in fields:
        got, want = getattr(decoded, name), expected.get(name)
        if isinstance(want, float) and not isinstance(got, bool):
            assert got == pytest.approx(want, rel=1e-9, abs=1e-9), name
        else:
            assert got == want, name


def run_case(decode: Callable[..., list[Any]], case: dict[str, Any]) -> None:
    """Decode a fixture case and check either its values or its error reason."""
    kwargs = case_received_at(case)
    if "error" in case:
        with pytest.raises(DecodeError) as err:
            decode("dev-1", case_payload(case), **kwargs)
        assert err.value.reason == case["error"]
        return
    decoded = decode("dev-1", case_payload(case), **kwargs)
    check_invariants(decoded)
    assert len(decoded) == len(case["expect"])
    for item, expected in zip(decoded, case["expect"], strict=True):
        assert item.device_id == "dev-1"
        assert_matches(item, expected)


_FORMATS = ("nmea", "lip", "owntracks", "status", "native", "jt808")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """A test asking for ``<format>_case`` runs once per captured payload."""
    for fmt in _FORMATS:
        name = f"{fmt}_case"
        if name in metafunc.fixturenames:
            cases = load_cases(fmt)
            metafunc.parametrize(name, cases, ids=[case["name"] for case in cases])


@pytest.fixture(name="run_case")
def _run_case_fixture() -> Callable[[Callable[..., list[Any]], dict[str, Any]], None]:
    return run_case


@pytest.fixture(name="check_invariants")
def _check_invariants_fixture() -> Callable[[list[Any]], None]:
    return check_invariants


@pytest.fixture(name="all_cases")
def _all_cases_fixture() -> dict[str, list[dict[str, Any]]]:
    return {fmt: load_cases(fmt) for fmt in _FORMATS}


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[tuple[EmbeddedPostgres, str]]:
    """A PostgreSQL of this test's own, to restart without disturbing others."""
    with EmbeddedPostgres(tmp_path / "pg") as pg:
        url = create_database(pg.url, "dispatchmap")
        with psycopg.connect(url) as conn:
            upgrade(conn)
        load_city(url, None, None, 1)
        yield pg, url
