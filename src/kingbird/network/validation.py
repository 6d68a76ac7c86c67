"""Strict checks of the cross-region networking request bodies.

Every refusal is a ``BadRequest`` naming the field and what is wrong; the checks
that need the regions (does the port exist, whose group is it) are the
handlers', and come after these.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NoReturn

from kingbird.core import exceptions
from kingbird.network import addressing, secgroups
from kingbird.network.settings import NetworkingSettings

MAX_NAME = 255
MAX_ID = 64
# Largest VIP block a request may ask for (the rest of a big IPv6 CIDR stays in pools).
MAX_RESERVED = 4096


def _fail(message: str) -> NoReturn:
    raise exceptions.BadRequest(message)


def wrapped(body: Any, wrapper: str, allowed: Sequence[str],
            required: Sequence[str] = ()) -> dict:
    """``body[wrapper]`` as an object with only ``allowed`` keys and every ``required`` one."""
    if not isinstance(body, dict) or set(body) != {wrapper}:
        _fail(f"request body must be an object with only '{wrapper}'")
    inner = body[wrapper]
    if not isinstance(inner, dict):
        _fail(f"'{wrapper}' must be an object")
    extra = sorted(set(map(str, inner)) - set(allowed))
    if extra:
        _fail(f"unexpected keys in '{wrapper}': {', '.join(map(repr, extra))}; allowed: "
              f"{', '.join(allowed)}")
    for key in required:
        if key not in inner:
            _fail(f"missing '{wrapper}.{key}'")
    return inner


def text(value: Any, what: str, max_len: int = MAX_NAME, empty: bool = True) -> str:
    if not isinstance(value, str):
        _fail(f"'{what}' must be a string")
    if not empty and not value.strip():
        _fail(f"'{what}' must not be empty")
    if len(value) > max_len:
        _fail(f"'{what}' is longer than {max_len} characters")
    return value


def identifier(value: Any, what: str) -> str:
    value = text(value, what, MAX_ID, empty=False)
    if any(c.isspace() or c in "/?#" for c in value):
        _fail(f"'{what}' {value!r} is not a valid id")
    return value


def region(value: Any, what: str, known: Sequence[str]) -> str:
    name = text(value, what, empty=False)
    if name not in known:
        _fail(f"'{what}': unknown region {name!r}; regions with a network service: "
              f"{', '.join(known) or 'none'}")
    return name


def region_list(value: Any, what: str, known: Sequence[str], minimum: int = 1) -> list[str]:
    if not isinstance(value, list):
        _fail(f"'{what}' must be a list of region names")
    names = [region(v, f"{what}[{i}]", known) for i, v in enumerate(value)]
    if len(set(names)) != len(names):
        _fail(f"'{what}' names a region twice")
    if len(names) < minimum:
        _fail(f"'{what}' must name at least {minimum} region(s)")
    return names


def integer(value: Any, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"'{what}' must be an integer")
    if not low <= value <= high:
        _fail(f"'{what}' must be between {low} and {high}, got {value}")
    return value


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
    inner = wrapped(body, w, ("name", "cidr", "regions", "gateway_regions",
                              "reserved_addresses"), ("cidr", "regions"))
    name = text(inner.get("name", ""), f"{w}.name")
    try:
        cidr = addressing.parse_cidr(inner["cidr"])
    except addressing.AddressingError as exc:
        _fail(f"'{w}.cidr': {exc}")
    regions = region_list(inner["regions"], f"{w}.regions", known)
    gateways = region_list(inner.get("gateway_regions", []), f"{w}.gateway_regions", regions,
                           minimum=0)
    missing = [r for r in regions if r not in settings.tunnels]
    if missing:
        _fail(f"'{w}.regions': no tunnel endpoint is configured for {', '.join(missing)} "
              "([networking] tunnel_endpoints), so it cannot join a global network")
    reserved = integer(inner.get("reserved_addresses", settings.reserved_addresses),
                       f"{w}.reserved_addresses", 0, MAX_RESERVED)
    return NetworkRequest(name, cidr, regions, gateways, reserved)


def port_ref(value: Any, what: str, regions: Sequence[str]) -> dict[str, str]:
    """``{"region", "port_id"}`` with the region one of ``regions``."""
    if not isinstance(value, dict) or set(value) != {"region", "port_id"}:
        _fail(f"'{what}' must be an object with 'region' and 'port_id'")
    name = text(value["region"], f"{what}.region", empty=False)
    if name not in regions:
        _fail(f"'{what}.region': the network does not span {name!r} (it spans "
              f"{', '.join(regions)})")
    return {"region": name, "port_id": identifier(value["port_id"], f"{what}.port_id")}


def attach(body: Any, regions: Sequence[str]) -> dict[str, str]:
    return port_ref(wrapped(body, "port", ("region", "port_id"), ("region", "port_id")),
                    "port", regions)


def vip(body: Any, regions: Sequence[str], creating: bool) -> tuple[str | None, list[dict]]:
    """``{"vip": {"ip_address"?, "ports"}}`` → (address or None, port refs)."""
    allowed = ("ip_address", "ports") if creating else ("ports",)
    inner = wrapped(body, "vip", allowed, () if creating else ("ports",))
    refs = inner.get("ports", [])
    if not isinstance(refs, list):
        _fail("'vip.ports' must be a list of {'region', 'port_id'}")
    ports = [port_ref(r, f"vip.ports[{i}]", regions) for i, r in enumerate(refs)]
    if len({(p["region"], p["port_id"]) for p in ports}) != len(ports):
        _fail("'vip.ports' names a port twice")
    address = inner.get("ip_address")
    if address is not None:
        address = text(address, "vip.ip_address", 64, empty=False)
    return address, ports


def sg_rule(body: Any, known: Sequence[str]) -> dict[str, Any]:
    w = "global_security_group_rule"
    inner = wrapped(body, w, ("region", "security_group_id", "direction", "ethertype",
                              "protocol", "port_range_min", "port_range_max", "remote_region",
                              "remote_group_id"),
                    ("region", "security_group_id", "direction", "remote_region",
                     "remote_group_id"))
    rule = {"region": region(inner["region"], f"{w}.region", known),
            "remote_region": region(inner["remote_region"], f"{w}.remote_region", known),
            "security_group_id": identifier(inner["security_group_id"],
                                            f"{w}.security_group_id"),
            "remote_group_id": identifier(inner["remote_group_id"], f"{w}.remote_group_id")}
    if rule["region"] == rule["remote_region"]:
        _fail(f"'{w}': the remote group is in the same region: write a Neutron rule with "
              "remote_group_id there")
    rule["direction"] = inner["direction"]
    if rule["direction"] not in secgroups.DIRECTIONS:
        _fail(f"'{w}.direction' must be one of {', '.join(secgroups.DIRECTIONS)}")
    rule["ethertype"] = inner.get("ethertype", "IPv4")
    if rule["ethertype"] not in secgroups.ETHERTYPES:
        _fail(f"'{w}.ethertype' must be one of {', '.join(secgroups.ETHERTYPES)}")
    protocol = inner.get("protocol")
    if isinstance(protocol, int) and not isinstance(protocol, bool):
        protocol = str(integer(protocol, f"{w}.protocol", 0, 255))
    elif protocol is not None:
        protocol = text(protocol, f"{w}.protocol", 32, empty=False).lower()
    rule["protocol"] = protocol
    for key in ("port_range_min", "port_range_max"):
        value = inner.get(key)
        rule[key] = None if value is None else integer(value, f"{w}.{key}", 0, 65535)
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
    inner = wrapped(body, w, ("name", "transit", "subnets"), ("transit", "subnets"))
    subnets = inner["subnets"]
    if not isinstance(subnets, dict) or len(subnets) < 2:
        _fail(f"'{w}.subnets' must map at least two regions to a subnet id each")
    spec: dict[str, Any] = {
        "name": text(inner.get("name", ""), f"{w}.name"),
        "subnets": {region(r, f"{w}.subnets", known): identifier(s, f"{w}.subnets.{r}")
                    for r, s in subnets.items()},
        "transit_network_id": None, "transit_networks": {}}
    transit = inner["transit"]
    if not isinstance(transit, dict) or len(transit) != 1 or \
            next(iter(transit)) not in ("global_network_id", "networks"):
        _fail(f"'{w}.transit' must be {{'global_network_id': id}} or {{'networks': "
              "{region: network id}}")
    if "global_network_id" in transit:
        spec["transit_network_id"] = identifier(transit["global_network_id"],
                                                f"{w}.transit.global_network_id")
    else:
        networks = transit["networks"]
        if not isinstance(networks, dict):
            _fail(f"'{w}.transit.networks' must map regions to network ids")
        spec["transit_networks"] = {
            region(r, f"{w}.transit.networks", known): identifier(n, f"{w}.transit.networks.{r}")
            for r, n in networks.items()}
        missing = sorted(set(spec["subnets"]) - set(spec["transit_networks"]))
        if missing:
            _fail(f"'{w}.transit.networks' has no network for {', '.join(missing)}")
    return spec


def same_version_overlaps(cidrs: dict[str, str]) -> list[tuple[str, str]]:
    """Pairs of labels whose CIDRs overlap (helper of the router checks)."""
    return addressing.overlapping({k: ipaddress.ip_network(v, strict=False)
                                   for k, v in cidrs.items()})
