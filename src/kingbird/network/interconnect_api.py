"""Cross-region security group rules (``os-global-security-group-rules``) and
global routers, the L3 option (``os-global-routers``).

A POST checks the body, then reads the named groups, subnets and networks live
(with the service's credentials) to make sure they exist and belong to the
project, and that the routers' subnets do not overlap; only then is the object
stored for the engines, and the answer is 202 with its current state.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from flask import Blueprint

from kingbird.api import pagination, validation
from kingbird.api.app_services import services
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions
from kingbird.core import exceptions
from kingbird.network import access, limits
from kingbird.network import policy_repository as net_policies_db
from kingbird.network import repository as networks_db
from kingbird.network import validation as checks
from kingbird.network.schemas import describe_interconnect

bp = Blueprint("global_interconnect", __name__)

RULE_POLICY = "kingbird:global_sg_rule"
ROUTER_POLICY = "kingbird:global_router"
_RULE_KEYS = ("id", "project_id", "region", "security_group_id", "direction", "ethertype",
              "protocol", "port_range_min", "port_range_max", "remote_region", "remote_group_id",
              "expanded", "status", "error", "created_at", "updated_at")
_ROUTER_KEYS = ("id", "project_id", "name", "transit_network_id", "transit_networks",
                "subnets", "status", "error", "created_at", "updated_at")


def _rule_view(rule: dict) -> dict:
    return {key: rule[key] for key in _RULE_KEYS}


def _router_view(router: dict) -> dict:
    view = {key: router[key] for key in _ROUTER_KEYS}
    view["regions"] = {region: {"router_id": site.get("router_id"), "cidr": site.get("cidr"),
                                "transit_ip": site.get("transit_ip"),
                                "routes": site.get("routes", [])}
                       for region, site in sorted(router["state"].items())}
    return view


@dataclasses.dataclass(frozen=True)
class _Kind:
    """One kind of stored interconnect object: its policy, wire name and storage."""

    policy: str
    key: str
    label: str
    view: Callable[[dict], dict]
    get: Callable
    listing: Callable
    mark_deleting: Callable


_RULE = _Kind(RULE_POLICY, "global_security_group_rule", "global security group rule",
              _rule_view, net_policies_db.get_sg_rule, net_policies_db.list_sg_rules,
              net_policies_db.mark_sg_rule_deleting)
_ROUTER = _Kind(ROUTER_POLICY, "global_router", "global router", _router_view,
                net_policies_db.get_router, net_policies_db.list_routers,
                net_policies_db.mark_router_deleting)


def _list(kind: _Kind, tenant: str | None):
    _, project = access.project_of(tenant)
    authorise(f"{kind.policy}:list", {"project_id": project})
    with services().db() as session:
        rows = kind.listing(session, project)
    return json_response(pagination.listing(f"{kind.key}s", rows, kind.view))


def _load(kind: _Kind, session, object_id: str, project: str) -> dict:
    row = kind.get(session, object_id, project)
    if row is None:
        raise exceptions.NotFound(f"{kind.label} {object_id} not found")
    return row


def _show(kind: _Kind, object_id: str, tenant: str | None):
    _, project = access.project_of(tenant)
    authorise(f"{kind.policy}:show", {"project_id": project})
    with services().db() as session:
        row = _load(kind, session, object_id, project)
    return json_response({kind.key: kind.view(row)})


def _delete(kind: _Kind, object_id: str, tenant: str | None):
    """Mark the object for the engine to tear down; 202 with its DELETING state."""
    _, project = access.project_of(tenant)
    authorise(f"{kind.policy}:delete", {"project_id": project})
    with services().db() as session:
        _load(kind, session, object_id, project)
        kind.mark_deleting(session, object_id)
        row = _load(kind, session, object_id, project)
    services().wake_engine()
    return json_response({kind.key: kind.view(row)}, 202)


# -- security group rules -----------------------------------------------------------

def create_rule(tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{RULE_POLICY}:create", {"project_id": project})
    rule = checks.sg_rule(validation.json_body(), access.known_regions())
    with services().db() as session:
        limits.check(session, access.settings().limits, "sg_rules", project)
    neutron = access.neutron()
    for region_key, group_key in (("region", "security_group_id"),
                                  ("remote_region", "remote_group_id")):
        region, group_id = rule[region_key], rule[group_key]
        access.owned(neutron.get_security_group(region, group_id), "security group", group_id,
                     region, project)
    with services().db() as session:
        limits.check(session, access.settings().limits, "sg_rules", project)
        stored = net_policies_db.create_sg_rule(session, {**rule, "project_id": project})
    services().wake_engine()
    return json_response({"global_security_group_rule": _rule_view(stored)}, 202)


def list_rules(tenant: str | None = None):
    return _list(_RULE, tenant)


def show_rule(rule_id: str, tenant: str | None = None):
    return _show(_RULE, rule_id, tenant)


def delete_rule(rule_id: str, tenant: str | None = None):
    return _delete(_RULE, rule_id, tenant)


# -- global routers -----------------------------------------------------------------

def _transit_cidrs(spec: dict, project: str) -> dict[str, list[str]]:
    """The CIDRs of the transit network in each region of the router."""
    if spec["transit_network_id"] is not None:
        with services().db() as session:
            network = networks_db.get_global_network(session, spec["transit_network_id"], project)
        if network is None or network["status"] == "DELETING":
            raise exceptions.NotFound(f"global network {spec['transit_network_id']} not found")
        spans = {r["region"] for r in network["regions"]}
        missing = sorted(set(spec["subnets"]) - spans)
        if missing:
            raise exceptions.BadRequest(
                f"'global_router.transit': global network {network['id']} does not span "
                f"{', '.join(missing)}")
        return {region: [network["cidr"]] for region in spec["subnets"]}
    neutron = access.neutron()
    cidrs = {}
    for region, network_id in spec["transit_networks"].items():
        network = neutron.get_network(region, network_id)
        if network is None or not (network.get("shared") or network.get("router:external")
                                   or network.get("project_id") == project):
            raise exceptions.NotFound(f"network {network_id} not found in {region}")
        cidrs[region] = [s["cidr"] for s in neutron.find_subnets(region, network_id)]
        if not cidrs[region]:
            raise exceptions.BadRequest(f"'global_router.transit': network {network_id} in "
                                        f"{region} has no subnet for the routers' addresses")
    return cidrs


def create_router(tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{ROUTER_POLICY}:create", {"project_id": project})
    spec = checks.router(validation.json_body(), access.known_regions())
    with services().db() as session:
        limits.check(session, access.settings().limits, "routers", project)
    transit = _transit_cidrs(spec, project)
    neutron = access.neutron()
    labels = {}
    for region, subnet_id in spec["subnets"].items():
        subnet = access.owned(neutron.get_subnet(region, subnet_id), "subnet", subnet_id, region,
                              project)
        if subnet["network_id"] == spec["transit_networks"].get(region):
            raise exceptions.BadRequest(f"'global_router.subnets.{region}': subnet "
                                        f"{subnet_id} is on the transit network")
        if subnet.get("gateway_ip") is None:
            raise exceptions.BadRequest(f"'global_router.subnets.{region}': subnet "
                                        f"{subnet_id} has no gateway for the router")
        labels[f"subnet {subnet_id} ({region})"] = subnet["cidr"]
        for index, cidr in enumerate(transit.get(region, [])):
            labels[f"transit {region} #{index}"] = cidr
    clashes = [(a, b) for a, b in checks.same_version_overlaps(labels)
               if not (a.startswith("transit") and b.startswith("transit"))]
    if clashes:
        a, b = clashes[0]
        raise exceptions.BadRequest(f"'global_router.subnets': {a} {labels[a]} overlaps "
                                    f"{b} {labels[b]}: routed regions need distinct subnets")
    with services().db() as session:
        limits.check(session, access.settings().limits, "routers", project)
        stored = net_policies_db.create_router(session, {**spec, "project_id": project})
    services().wake_engine()
    return json_response({"global_router": _router_view(stored)}, 202)


def list_routers(tenant: str | None = None):
    return _list(_ROUTER, tenant)


def show_router(router_id: str, tenant: str | None = None):
    return _show(_ROUTER, router_id, tenant)


def delete_router(router_id: str, tenant: str | None = None):
    return _delete(_ROUTER, router_id, tenant)


_RULES = "/os-global-security-group-rules"
_ROUTERS = "/os-global-routers"
both_versions(bp, _RULES, create_rule, ["POST"])
both_versions(bp, _RULES, list_rules, ["GET"])
both_versions(bp, f"{_RULES}/<uuid:rule_id>", show_rule, ["GET"])
both_versions(bp, f"{_RULES}/<uuid:rule_id>", delete_rule, ["DELETE"])
both_versions(bp, _ROUTERS, create_router, ["POST"])
both_versions(bp, _ROUTERS, list_routers, ["GET"])
both_versions(bp, f"{_ROUTERS}/<uuid:router_id>", show_router, ["GET"])
both_versions(bp, f"{_ROUTERS}/<uuid:router_id>", delete_router, ["DELETE"])
describe_interconnect(_RULES, _ROUTERS)
