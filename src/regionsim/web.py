"""Helpers shared by the simulated services: the caller, JSON responses, the region.

Service modules are Flask blueprints; the region they serve is in the app config,
and the caller's identity comes from the headers keystonemiddleware sets after it
validated the token against Keystone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from flask import Response, current_app, request

from regionsim.region import Region


@dataclass(frozen=True)
class Caller:
    """Who makes the request, as Keystone told keystonemiddleware."""

    user_id: str
    project_id: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def region() -> Region:
    """The region this request is addressed to."""
    return current_app.config["REGION"]


def caller() -> Caller:
    """The authenticated caller of the current request."""
    roles = request.headers.get("X-Roles", "")
    return Caller(
        user_id=request.headers.get("X-User-Id", ""),
        project_id=request.headers.get("X-Project-Id", ""),
        roles=frozenset(r.strip().lower() for r in roles.split(",") if r.strip()),
    )


def json_response(body, status: int = 200, headers: dict | None = None) -> Response:
    """A JSON response; ``body`` None gives an empty body (204-style)."""
    data = "" if body is None else json.dumps(body)
    resp = Response(data, status=status, mimetype="application/json" if data else None)
    for key, value in (headers or {}).items():
        resp.headers[key] = value
    return resp


def json_body() -> dict | None:
    """The request's JSON object, or None when the body is absent or not an object."""
    try:
        body = json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
