"""Regions of regionsim in-process (Flask test clients, no sockets) behind the same
``call`` interface as ``RegionRest``, for the networking engine's tests: failures
become ``RegionError`` through openstacksdk's own ``raise_from_response``, exactly
as over HTTP."""

from __future__ import annotations

import requests
from openstack import exceptions as sdk_exc

from kingbird.core.exceptions import RegionError
from kingbird.regions import calls
from kingbird.regions.rest import MISSING
from regionsim.app import build_flask_app
from regionsim.region import Region

SERVICE_PROJECT = "service-project"
ADMIN = {"X-User-Id": "kingbird", "X-Project-Id": SERVICE_PROJECT, "X-Roles": "admin,member"}


def member(project: str) -> dict:
    return {"X-User-Id": f"user-{project}", "X-Project-Id": project, "X-Roles": "member"}


class SimRegions:
    """Several regions, their clients, and ``RegionRest.call``'s signature."""

    def __init__(self, names):
        self.regions = {name: Region(name=name) for name in names}
        self.clients = {name: build_flask_app(region).test_client()
                        for name, region in self.regions.items()}
        self.down: set[str] = set()
        self.calls: list[tuple[str, str, str]] = []

    def call(self, region, service, method, path, what, *, body=None, params=None,
             missing_ok=False, **_):
        assert service == "network"
        self.calls.append((region, method, path))

        def once():
            if region in self.down:
                raise RegionError(region, f"{what}: connection refused", transient=True)
            resp = self.clients[region].open("/networking/v2.0" + path, method=method,
                                             json=body, query_string=params, headers=ADMIN)
            if missing_ok and resp.status_code == 404:
                return MISSING
            answer = requests.Response()
            answer.status_code = resp.status_code
            answer._content = resp.data
            answer.headers["content-type"] = resp.content_type or ""
            answer.reason = resp.status
            sdk_exc.raise_from_response(answer)
            return resp.get_json() if resp.data else {}

        return calls.call(region, what, once, calls.ONCE)

    def request(self, region, method, path, headers=None, body=None, **query):
        """A direct call to a region (as a member or admin), answer checked."""
        resp = self.clients[region].open("/networking/v2.0" + path, method=method, json=body,
                                         query_string=query or None,
                                         headers=headers or ADMIN)
        assert resp.status_code < 400, (resp.status_code, resp.get_data(as_text=True))
        return resp.get_json() if resp.data else None

    def ports(self, region, **query):
        return self.request(region, "GET", "/ports", **query)["ports"]
