"""Prometheus metrics counted by this process: region calls, syncs, job entries,
lease reclaims.

Every Kingbird process counts what it does itself here. The API's ``/metrics``
shows these counters together with the cluster-wide figures read from the
database (``kingbird.api.cluster_metrics``); a separate ``kingbird-engine`` serves
its own on ``[engine] metrics_port``. Under gunicorn, with
``PROMETHEUS_MULTIPROC_DIR`` set before the workers start, the counters of every
worker are summed (prometheus-client's multiprocess mode).

Labels stay few: region names, outcomes, and a short failure class, never a
project id or a message.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Histogram, multiprocess
from prometheus_client.core import Metric

REGISTRY = CollectorRegistry(auto_describe=True)

REGION_CALL_SECONDS = Histogram(
    "kingbird_region_call_seconds",
    "Time of one HTTP call to a regional service (each retry is a call).",
    ["region", "outcome"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
    registry=REGISTRY,
)
REGION_CALL_ERRORS = Counter(
    "kingbird_region_call_errors_total",
    "Failed calls to regional services, by region and class of failure (timeout, "
    "connection, http_5xx, http_4xx, other).",
    ["region", "error"],
    registry=REGISTRY,
)
QUOTA_SYNCS = Counter(
    "kingbird_quota_syncs_total",
    "Project quota syncs run by this process, by outcome (SUCCESS, FAILURE, or "
    "INTERRUPTED when the database or a crash stopped it before its outcome was recorded).",
    ["outcome"],
    registry=REGISTRY,
)
SYNC_ENTRIES = Counter(
    "kingbird_sync_entries_total",
    "Sync job entries run by this process, by resource type and outcome (SUCCESS, "
    "FAILURE, RETRY: put back after a transient failure, LOST: taken over or "
    "interrupted).",
    ["resource_type", "outcome"],
    registry=REGISTRY,
)
LEASE_RECLAIMS = Counter(
    "kingbird_lease_reclaims_total",
    "Work this process claimed after the lease of another engine (or of an earlier "
    "run of this one) expired without being renewed: job entries and project syncs.",
    ["kind"],
    registry=REGISTRY,
)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_mode() -> bool:
    """Whether the counters live in files shared by several worker processes."""
    return bool(os.environ.get(MULTIPROC_ENV))


def error_class(exc: BaseException) -> str:
    """A short, bounded name for why a region call failed (a metric label)."""
    from keystoneauth1 import exceptions as ks_exc

    if isinstance(exc, ks_exc.ConnectTimeout | ks_exc.RequestTimeout):
        return "timeout"
    if isinstance(exc, ks_exc.ConnectionError):
        return "connection"
    status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
    if isinstance(status, int):
        return "http_5xx" if status >= 500 else "http_4xx"
    return "other"


def observe_region_call(region: str, seconds: float, exc: BaseException | None) -> None:
    """Record one call to ``region`` that took ``seconds`` (and failed with ``exc``)."""
    if exc is None:
        REGION_CALL_SECONDS.labels(region, "ok").observe(seconds)
        return
    REGION_CALL_SECONDS.labels(region, "error").observe(seconds)
    REGION_CALL_ERRORS.labels(region, error_class(exc)).inc()


class ProcessCollector:
    """This process's counters (or, in multiprocess mode, every worker's summed), as
    a collector to register in a per-scrape registry."""

    def collect(self) -> Iterator[Metric]:
        if multiprocess_mode():
            registry = CollectorRegistry()
            multiprocess.MultiProcessCollector(registry)
            yield from registry.collect()
        else:
            yield from REGISTRY.collect()


def serve(host: str, port: int) -> None:
    """Serve this process's counters over HTTP (a separate engine's endpoint)."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host, registry=REGISTRY)
