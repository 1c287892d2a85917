import io
import json
from datetime import UTC, datetime

import pytest

from feeds.faults import EXPECTED_REASON, KINDS, FaultInjector, sha256
from feeds.pipeline import Limits, Message, Pipeline
from feeds.simulator import build_fleet, encode
from feeds.topics import Topics
from tests.unit.test_simulator import NODES, car_edges, roster

AT = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def fleet(gps_format: str):
    rows = roster()
    rows[0]["gps_format"] = gps_format
    edges = car_edges()
    return build_fleet(
        rows, edges, [(a, b, ln) for a, b, _, _, ln in edges], NODES, 3, formats="devices"
    )


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("gps_format", ["native", "nmea"])
def test_each_fault_gets_the_reason_its_label_expects(kind, gps_format):
    topics, labels = Topics("dm"), io.StringIO()
    pipeline = Pipeline(topics, Limits(area=(24.0, 60.0, 26.0, 61.0)))
    injector = FaultInjector(1.0, 7, labels, kinds=(kind,))
    for unit in fleet(gps_format):
        fix = unit.mover.step(1.0)
        seen = pipeline.process(Message(*encode(unit, topics, AT, fix), AT), {})
        assert seen.rejection is None  # the track is known before the fault
        later = AT.replace(second=2)
        sent = injector.apply(lambda a, f, u=unit: encode(u, topics, a, f), later, fix)
        outcomes = [pipeline.process(Message(t, p, later), {}) for t, p in sent]
        label = json.loads(labels.getvalue().splitlines()[-1])
        assert label["sha256"] == sha256(sent[-1][1]) and label["topic"] == sent[-1][0]
        expected = EXPECTED_REASON[label["kind"]]
        if label["kind"] == "duplicate":
            assert len(sent) == 2 and sent[0] == sent[1]  # the database refuses the copy
        elif expected is None:
            assert outcomes[0].rejection is None and "ghost-" in outcomes[0].device_id
        else:
            assert outcomes[0].rejection is not None
            assert outcomes[0].rejection.reason == expected


def test_rate_is_honoured_and_deterministic():
    def run(seed):
        inj = FaultInjector(0.1, seed)
        return [
            len(inj.apply(lambda a, f: ("dm/gps/x", b"{}"), AT, (0, 0, 0, 0))) for _ in range(5000)
        ], inj.injected

    first, counts = run(1)
    assert run(1)[0] == first
    assert 400 < sum(counts.values()) < 600


def test_bad_settings_are_refused():
    with pytest.raises(ValueError, match="share"):
        FaultInjector(1.5, 1)
    with pytest.raises(ValueError, match="unknown fault kinds"):
        FaultInjector(0.1, 1, kinds=("teleport",))
