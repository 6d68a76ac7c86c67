"""WSGI layers of the Kingbird API, outermost first.

1. ``RequestId``: every response carries ``x-openstack-request-id`` (as every
   OpenStack service), and the id travels with the request into logs and jobs.
2. ``BodyLimit``: a ``Content-Length`` that is not a plain non-negative integer is a
   400, a chunked body a 411, a body larger than ``[api] max_request_body_size`` a 413,
   all before anything reads it; a body that is then shorter than announced is a 400,
   one that does not arrive in time (the server's read deadline) a 408. The body is
   read whole here, so nothing below waits on the client.
3. ``PublicPaths``: the versions document, the health check and the OpenAPI
   document need no token and never enter the auth path; everything else goes
   through ``AuthSlots`` and auth_token, behind ``KeystoneUnavailable``: when Keystone
   cannot be reached, a token it has not validated before gets a JSON 503 (never a
   500) within keystonemiddleware's timeout, and the next request after Keystone is
   back works again. ``AuthSlots`` bounds how many threads may wait in auth_token at
   once, so a hung Keystone cannot take them all.
"""

from __future__ import annotations

import io
import json
import logging
import re
import threading
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


_PLAIN_LENGTH = re.compile(r"[0-9]+")
_READ_CHUNK = 65536


def _refuse(start_response, code: int, title: str, message: str) -> list[bytes]:
    return _json(start_response, f"{code} {title}", error_body(code, title, message))


class BodyLimit:
    """Checks the announced length, then reads the whole body (at most ``limit``
    bytes) before the application runs."""

    def __init__(self, app: WSGIApp, limit: int):
        self.app = app
        self.limit = limit

    def __call__(self, environ, start_response):
        length = (environ.get("CONTENT_LENGTH") or "").strip()
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            return _refuse(start_response, 411, "Length Required",
                           "chunked request bodies are not accepted")
        if length and not _PLAIN_LENGTH.fullmatch(length):
            return _refuse(start_response, 400, "Bad Request",
                           "Content-Length must be a non-negative integer")
        # Digits beyond any limit are not converted (int() refuses over 4300 of them).
        size = int(length or "0") if len(length) < 19 else self.limit + 1
        if size > self.limit:
            return _refuse(start_response, 413, "Request Entity Too Large",
                           f"request body larger than {self.limit} bytes")
        if size:
            try:
                body = _read_exactly(environ["wsgi.input"], size)
            except TimeoutError:
                return _refuse(start_response, 408, "Request Timeout",
                               "the request body did not arrive in time")
            except OSError:
                body = b""
            if len(body) < size:
                return _refuse(start_response, 400, "Bad Request",
                               f"request body shorter than its Content-Length ({size})")
            environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)


def _read_exactly(stream, size: int) -> bytes:
    """Up to ``size`` bytes of ``stream``, fewer only when it ends first."""
    parts, left = [], size
    while left:
        part = stream.read(min(left, _READ_CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


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


_AUTH_BUSY = error_body(503, "Service Unavailable",
                        "too many requests are waiting for the identity service, retry later")


class AuthSlots:
    """At most ``slots`` requests at once inside token validation.

    A request takes a slot before auth_token and gives it back the moment auth_token
    hands it on to the application (or answers by itself): a slot measures the wait
    on Keystone, not the request. When every slot is taken (Keystone is slow or hung)
    the next request gets a 503 at once instead of a thread that waits, so the
    server's other threads keep answering. ``validate`` builds the auth path around
    the application it is given.
    """

    def __init__(self, validate: Callable[[WSGIApp], WSGIApp], app: WSGIApp, slots: int):
        self.app = app
        self.slots = slots
        self._free = threading.BoundedSemaphore(slots)
        self._validate = validate(self._validated)

    def __call__(self, environ, start_response):
        if not self._free.acquire(blocking=False):
            LOG.warning("all %d token validation slots are busy: 503", self.slots)
            return _json(start_response, "503 Service Unavailable", _AUTH_BUSY,
                         [("Retry-After", "1")])
        held = environ[_SLOT] = [True]
        try:
            return self._validate(environ, start_response)
        finally:
            self._give_back(held)

    def _give_back(self, held: list[bool]) -> None:
        if held[0]:
            held[0] = False
            self._free.release()

    def _validated(self, environ, start_response):
        self._give_back(environ[_SLOT])
        return self.app(environ, start_response)


_SLOT = "kingbird.auth_slot"


def auth_slots(threads: int, configured: int) -> int:
    """The number of ``AuthSlots``: ``configured``, or three quarters of ``threads``."""
    return configured or max(1, threads - max(1, threads // 4))


def with_auth_token(app: WSGIApp, conf) -> WSGIApp:
    """auth_token reading its options from ``conf``'s [keystone_authtoken] group,
    behind ``AuthSlots`` (``[api] auth_concurrency``)."""

    def validate(inner: WSGIApp) -> WSGIApp:
        return KeystoneUnavailable(auth_token.AuthProtocol(
            inner, {"oslo_config_config": conf, "delay_auth_decision": False}))

    return AuthSlots(validate, app, auth_slots(conf.api.threads, conf.api.auth_concurrency))
