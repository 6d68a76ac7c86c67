"""Assembles the WSGI application of one simulated region."""

from __future__ import annotations

import logging

from flask import Flask
from werkzeug.exceptions import HTTPException

from regionsim import control
from regionsim.middleware import FaultInjector, with_auth
from regionsim.region import Region
from regionsim.services import ALL as SERVICES
from regionsim.web import json_response

LOG = logging.getLogger(__name__)


def catalog_entries(base_url: str) -> list[tuple[str, str, str]]:
    """``(service_type, service_name, url)`` of every service a region serves."""
    return [(stype, sname, base_url.rstrip("/") + path)
            for module in SERVICES for stype, sname, path in module.CATALOG]


def build_flask_app(region: Region, simulator=None) -> Flask:
    """The unauthenticated Flask app of a region (tests of pure routing use it)."""
    app = Flask(f"regionsim-{region.name}")
    app.config["REGION"] = region
    app.config["SIMULATOR"] = simulator
    for module in SERVICES:
        if module.NAME not in region.services:
            region.services[module.NAME] = module.State(region)
        app.register_blueprint(module.bp)
    if simulator is not None:
        app.register_blueprint(control.bp)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        return json_response({"error": {"code": exc.code, "message": exc.description}},
                             exc.code or 500)

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        LOG.exception("regionsim %s: unhandled error", region.name)
        return json_response({"error": {"code": 500, "message": "internal error"}}, 500)

    return app


def build_region_app(region: Region, auth_conf: dict[str, str], simulator=None):
    """The full WSGI stack of a region: faults, then auth_token, then the services."""
    app = build_flask_app(region, simulator)
    public = ["/"] + [p for module in SERVICES for p in module.PUBLIC_PATHS]
    return FaultInjector(with_auth(app.wsgi_app, auth_conf, public), region)
