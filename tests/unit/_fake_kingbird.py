"""A fake Kingbird at the HTTP boundary: a requests transport adapter, no sockets.

The client under test runs unchanged (keystoneauth1 session, requests, JSON); only
the transport answers from a script and records what was sent, in order.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import requests
from keystoneauth1 import session as ks_session
from keystoneauth1 import token_endpoint
from requests.adapters import BaseAdapter

ENDPOINT = "http://kingbird.test:8118/v1.0"
PROJECT = "11111111111111111111111111111111"
TOKEN = "tok-123"


@dataclass
class Sent:
    method: str
    url: str
    body: Any
    headers: dict


@dataclass
class FakeTransport(BaseAdapter):
    """Answers ``(method, url)`` from ``routes``; 404 JSON error for anything else."""

    routes: dict[tuple[str, str], tuple[int, Any]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    refuse: bool = False

    def __post_init__(self):
        super().__init__()

    def answer(self, method: str, path: str, status: int, body: Any) -> None:
        self.routes[(method, ENDPOINT + path)] = (status, body)

    def send(self, request, **kwargs):
        if self.refuse:
            raise requests.exceptions.ConnectionError("[Errno 111] Connection refused")
        body = json.loads(request.body) if request.body else None
        self.sent.append(Sent(request.method, request.url, body, dict(request.headers)))
        status, payload = self.routes.get(
            (request.method, request.url),
            (404, {"error": {"code": 404, "title": "Not Found",
                             "message": f"no route {request.method} {request.url}"}}))
        resp = requests.Response()
        resp.status_code = status
        resp.reason = requests.status_codes._codes[status][0].replace("_", " ").title()
        resp.url = request.url
        resp.request = request
        if isinstance(payload, str | bytes):
            resp._content = payload.encode() if isinstance(payload, str) else payload
            resp.headers["Content-Type"] = "text/html"
        else:
            resp._content = json.dumps(payload).encode() if payload is not None else b""
            resp.headers["Content-Type"] = "application/json"
        return resp

    def close(self):
        pass


def session_with(transport: FakeTransport) -> ks_session.Session:
    """A keystoneauth session holding a bare token, its HTTP served by ``transport``."""
    sess = ks_session.Session(auth=token_endpoint.Token(ENDPOINT, TOKEN))
    sess.session.mount("http://kingbird.test:8118", transport)
    return sess
