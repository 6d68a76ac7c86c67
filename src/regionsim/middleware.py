"""WSGI layers in front of a simulated region: injected faults, then token checks.

Order matters and mirrors reality: a region that is slow or failing is so before
it even looks at the token, and version documents are public as on a real cloud.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable

from keystonemiddleware import auth_token

from regionsim.region import Region

WSGIApp = Callable


def _json_error(start_response, status: str, body: dict) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data)))])
    return [data]


class FaultInjector:
    """Applies the region's current ``Faults`` to every request except the control API."""

    def __init__(self, app: WSGIApp, region: Region, rng: random.Random | None = None):
        self.app = app
        self.region = region
        self.rng = rng or random.Random()

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        if environ.get("PATH_INFO", "").startswith("/_sim"):
            return self.app(environ, start_response)
        faults = self.region.faults
        if faults.timeout:
            time.sleep(faults.timeout)
            return _json_error(start_response, "504 Gateway Timeout",
                               {"error": {"code": 504, "message": "injected timeout"}})
        if faults.latency:
            time.sleep(faults.latency)
        if faults.error_rate and self.rng.random() < faults.error_rate:
            return _json_error(start_response, "500 Internal Server Error",
                               {"error": {"code": 500, "message": "injected error"}})
        return self.app(environ, start_response)


class PublicPaths:
    """Sends version documents straight to the app and everything else through auth_token."""

    def __init__(self, app: WSGIApp, protected: WSGIApp, public_paths: Iterable[str]):
        self.app = app
        self.protected = protected
        self.public = frozenset(p.rstrip("/") for p in public_paths)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "").rstrip("/")
        if path in self.public:
            return self.app(environ, start_response)
        return self.protected(environ, start_response)


def with_auth(app: WSGIApp, auth_conf: dict[str, str], public_paths: Iterable[str]) -> WSGIApp:
    """Wrap ``app`` in keystonemiddleware's auth_token, leaving ``public_paths`` open.

    ``auth_conf`` holds auth_token's options (``www_authenticate_uri``,
    ``auth_type``, ``auth_url``, ``username``, ...), as a paste file would.
    """
    conf = {"delay_auth_decision": "false", "token_cache_time": "300",
            "include_service_catalog": "false", "log_name": "regionsim.auth"}
    conf.update(auth_conf)
    protected = auth_token.AuthProtocol(app, conf)
    return PublicPaths(app, protected, public_paths)
