"""Prometheus metrics of an ingest worker, on a registry of its own (several
workers in one test process must not collide), served at ``/metrics``."""

from __future__ import annotations

import bisect
import threading
from collections.abc import Iterable, Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import HistogramMetricFamily

from feeds.pipeline import Outcome
from feeds.writer import BatchResult


class CountedHistogram:
    """A Prometheus histogram fed ``(value, count)`` pairs: a batch of 2,000
    messages received in a few socket reads has a few distinct lags, so its
    commit costs a few observations instead of 2,000 (``Histogram.observe`` is
    a lock and a bucket search each time)."""

    def __init__(
        self, name: str, documentation: str, buckets: Iterable[float], registry: CollectorRegistry
    ) -> None:
        self.name, self.documentation = name, documentation
        self.bounds = sorted(buckets)
        self._counts = [0] * (len(self.bounds) + 1)  # the last is +Inf
        self._sum = 0.0
        self._lock = threading.Lock()
        registry.register(self)

    def observe_counted(self, pairs: Iterable[tuple[float, int]]) -> None:
        with self._lock:
            for value, count in pairs:
                self._counts[bisect.bisect_left(self.bounds, value)] += count
                self._sum += value * count

    def collect(self) -> Iterator[HistogramMetricFamily]:
        with self._lock:
            counts, total = list(self._counts), self._sum
        cumulative, running = [], 0
        for bound, count in zip([*map(str, self.bounds), "+Inf"], counts, strict=True):
            running += count
            cumulative.append((bound, running))
        yield HistogramMetricFamily(
            self.name, self.documentation, buckets=cumulative, sum_value=total
        )


class IngestMetrics:
    """Counters and timings; ``observe_batch`` after every committed batch."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.received = Counter("dm_ingest_messages_received", "MQTT messages taken", registry=r)
        self.stored = Counter("dm_ingest_positions_stored", "Position rows committed", registry=r)
        self.events = Counter(
            "dm_ingest_events_stored", "Status/device events committed", registry=r
        )
        self.quarantined = Counter(
            "dm_ingest_messages_quarantined", "Messages kept in quarantine", ["reason"], registry=r
        )
        self.batch_seconds = Histogram(
            "dm_ingest_batch_seconds",
            "Time to write and commit one batch",
            registry=r,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
        )
        self.lag_seconds = CountedHistogram(
            "dm_ingest_commit_lag_seconds",
            "From receipt of a message to its commit",
            (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
            r,
        )
        self.queue_depth = Gauge(
            "dm_ingest_queue_depth", "Messages waiting to be written", registry=r
        )
        self.db_errors = Counter("dm_ingest_db_errors", "Failed batch attempts", registry=r)

    def observe_batch(
        self,
        outcomes: list[Outcome],
        result: BatchResult,
        write_s: float,
        lags_s: Iterable[tuple[float, int]],
    ) -> None:
        """After a committed batch; ``lags_s`` as (seconds, messages) pairs."""
        self.received.inc(len(outcomes))
        self.stored.inc(result.positions)
        self.events.inc(result.events)
        for o in outcomes:
            if o.rejection is not None:
                self.quarantined.labels(o.rejection.reason).inc()
        self.batch_seconds.observe(write_s)
        self.lag_seconds.observe_counted(lags_s)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``host:port`` from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
