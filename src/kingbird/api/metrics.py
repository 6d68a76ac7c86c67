"""``GET /metrics``: Prometheus text exposition, without a token.

Collectors are built per scrape from the running application's services, so that
a scrape always reads live state: this process's own counters
(``kingbird.core.metrics``), each feature's collectors, and the figures each
feature reads from the database (``ApiFeature.database_metrics``), all in one
transaction whose failure shows as ``kingbird_database_up 0`` rather than a
failed scrape. Nothing secret is exposed: versions, ages, health and lag, no key
material.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator

from flask import Blueprint, Response, current_app
from oslo_config import cfg
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy.orm import Session

from kingbird.api import openapi
from kingbird.api.app_services import services
from kingbird.core.metrics import ProcessCollector

LOG = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

PATH = "/metrics"

# What a feature reads from the database at each scrape.
DatabaseMetrics = Callable[[Session, cfg.ConfigOpts], Iterable[Metric]]


def gauge(name: str, doc: str, value: float | None = None,
          labels: list[str] | None = None) -> GaugeMetricFamily:
    """A gauge family, with its one unlabelled sample when ``value`` is given."""
    family = GaugeMetricFamily(name, doc, labels=labels)
    if value is not None:
        family.add_metric([], value)
    return family


class DatabaseCollector:
    """Every feature's database figures, read in one transaction per scrape."""

    def __init__(self, svc, readers: Iterable[DatabaseMetrics]):
        self.services = svc
        self.readers = list(readers)

    def collect(self) -> Iterator[Metric]:
        try:
            with self.services.db() as session:
                figures = [metric for read in self.readers
                           for metric in read(session, self.services.conf)]
        except Exception as exc:  # a scrape must answer; the failure shows as up=0
            LOG.warning("work metrics unavailable: %s", exc)
            yield gauge("kingbird_database_up", "Whether the database answered the scrape.", 0)
            return
        yield gauge("kingbird_database_up", "Whether the database answered the scrape.", 1)
        yield from figures


@bp.get(PATH)
def metrics():
    svc = services()
    features = current_app.extensions.get("kingbird.features", ())
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(
        svc, [read for feature in features for read in feature.database_metrics]))
    for feature in features:
        for factory in feature.collectors:
            registry.register(factory(svc))
    registry.register(ProcessCollector())
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Content-Type": CONTENT_TYPE_LATEST})


openapi.describe("GET", PATH, "Prometheus metrics (text exposition format)", "metrics",
                 public=True, responses={200: {"type": "string"}}, media_type="text/plain")
