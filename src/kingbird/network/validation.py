"""The cross-region networking request bodies, read into what the handlers need.

Each body is checked against its schema in ``kingbird.network.schemas`` (the one
``/openapi.json`` publishes); what a schema cannot say — a region is in the
catalog or in the network, a CIDR parses, two fields agree — is checked after it
by the small functions here. Every refusal is a ``BadRequest`` naming the field.
The checks that need the regions (does the port exist, whose group is it) are
the handlers', and come after these.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from kingbird.api import validation
from kingbird.core import exceptions
from kingbird.network import addressing, schemas
from kingbird.network.settings import NetworkingSettings


def _fail(message: str) -> NoReturn:
    raise exceptions.BadRequest(message)


def _region(name: str, what: str, known: Sequence[str]) -> str:
    """:raises BadRequest: ``name`` is not one of the ``known`` regions."""
    if name not in known:
        _fail(f"'{what}': unknown region {name!r}; regions with a network service: "
              f"{', '.join(known) or 'none'}")
    return name


def _region_list(names: list[str], what: str, known: Sequence[str]) -> list[str]:
    return [_region(name, f"{what}[{i}]", known) for i, name in enumerate(names)]


@dataclass(frozen=True)
class NetworkRequest:
    name: str
    cidr: addressing.Network
    regions: list[str]
    gateway_regions: list[str]
    reserved: int


def global_network(body: Any, known: Sequence[str],
                   settings: NetworkingSettings) -> NetworkRequest:
    """``{"global_network": {"name", "cidr", "regions", "gateway_regions",
    "reserved_addresses"}}``; ``cidr`` and ``regions`` are required."""
    w = "global_network"
    inner = validation.checked(schemas.CREATE_NETWORK, body)[w]
    try:
        cidr = addressing.parse_cidr(inner["cidr"])
    except addressing.AddressingError as exc:
        _fail(f"'{w}.cidr': {exc}")
    regions = _region_list(inner["regions"], f"{w}.regions", known)
    gateways = _region_list(inner.get("gateway_regions", []), f"{w}.gateway_regions", regions)
    missing = [r for r in regions if r not in settings.tunnels]
    if missing:
        _fail(f"'{w}.regions': no tunnel endpoint is configured for {', '.join(missing)} "
              "([networking] tunnel_endpoints), so it cannot join a global network")
    return NetworkRequest(inner.get("name", ""), cidr, regions, gateways,
                          inner.get("reserved_addresses", settings.reserved_addresses))


def _port_ref(ref: dict, what: str, regions: Sequence[str]) -> dict[str, str]:
    """``{"region", "port_id"}`` with the region one of ``regions``."""
    if ref["region"] not in regions:
        _fail(f"'{what}.region': the network does not span {ref['region']!r} (it spans "
              f"{', '.join(regions)})")
    return {"region": ref["region"], "port_id": ref["port_id"]}


def attach(body: Any, regions: Sequence[str]) -> dict[str, str]:
    return _port_ref(validation.checked(schemas.ATTACH_PORT, body)["port"], "port", regions)


def vip(body: Any, regions: Sequence[str], creating: bool) -> tuple[str | None, list[dict]]:
    """``{"vip": {"ip_address"?, "ports"}}`` → (address or None, port refs)."""
    inner = validation.checked(schemas.CREATE_VIP if creating else schemas.UPDATE_VIP,
                               body)["vip"]
    ports = [_port_ref(r, f"vip.ports[{i}]", regions)
             for i, r in enumerate(inner.get("ports", []))]
    return inner.get("ip_address"), ports


def sg_rule(body: Any, known: Sequence[str]) -> dict[str, Any]:
    w = "global_security_group_rule"
    inner = validation.checked(schemas.CREATE_SG_RULE, body)[w]
    rule = {"region": _region(inner["region"], f"{w}.region", known),
            "remote_region": _region(inner["remote_region"], f"{w}.remote_region", known),
            "security_group_id": inner["security_group_id"],
            "remote_group_id": inner["remote_group_id"],
            "direction": inner["direction"], "ethertype": inner.get("ethertype", "IPv4"),
            "port_range_min": inner.get("port_range_min"),
            "port_range_max": inner.get("port_range_max")}
    if rule["region"] == rule["remote_region"]:
        _fail(f"'{w}': the remote group is in the same region: write a Neutron rule with "
              "remote_group_id there")
    protocol = inner.get("protocol")
    rule["protocol"] = protocol if protocol is None else str(protocol).lower()
    if (rule["port_range_min"] is None) != (rule["port_range_max"] is None):
        _fail(f"'{w}': give both port_range_min and port_range_max, or neither")
    if rule["port_range_min"] is not None:
        if protocol is None:
            _fail(f"'{w}': a port range needs a protocol")
        if rule["port_range_min"] > rule["port_range_max"]:
            _fail(f"'{w}.port_range_min' is greater than port_range_max")
    return rule


def router(body: Any, known: Sequence[str]) -> dict[str, Any]:
    w = "global_router"
    inner = validation.checked(schemas.CREATE_ROUTER, body)[w]
    spec: dict[str, Any] = {
        "name": inner.get("name", ""),
        "subnets": {_region(r, f"{w}.subnets", known): s for r, s in inner["subnets"].items()},
        "transit_network_id": None, "transit_networks": {}}
    transit = inner["transit"]
    if "global_network_id" in transit:
        spec["transit_network_id"] = transit["global_network_id"]
    else:
        spec["transit_networks"] = {_region(r, f"{w}.transit.networks", known): n
                                    for r, n in transit["networks"].items()}
        missing = sorted(set(spec["subnets"]) - set(spec["transit_networks"]))
        if missing:
            _fail(f"'{w}.transit.networks' has no network for {', '.join(missing)}")
    return spec


def same_version_overlaps(cidrs: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of labels whose CIDRs overlap (helper of the router checks)."""
    return addressing.overlapping({k: ipaddress.ip_network(v, strict=False)
                                   for k, v in cidrs.items()})
