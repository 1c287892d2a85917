"""Prometheus metrics of an ingest worker, on a registry of its own (several
workers in one test process must not collide), served at ``/metrics``."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

from feeds.pipeline import Outcome
from feeds.writer import BatchResult


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
        self.lag_seconds = Histogram(
            "dm_ingest_commit_lag_seconds",
            "From receipt of a message to its commit",
            registry=r,
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30),
        )
        self.queue_depth = Gauge(
            "dm_ingest_queue_depth", "Messages waiting to be written", registry=r
        )
        self.db_errors = Counter("dm_ingest_db_errors", "Failed batch attempts", registry=r)

    def observe_batch(
        self, outcomes: list[Outcome], result: BatchResult, write_s: float, lags_s: list[float]
    ) -> None:
        self.received.inc(len(outcomes))
        self.stored.inc(result.positions)
        self.events.inc(result.events)
        for o in outcomes:
            if o.rejection is not None:
                self.quarantined.labels(o.rejection.reason).inc()
        self.batch_seconds.observe(write_s)
        for lag in lags_s:
            self.lag_seconds.observe(lag)

    def serve(self, port: int, host: str = "127.0.0.1") -> None:
        """Serve ``/metrics`` on ``host:port`` from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
