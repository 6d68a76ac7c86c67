"""``GET /metrics``: Prometheus text exposition, without a token.

Collectors are built per scrape from the running application's services
(``COLLECTORS``: factories taking ``ApiServices``), so that a module adds its own
metrics by appending a factory, and a scrape always reads live state. Nothing
secret is exposed: versions, ages, health and lag, no key material.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Blueprint, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from kingbird.api import cluster_metrics, openapi
from kingbird.api.app_services import services
from kingbird.identity.metrics import IdentityCollector

LOG = logging.getLogger(__name__)

bp = Blueprint("metrics", __name__)

PATH = "/metrics"

# Each factory takes the ApiServices and returns a prometheus_client collector.
COLLECTORS: list[Callable] = [lambda svc: IdentityCollector(svc.conf, svc.db),
                              *cluster_metrics.collectors()]


@bp.get(PATH)
def metrics():
    registry = CollectorRegistry(auto_describe=False)
    for factory in COLLECTORS:
        registry.register(factory(services()))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST.split(";")[0],
                    headers={"Content-Type": CONTENT_TYPE_LATEST})


openapi.describe("GET", PATH, "Prometheus metrics (text exposition format)", "metrics",
                 public=True, responses={200: {"type": "string"}}, media_type="text/plain")
