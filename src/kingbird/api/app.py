"""Builds the Kingbird API WSGI application from the features it is given.

``create_app`` is the only place that knows the order of the WSGI layers; which
features exist (their routes, policy rules and metrics, as ``ApiFeature``) is
decided by ``kingbird.runtime``, which the console script, the demo and the tests
all go through.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from flask import Blueprint, Flask, g, request
from oslo_config import cfg
from sqlalchemy.orm import Session

from kingbird.api import errors, metrics, middleware, versions
from kingbird.api.context import RequestContext
from kingbird.api.metrics import DatabaseMetrics
from kingbird.api.policy import Authoriser
from kingbird.regions.clients import RegionClients
from kingbird.regions.copying import Copier
from kingbird.regions.directory import RegionDirectory
from kingbird.regions.fanout import FanOut

LOG = logging.getLogger(__name__)

VERSION = "1.1"
PUBLIC_PATHS = ("/", "/healthcheck", "/openapi.json", metrics.PATH)


@dataclass(frozen=True)
class ApiFeature:
    """What one feature adds to the API: its routes, the defaults of its policy
    rules, and its metrics (collectors built per scrape from the ``ApiServices``,
    and figures read from the database)."""

    name: str
    blueprints: tuple[Blueprint, ...]
    policy_rules: Callable[[], list] = list
    collectors: tuple[Callable[[ApiServices], object], ...] = ()
    database_metrics: tuple[DatabaseMetrics, ...] = ()


@dataclass
class ApiServices:
    """What the handlers need from outside, passed in rather than imported.

    ``db`` opens a transaction (commit on success, rollback on error);
    ``regions`` answers live questions to the regions (quota usage);
    ``wake_engine`` tells an in-process engine there is new work (a no-op when
    engines are separate processes: they poll the database);
    ``clients`` reaches the regions with the service's credentials (the
    process's one ``RegionClients``); ``copiers`` check that resources to sync
    exist in their source region, asked in parallel on ``fanout``, the process's
    bounded region calls.
    """

    conf: cfg.ConfigOpts
    db: Callable[[], AbstractContextManager[Session]]
    regions: object | None = None
    wake_engine: Callable[[], None] = field(default=lambda: None)
    version: str = VERSION
    authoriser: Authoriser | None = None
    clients: RegionClients | None = None
    copiers: Mapping[str, Copier] | None = None
    fanout: FanOut | None = None

    @property
    def directory(self) -> RegionDirectory | None:
        """The regions of the catalog (None when no regions are configured)."""
        return None if self.clients is None else self.clients.directory


def create_flask_app(services: ApiServices, features: Sequence[ApiFeature] = ()) -> Flask:
    """The Flask application without the WSGI layers (no auth_token)."""
    app = Flask("kingbird")
    # Every route answers with and without a trailing slash, whatever the method: the
    # 2018 python-kingbirdclient POSTs /v1.0/{tenant}/os-sync/ (a redirect would lose
    # the body).
    app.url_map.strict_slashes = False
    if services.authoriser is None:
        services.authoriser = Authoriser(
            services.conf, [rule for feature in features for rule in feature.policy_rules()])
    app.extensions["kingbird"] = services
    app.extensions["kingbird.features"] = tuple(features)
    app.register_blueprint(versions.bp)
    app.register_blueprint(metrics.bp)
    for feature in features:
        for blueprint in feature.blueprints:
            app.register_blueprint(blueprint)
    errors.register_error_handlers(app)

    @app.before_request
    def _context():
        caller = RequestContext.from_environ(request.environ)
        g.context = dataclasses.replace(caller, is_admin=services.authoriser.is_admin(caller))

    return app


def create_app(services: ApiServices, features: Sequence[ApiFeature] = ()):
    """The full WSGI stack: request id, body limit, auth_token, then Flask."""
    flask_app = create_flask_app(services, features)
    protected = middleware.with_auth_token(flask_app.wsgi_app, services.conf)
    public = PUBLIC_PATHS + tuple(f"{path}/" for path in PUBLIC_PATHS if path != "/")
    routed = middleware.PublicPaths(flask_app.wsgi_app, protected, public)
    limited = middleware.BodyLimit(routed, services.conf.api.max_request_body_size)
    return middleware.RequestId(limited)
