"""WSGI layers of the Kingbird API, outermost first.

1. ``RequestId``: every response carries ``x-openstack-request-id`` (as every
   OpenStack service), and the id travels with the request into logs and jobs.
2. ``BodyLimit``: bodies larger than ``[api] max_request_body_size`` are refused
   with 413 before anything reads them.
3. ``PublicPaths``: the versions document, the health check and the OpenAPI
   document need no token; everything else goes through auth_token, behind
   ``KeystoneUnavailable``: when Keystone cannot be reached, a token it has not
   validated before gets a JSON 503 (never a 500), and the next request after
   Keystone is back works again.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterable

from keystoneauth1 import exceptions as ks_exc
from keystonemiddleware import auth_token

from kingbird.api.errors import error_body
from kingbird.core import requestlog

LOG = logging.getLogger(__name__)

WSGIApp = Callable


def _json(start_response, status: str, body: dict, headers=()) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"),
                            ("Content-Length", str(len(data))), *headers])
    return [data]


class RequestId:
    """Assigns ``req-<uuid>`` to each request and returns it in a header."""

    def __init__(self, app: WSGIApp):
        self.app = app

    def __call__(self, environ, start_response):
        request_id = "req-" + str(uuid.uuid4())
        environ["openstack.request_id"] = request_id

        def _start(status, headers, exc_info=None):
            headers = [h for h in headers if h[0].lower() != "x-openstack-request-id"]
            headers.append(("x-openstack-request-id", request_id))
            return start_response(status, headers, exc_info)

        with requestlog.bound(request_id):
            return self.app(environ, _start)


class BodyLimit:
    """Refuses request bodies over ``limit`` bytes with 413."""

    def __init__(self, app: WSGIApp, limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        length = environ.get("CONTENT_LENGTH") or "0"
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        try:
            size = int(length)
        except ValueError:
            return _json(start_response, "400 Bad Request",
                         error_body(400, "Bad Request", "invalid Content-Length"))
        if size > self.limit or chunked:
            if chunked:
                code, title = 411, "Length Required"
                message = "chunked request bodies are not accepted"
            else:
                code, title = 413, "Request Entity Too Large"
                message = f"request body larger than {self.limit} bytes"
            return _json(start_response, f"{code} {title}", error_body(code, title, message))
        return self.app(environ, start_response)


class PublicPaths:
    """Routes the public paths around auth_token."""

    def __init__(self, app: WSGIApp, protected: WSGIApp, public: Iterable[str]):
        self.app = app
        self.protected = protected
        self.public = frozenset(public)

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        if path in self.public:
            return self.app(environ, start_response)
        return self.protected(environ, start_response)


_KEYSTONE_DOWN = error_body(503, "Service Unavailable",
                            "the identity service is unavailable, retry later")


class KeystoneUnavailable:
    """Turns auth_token's own 503 (plain text) and the connection errors it lets
    through into Kingbird's JSON 503."""

    def __init__(self, app: WSGIApp):
        self.app = app

    def __call__(self, environ, start_response):
        replaced = []

        def _start(status, headers, exc_info=None):
            content_type = dict((k.lower(), v) for k, v in headers).get("content-type", "")
            if status.startswith("503") and "json" not in content_type:
                replaced.append(status)
                return lambda _data: None
            return start_response(status, headers, exc_info)

        try:
            body = self.app(environ, _start)
        except ks_exc.ClientException as exc:
            LOG.warning("cannot validate a token, Keystone unreachable: %s",
                        type(exc).__name__)
            return _json(start_response, "503 Service Unavailable", _KEYSTONE_DOWN)
        if not replaced:
            return body
        if hasattr(body, "close"):
            body.close()
        LOG.warning("cannot validate a token, Keystone unreachable")
        return _json(start_response, "503 Service Unavailable", _KEYSTONE_DOWN)


def with_auth_token(app: WSGIApp, conf) -> WSGIApp:
    """auth_token reading its options from ``conf``'s [keystone_authtoken] group."""
    return KeystoneUnavailable(auth_token.AuthProtocol(
        app, {"oslo_config_config": conf, "delay_auth_decision": False}))
