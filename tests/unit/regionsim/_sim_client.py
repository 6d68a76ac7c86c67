"""Shared helpers of the Nova and Cinder unit tests: a region app and its callers.

The app is ``build_flask_app`` (no auth, no sockets); callers are set through
the X-User-Id / X-Project-Id / X-Roles headers keystonemiddleware would set.
Images and networks are made through the region's real Glance and Neutron
routes, so Nova and Cinder are exercised through the region contract.
"""

from __future__ import annotations

import base64

import jsonschema

from regionsim.app import build_flask_app
from regionsim.region import Region

ADMIN = ("admin-user", "admin-project", "admin,member,reader")
DEMO = ("demo-user", "demo-project", "member,reader")
OTHER = ("other-user", "other-project", "member,reader")


class Caller:
    """One identity calling one region's app, optionally at a microversion."""

    def __init__(self, client, who: tuple[str, str, str], service: str, version: str | None):
        self.client = client
        self.service = service
        self.user_id, self.project_id, roles = who
        self.headers = {"X-User-Id": self.user_id, "X-Project-Id": self.project_id,
                        "X-Roles": roles}
        if version:
            self.headers["OpenStack-API-Version"] = f"{service} {version}"

    def at(self, version: str) -> Caller:
        """The same identity asking for microversion ``version`` of its service."""
        return Caller(self.client, (self.user_id, self.project_id, self.headers["X-Roles"]),
                      self.service, version)

    def call(self, method: str, path: str, body=None, headers=None):
        merged = dict(self.headers, **(headers or {}))
        return self.client.open(path, method=method, json=body, headers=merged)

    def get(self, path, **kw):
        return self.call("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.call("POST", path, body, **kw)

    def put(self, path, body=None, **kw):
        return self.call("PUT", path, body, **kw)

    def delete(self, path, **kw):
        return self.call("DELETE", path, **kw)


def make_region(tmp_path, name: str = "RegionOne"):
    """A region with its app and test client; Glance writes under ``tmp_path``."""
    region = Region(name=name)
    app = build_flask_app(region)
    region.service("glance").data_dir = str(tmp_path / f"glance-{name}")
    return region, app.test_client()


# Tempest checks formats; ids here are not UUIDs, so only address formats are checked
# (which the schemas' ``oneOf: [ipv4, ipv6]`` needs to mean anything).
_FORMATS = jsonschema.FormatChecker(formats=("ipv4", "ipv6"))


def validate(schema: dict, response) -> None:
    """Check a response against a tempest.lib schema (status code and body)."""
    assert response.status_code in schema["status_code"], (response.status_code,
                                                           response.get_data(as_text=True))
    if "response_body" in schema:
        validator = jsonschema.Draft4Validator(schema["response_body"], format_checker=_FORMATS)
        validator.validate(response.get_json())


def create_image(caller: Caller, data: bytes = b"image-bytes", **fields) -> str:
    """An active image holding ``data``, made through Glance's own routes."""
    body = {"name": "img", "disk_format": "qcow2", "container_format": "bare",
            "visibility": "public"}
    body.update(fields)
    resp = caller.post("/image/v2/images", body)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    image_id = resp.get_json()["id"]
    resp = caller.client.put(f"/image/v2/images/{image_id}/file", data=data,
                             headers=dict(caller.headers,
                                          **{"Content-Type": "application/octet-stream"}))
    assert resp.status_code == 204, resp.get_data(as_text=True)
    return image_id


def create_network(caller: Caller, cidr: str = "10.0.0.0/24", name: str = "private",
                   shared: bool = False) -> str:
    """A network with one IPv4 subnet, made through Neutron's own routes."""
    body = {"network": {"name": name}}
    if shared:
        body["network"]["shared"] = True
    resp = caller.post("/networking/v2.0/networks", body)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    network_id = resp.get_json()["network"]["id"]
    resp = caller.post("/networking/v2.0/subnets",
                       {"subnet": {"network_id": network_id, "cidr": cidr, "ip_version": 4}})
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return network_id


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
