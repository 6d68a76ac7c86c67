"""Cross-region networking: ``os-global-networks`` (with their ports and virtual IPs),
``os-global-security-group-rules`` and ``os-global-routers``.

Changes are carried out by Kingbird's engines: creations and deletions answer at
once with the object's current status (``BUILD``, ``DELETING``); poll ``get``
until it is ``ACTIVE`` (or gone).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from kingbird.client.http import HttpClient


@dataclass(frozen=True)
class GlobalNetwork:
    """A network stretched over ``regions`` (region -> its Neutron network, subnet,
    gateway, pools, status); ``segmentation_id`` is shown to administrators only."""

    id: str
    name: str
    cidr: str
    status: str
    regions: dict[str, dict[str, Any]] = field(default_factory=dict)
    project_id: str | None = None
    error: str | None = None
    gateway_regions: list[str] = field(default_factory=list)
    reserved_addresses: int | None = None
    segmentation_id: int | None = None


@dataclass(frozen=True)
class NetworkPort:
    """A port of a global network and its shadow in each other region."""

    region: str
    port_id: str
    status: str
    source: str
    mac_address: str | None = None
    fixed_ips: list[str] = field(default_factory=list)
    shadows: dict[str, str | None] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class Vip:
    """A virtual IP, the ports allowed to answer for it, its reservation per region."""

    id: str
    ip_address: str
    status: str
    ports: list[dict[str, str]] = field(default_factory=list)
    reservations: dict[str, str] = field(default_factory=dict)
    error: str | None = None


@dataclass(frozen=True)
class GlobalSecurityGroupRule:
    id: str
    region: str
    security_group_id: str
    direction: str
    remote_region: str
    remote_group_id: str
    status: str
    ethertype: str = "IPv4"
    protocol: str | None = None
    port_range_min: int | None = None
    port_range_max: int | None = None
    expanded: list[str] = field(default_factory=list)
    error: str | None = None


@dataclass(frozen=True)
class GlobalRouter:
    id: str
    name: str
    status: str
    subnets: dict[str, str] = field(default_factory=dict)
    transit_network_id: str | None = None
    transit_networks: dict[str, str] = field(default_factory=dict)
    regions: dict[str, dict[str, Any]] = field(default_factory=dict)
    error: str | None = None


def _pick(cls, item: Mapping[str, Any]):
    names = cls.__dataclass_fields__
    return cls(**{k: v for k, v in item.items() if k in names})


class GlobalNetworkManager:
    """The verbs on ``os-global-networks``; networks belong to the caller's project."""

    def __init__(self, http: HttpClient):
        self._http = http

    def create(self, cidr: str, regions: Sequence[str], name: str = "",
               gateway_regions: Sequence[str] = (),
               reserved_addresses: int | None = None) -> GlobalNetwork:
        """Create a network over ``regions``, one CIDR split into per-region pools.

        :param gateway_regions: the regions whose subnet gets a gateway.
        :param reserved_addresses: addresses kept out of every pool, for VIPs.
        :raises kingbird.client.exceptions.BadRequest: a bad CIDR, region or layout.
        """
        body: dict[str, Any] = {"name": name, "cidr": cidr, "regions": list(regions),
                                "gateway_regions": list(gateway_regions)}
        if reserved_addresses is not None:
            body["reserved_addresses"] = reserved_addresses
        answer = self._http.post("/os-global-networks", {"global_network": body})
        return _pick(GlobalNetwork, answer["global_network"])

    def list(self) -> list[GlobalNetwork]:
        return [_pick(GlobalNetwork, n)
                for n in self._http.get_all("/os-global-networks", "global_networks")]

    def get(self, network_id: str) -> GlobalNetwork:
        """:raises kingbird.client.exceptions.NotFound: no such network in the project."""
        return _pick(GlobalNetwork,
                     self._http.get(f"/os-global-networks/{network_id}")["global_network"])

    def delete(self, network_id: str) -> GlobalNetwork:
        """Start deleting a network and its regional parts.

        :raises kingbird.client.exceptions.Conflict: ports remain on it.
        """
        answer = self._http.delete(f"/os-global-networks/{network_id}")
        return _pick(GlobalNetwork, answer["global_network"])

    def ports(self, network_id: str) -> list[NetworkPort]:
        answer = self._http.get(f"/os-global-networks/{network_id}/ports")
        return [_pick(NetworkPort, p) for p in answer["ports"]]

    def attach(self, network_id: str, region: str, port_id: str) -> NetworkPort:
        """Shadow a port now, without waiting for the next poll."""
        answer = self._http.post(f"/os-global-networks/{network_id}/ports",
                                 {"port": {"region": region, "port_id": port_id}})
        return _pick(NetworkPort, answer["port"])

    def create_vip(self, network_id: str, ports: Sequence[Mapping[str, str]],
                   ip_address: str | None = None) -> Vip:
        """Reserve a virtual IP (the next reserved address unless given) for ``ports``
        (``{"region", "port_id"}`` each)."""
        body: dict[str, Any] = {"ports": [dict(p) for p in ports]}
        if ip_address:
            body["ip_address"] = ip_address
        answer = self._http.post(f"/os-global-networks/{network_id}/vips", {"vip": body})
        return _pick(Vip, answer["vip"])

    def vips(self, network_id: str) -> list[Vip]:
        return [_pick(Vip, v)
                for v in self._http.get_all(f"/os-global-networks/{network_id}/vips", "vips")]

    def get_vip(self, network_id: str, vip_id: str) -> Vip:
        return _pick(Vip, self._http.get(f"/os-global-networks/{network_id}/vips/{vip_id}")
                     ["vip"])

    def update_vip(self, network_id: str, vip_id: str,
                   ports: Sequence[Mapping[str, str]]) -> Vip:
        answer = self._http.put(f"/os-global-networks/{network_id}/vips/{vip_id}",
                                {"vip": {"ports": [dict(p) for p in ports]}})
        return _pick(Vip, answer["vip"])

    def delete_vip(self, network_id: str, vip_id: str) -> Vip:
        answer = self._http.delete(f"/os-global-networks/{network_id}/vips/{vip_id}")
        return _pick(Vip, answer["vip"])


class GlobalSecurityGroupRuleManager:
    """The verbs on ``os-global-security-group-rules``."""

    def __init__(self, http: HttpClient):
        self._http = http

    def create(self, region: str, security_group_id: str, direction: str,
               remote_region: str, remote_group_id: str, ethertype: str = "IPv4",
               protocol: str | None = None, port_range_min: int | None = None,
               port_range_max: int | None = None) -> GlobalSecurityGroupRule:
        """A rule of ``security_group_id`` (in ``region``) whose remote group is
        ``remote_group_id`` in ``remote_region``."""
        body = {"region": region, "security_group_id": security_group_id,
                "direction": direction, "ethertype": ethertype,
                "remote_region": remote_region, "remote_group_id": remote_group_id}
        for key, value in (("protocol", protocol), ("port_range_min", port_range_min),
                           ("port_range_max", port_range_max)):
            if value is not None:
                body[key] = value
        answer = self._http.post("/os-global-security-group-rules",
                                 {"global_security_group_rule": body})
        return _pick(GlobalSecurityGroupRule, answer["global_security_group_rule"])

    def list(self) -> list[GlobalSecurityGroupRule]:
        return [_pick(GlobalSecurityGroupRule, r)
                for r in self._http.get_all("/os-global-security-group-rules",
                                            "global_security_group_rules")]

    def get(self, rule_id: str) -> GlobalSecurityGroupRule:
        answer = self._http.get(f"/os-global-security-group-rules/{rule_id}")
        return _pick(GlobalSecurityGroupRule, answer["global_security_group_rule"])

    def delete(self, rule_id: str) -> GlobalSecurityGroupRule:
        answer = self._http.delete(f"/os-global-security-group-rules/{rule_id}")
        return _pick(GlobalSecurityGroupRule, answer["global_security_group_rule"])


class GlobalRouterManager:
    """The verbs on ``os-global-routers`` (the L3 option)."""

    def __init__(self, http: HttpClient):
        self._http = http

    def create(self, subnets: Mapping[str, str], transit_network_id: str | None = None,
               transit_networks: Mapping[str, str] | None = None,
               name: str = "") -> GlobalRouter:
        """Routers in each region of ``subnets`` (region -> subnet id), joined through
        a global network (``transit_network_id``) or per-region networks
        (``transit_networks``, region -> network id)."""
        transit = ({"global_network_id": transit_network_id} if transit_network_id
                   else {"networks": dict(transit_networks or {})})
        answer = self._http.post("/os-global-routers", {"global_router": {
            "name": name, "transit": transit, "subnets": dict(subnets)}})
        return _pick(GlobalRouter, answer["global_router"])

    def list(self) -> list[GlobalRouter]:
        return [_pick(GlobalRouter, r)
                for r in self._http.get_all("/os-global-routers", "global_routers")]

    def get(self, router_id: str) -> GlobalRouter:
        return _pick(GlobalRouter,
                     self._http.get(f"/os-global-routers/{router_id}")["global_router"])

    def delete(self, router_id: str) -> GlobalRouter:
        return _pick(GlobalRouter,
                     self._http.delete(f"/os-global-routers/{router_id}")["global_router"])
