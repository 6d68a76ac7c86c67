"""Builds the Kingbird API WSGI application.

``create_app`` is the only place that knows the order of the WSGI layers and which
resource modules exist; the console script, the demo and the tests all call it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from flask import Flask, g, request
from oslo_config import cfg
from sqlalchemy.orm import Session

from kingbird.api import errors, metrics, middleware, versions
from kingbird.api.context import RequestContext
from kingbird.api.policy import Authoriser
from kingbird.dr import api as dr
from kingbird.identity import api as fernet_keys
from kingbird.network import api as networks
from kingbird.network import interconnect_api as network_interconnect
from kingbird.quota import api as quotas
from kingbird.quota import class_api as quota_classes
from kingbird.regions.copying import Copier
from kingbird.regions.directory import RegionDirectory
from kingbird.sync import api as sync_jobs
from kingbird.sync import build_copiers

LOG = logging.getLogger(__name__)

VERSION = "1.1"
PUBLIC_PATHS = ("/", "/healthcheck", "/openapi.json", metrics.PATH)
RESOURCE_BLUEPRINTS = (quotas.bp, quota_classes.bp, sync_jobs.bp, fernet_keys.bp, metrics.bp,
                       networks.bp, network_interconnect.bp, dr.bp)


@dataclass
class ApiServices:
    """What the handlers need from outside, passed in rather than imported.

    ``db`` opens a transaction (commit on success, rollback on error);
    ``regions`` answers live questions to the regions (quota usage);
    ``wake_engine`` tells an in-process engine there is new work (a no-op when
    engines are separate processes: they poll the database);
    ``directory`` lists the regions and reaches them with the service's
    credentials; ``copiers`` (built from it when not given) check that resources
    to sync exist in their source region.
    """

    conf: cfg.ConfigOpts
    db: Callable[[], AbstractContextManager[Session]]
    regions: object | None = None
    wake_engine: Callable[[], None] = field(default=lambda: None)
    version: str = VERSION
    authoriser: Authoriser | None = None
    directory: RegionDirectory | None = None
    copiers: Mapping[str, Copier] | None = None


def create_flask_app(services: ApiServices) -> Flask:
    """The Flask application without the WSGI layers (no auth_token)."""
    app = Flask("kingbird")
    if services.authoriser is None:
        services.authoriser = Authoriser(services.conf)
    if services.copiers is None and services.directory is not None:
        services.copiers = build_copiers(services.directory, services.conf.regions.retries)
    app.extensions["kingbird"] = services
    app.register_blueprint(versions.bp)
    for blueprint in RESOURCE_BLUEPRINTS:
        app.register_blueprint(blueprint)
    errors.register_error_handlers(app)

    @app.before_request
    def _context():
        g.context = RequestContext.from_environ(request.environ)

    return app


def create_app(services: ApiServices):
    """The full WSGI stack: request id, body limit, auth_token, then Flask."""
    flask_app = create_flask_app(services)
    protected = middleware.with_auth_token(flask_app.wsgi_app, services.conf)
    routed = middleware.PublicPaths(flask_app.wsgi_app, protected, PUBLIC_PATHS)
    limited = middleware.BodyLimit(routed, services.conf.api.max_request_body_size)
    return middleware.RequestId(limited)
