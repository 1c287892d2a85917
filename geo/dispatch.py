"""Nearest-unit suggestions: who can reach an incident soonest by road.

Pure: plain dataclasses in, plain dataclasses out; the caller reads units and
the road graph from PostGIS. Eligibility is screened first (kind, status, a
fresh fix), then one reverse search from the incident routes every eligible
unit at once (:class:`geo.routing.Router`), and the units are ranked by ETA.
No straight-line cut is made before routing: the search costs the same for
one unit or ten thousand, and a cut can drop the fastest unit (a one-way
street, a river), so ``Rules.candidate_k`` only caps how many may be shown.

Every pick carries its reasons and every unit left out carries a reason code;
when fewer than ``top_k`` units qualify, ``Suggestions.shortfall`` says why.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import numpy as np
from numpy.typing import NDArray

from geo.earth import distances_m
from geo.routing import Arrivals, Router, Routes


class Reason(StrEnum):
    """Why a unit is left out, checked in this order (the first that applies)."""

    WRONG_KIND = "wrong_kind"
    NOT_AVAILABLE = "not_available"
    NO_FIX = "no_fix"
    STALE_FIX = "stale_fix"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True, slots=True)
class Incident:
    """An incident at (lon, lat), degrees WGS84; ``type`` keys ``Rules.kinds_for_type``."""

    id: str
    lon: float
    lat: float
    type: str
    priority: int


@dataclass(frozen=True, slots=True)
class UnitSnapshot:
    """A unit's latest state; ``lon``/``lat``/``fix_at`` are None without a fix.
    ``fix_at`` is timezone-aware UTC."""

    id: str
    call_sign: str
    kind: str
    status: str
    lon: float | None
    lat: float | None
    fix_at: datetime | None
    home_beat: str | None


@dataclass(frozen=True, slots=True)
class Rules:
    """Eligibility and list sizes. An incident type missing from
    ``kinds_for_type`` accepts every kind. A fix older than ``max_fix_age_s``
    is stale. ``top_k`` units are suggested; ``candidate_k`` is the most any
    caller may ask for (Resgrid's ceiling of 25)."""

    eligible_statuses: AbstractSet[str] = frozenset({"available"})
    kinds_for_type: Mapping[str, AbstractSet[str]] = field(default_factory=dict)
    max_fix_age_s: float = 300.0
    top_k: int = 5
    candidate_k: int = 25

    def __post_init__(self) -> None:
        if not 1 <= self.top_k <= self.candidate_k:
            raise ValueError(
                f"need 1 <= top_k <= candidate_k, got {self.top_k}, {self.candidate_k}"
            )
        if self.max_fix_age_s <= 0:
            raise ValueError(f"max_fix_age_s must be positive, got {self.max_fix_age_s}")


@dataclass(frozen=True, slots=True)
class Suggestion:
    """One suggested unit: routed ETA (s) and road distance (m) from its snapped
    position to the incident's, straight-line distance (m), fix age (s)."""

    unit_id: str
    call_sign: str
    eta_s: float
    road_distance_m: float
    straight_distance_m: float
    fix_age_s: float
    status: str
    reasons: tuple[str, ...]


# Not frozen: thousands are made per call, and a frozen dataclass costs three
# times as much to build (object.__setattr__ per field).
@dataclass(slots=True)
class Exclusion:
    """A unit left out and why; ``fix_age_s`` (s) is set for ``stale_fix`` and
    ``unreachable``, None otherwise."""

    unit_id: str
    reason: Reason
    fix_age_s: float | None = None


@dataclass(frozen=True, slots=True)
class Suggestions:
    """Best first; ``shortfall`` is None when ``top_k`` units were found."""

    ranked: list[Suggestion]
    excluded: list[Exclusion]
    shortfall: str | None


@dataclass(slots=True)
class _Screened:
    eligible: list[UnitSnapshot] = field(default_factory=list)
    ages_s: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    excluded: list[Exclusion] = field(default_factory=list)


def screen(
    units: Sequence[UnitSnapshot], incident: Incident, rules: Rules, now: datetime
) -> _Screened:
    """Split units into eligible ones (with their fix ages, s) and exclusions,
    each with the first reason in :class:`Reason` order that applies. A fix
    exactly ``max_fix_age_s`` old is still fresh; a fix stamped in the future
    (clock skew) counts as 0 s old."""
    kinds = rules.kinds_for_type.get(incident.type)
    statuses, oldest = rules.eligible_statuses, now - timedelta(seconds=rules.max_fix_age_s)
    # Enum members and bound methods as locals: this loop runs once per unit.
    wrong_kind, not_available, no_fix = Reason.WRONG_KIND, Reason.NOT_AVAILABLE, Reason.NO_FIX
    out = _Screened()
    keep, drop, fixes = out.eligible.append, out.excluded.append, []
    for unit in units:
        fix_at = unit.fix_at
        if kinds is not None and unit.kind not in kinds:
            drop(Exclusion(unit.id, wrong_kind))
        elif unit.status not in statuses:
            drop(Exclusion(unit.id, not_available))
        elif fix_at is None or unit.lon is None or unit.lat is None:
            drop(Exclusion(unit.id, no_fix))
        elif fix_at < oldest:
            age_s = (now - fix_at).total_seconds()
            drop(Exclusion(unit.id, Reason.STALE_FIX, age_s))
        else:
            keep(unit)
            fixes.append(fix_at)
    ages_s = [(now - fix_at).total_seconds() for fix_at in fixes]
    out.ages_s = np.maximum(np.asarray(ages_s, dtype=np.float64), 0.0)
    return out


def suggest(
    router: Router,
    incident: Incident,
    units: Sequence[UnitSnapshot],
    rules: Rules,
    now: datetime,
    incident_beat: str | None = None,
) -> Suggestions:
    """Rank eligible units by car ETA to the incident over the road network.

    ETAs are seconds from each unit's position snapped onto its nearest road
    to the incident's, honouring one-way streets; ties (same whole second)
    go to the straight-line nearer unit, then the lower id. ``incident_beat``,
    when given, earns "in the incident's beat" for units whose home beat it is.
    """
    screened = screen(units, incident, rules, now)
    if not screened.eligible:
        return Suggestions([], screened.excluded, _shortfall(screened.excluded, 0, rules, incident))
    lons = np.array([u.lon for u in screened.eligible], dtype=np.float64)
    lats = np.array([u.lat for u in screened.eligible], dtype=np.float64)
    arrivals, routes = router.route(incident.lon, incident.lat, lons, lats)
    reachable = np.isfinite(routes.eta_s)
    screened.excluded.extend(
        Exclusion(screened.eligible[i].id, Reason.UNREACHABLE, float(screened.ages_s[i]))
        for i in np.flatnonzero(~reachable)
    )
    straight_m = distances_m(lons, lats, incident.lon, incident.lat)
    order = _best(routes.eta_s, straight_m, screened.eligible, rules.top_k)
    ranked = _suggestions(order, screened, routes, arrivals, straight_m, incident_beat)
    return Suggestions(
        ranked, screened.excluded, _shortfall(screened.excluded, len(ranked), rules, incident)
    )


def _best(
    eta_s: np.ndarray, straight_m: np.ndarray, units: Sequence[UnitSnapshot], top_k: int
) -> list[int]:
    """Indices of the ``top_k`` reachable units, best first. Only units whose
    whole-second ETA is within the k-th best are sorted in Python."""
    finite = np.flatnonzero(np.isfinite(eta_s))
    if len(finite) == 0:
        return []
    whole_s = np.round(eta_s[finite])
    kth = min(top_k, len(finite)) - 1
    near = finite[whole_s <= np.partition(whole_s, kth)[kth]]
    near_sorted = sorted(
        (int(i) for i in near),
        key=lambda i: (float(np.round(eta_s[i])), float(straight_m[i]), units[i].id),
    )
    return near_sorted[:top_k]


def _suggestions(
    order: list[int],
    screened: _Screened,
    routes: Routes,
    arrivals: Arrivals,
    straight_m: np.ndarray,
    incident_beat: str | None,
) -> list[Suggestion]:
    """Build the ranked suggestions with their reasons."""
    units, whole_s = screened.eligible, [float(np.round(routes.eta_s[i])) for i in order]
    out = []
    for rank, i in enumerate(order):
        unit = units[i]
        tied = [
            units[j].call_sign
            for j, w in zip(order, whole_s, strict=True)
            if j != i and w == whole_s[rank]
        ]
        reasons = ["closest by ETA" if rank == 0 else f"{_ordinal(rank + 1)} by ETA"]
        if tied:
            reasons.append("tied on ETA with " + ", ".join(tied))
        if incident_beat is not None and unit.home_beat == incident_beat:
            reasons.append("in the incident's beat")
        out.append(
            Suggestion(
                unit_id=unit.id,
                call_sign=unit.call_sign,
                eta_s=float(routes.eta_s[i]),
                road_distance_m=arrivals.road_distance_m(routes, i),
                straight_distance_m=float(straight_m[i]),
                fix_age_s=float(screened.ages_s[i]),
                status=unit.status,
                reasons=tuple(reasons),
            )
        )
    return out


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _shortfall(
    excluded: Sequence[Exclusion], found: int, rules: Rules, incident: Incident
) -> str | None:
    """Why fewer than ``top_k`` units are suggested; None when enough are.

    With none found, the message names the first screening step (kind, status,
    fix, road) that left no unit standing; with some, it counts the exclusions
    by reason."""
    if found >= rules.top_k:
        return None
    counts = Counter(e.reason for e in excluded)
    if found:
        detail = ", ".join(f"{counts[r]} {r.value}" for r in Reason if counts[r])
        noun = "unit" if found == 1 else "units"
        return f"only {found} {noun} can be suggested" + (
            f" (excluded: {detail})" if detail else ""
        )
    left = len(excluded) - counts[Reason.WRONG_KIND]
    if excluded and left == 0:
        return "no unit of kind " + "/".join(sorted(rules.kinds_for_type[incident.type]))
    left -= counts[Reason.NOT_AVAILABLE]
    if left == 0:
        return "no unit available"
    left -= counts[Reason.NO_FIX] + counts[Reason.STALE_FIX]
    if left == 0:
        if counts[Reason.STALE_FIX]:
            return "all eligible units have stale fixes"
        return "no eligible unit has a position fix"
    return "no unit can reach the incident by road"
