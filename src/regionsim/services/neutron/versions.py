"""Neutron's version document, resource list and extension list."""

from __future__ import annotations

from flask import request

from regionsim import web
from regionsim.services.neutron.common import bp, route

# The API extensions whose behaviour this simulator implements.
EXTENSIONS = {
    "quotas": "Quota management support",
    "quota_details": "Quota details management support",
    "project-id": "project_id field enabled",
    "router": "Neutron L3 Router",
    "external-net": "Neutron external network",
    "extraroute": "Neutron Extra Route",
    "extraroute-atomic": "Atomic add/remove of extra routes",
    "provider": "Provider Network",
    "binding": "Port Binding",
    "security-group": "security-group",
    "allowed-address-pairs": "Allowed Address Pairs",
    "port-security": "Port Security",
    "net-mtu": "Network MTU",
    "net-mtu-writable": "Network MTU (writable)",
    "fip-port-details": "Floating IP Port Details Extension",
    "standard-attr-description": "standard-attr-description",
    "standard-attr-revisions": "Resource revision numbers",
    "standard-attr-timestamp": "Resource timestamps",
    "standard-attr-tag": "Tag support for resources with standard attribute",
    "availability_zone": "Availability Zone",
    "filter-validation": "Filter parameters validation",
}
RESOURCES = ("network", "subnet", "port", "router", "floatingip", "security_group",
             "security_group_rule", "quota")


def _root() -> str:
    return request.host_url.rstrip("/") + bp.url_prefix


@bp.get("/")
@bp.get("")
def versions():
    return web.json_response({"versions": [{
        "id": "v2.0", "status": "CURRENT",
        "links": [{"href": f"{_root()}/v2.0/", "rel": "self"}]}]})


@route("/v2.0/", ["GET"])
def resources():
    base = f"{_root()}/v2.0"
    items = []
    for name in RESOURCES:
        collection = {"security_group": "security-groups",
                      "security_group_rule": "security-group-rules"}.get(name, name + "s")
        items.append({"name": name, "collection": collection.replace("-", "_"),
                      "links": [{"href": f"{base}/{collection}", "rel": "self"}]})
    return web.json_response({"resources": items})


def _extension(alias: str) -> dict:
    return {"alias": alias, "name": EXTENSIONS[alias], "description": EXTENSIONS[alias],
            "updated": "2013-01-01T10:00:00-00:00", "links": []}


@route("/v2.0/extensions", ["GET"])
def list_extensions():
    return web.json_response({"extensions": [_extension(a) for a in EXTENSIONS]})


@route("/v2.0/extensions/<alias>", ["GET"])
def show_extension(alias):
    if alias not in EXTENSIONS:
        return web.json_response({"NeutronError": {
            "type": "ExtensionNotFound", "message": f"Extension with alias {alias} does not "
                                                     "exist", "detail": ""}}, 404)
    return web.json_response({"extension": _extension(alias)})
