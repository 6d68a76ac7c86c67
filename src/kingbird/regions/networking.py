"""Neutron of each region as cross-region networking uses it (admin API).

Networks, subnets, ports, security group rules and routers, spoken over the REST
API through ``RegionRest`` (retries, one translation of failures). The service's
credentials are an admin's: Kingbird sets provider attributes, chooses MACs and
addresses, and binds shadow ports, as only an admin may.

A refusal by Neutron is a ``RegionError`` whose ``neutron_error`` (see
``refusal``) tells the status and Neutron's error type, so callers can tell "the
VXLAN id is taken there" from "over quota" without parsing messages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from kingbird.core.exceptions import RegionError
from kingbird.regions.rest import MISSING, RegionRest
from kingbird.regions.security_groups import SecurityGroups


@dataclass(frozen=True)
class Refusal:
    """What Neutron answered to a refused call."""

    status: int | None
    type: str | None
    message: str


def refusal(exc: RegionError) -> Refusal:
    """Status and Neutron error type behind a ``RegionError`` (None when unknown)."""
    kind = None
    response = getattr(exc.__cause__, "response", None)
    if response is not None:
        try:
            kind = (response.json().get("NeutronError") or {}).get("type")
        except (ValueError, AttributeError):
            kind = None
    return Refusal(exc.status, kind, exc.message)


def _q(value: str) -> str:
    return quote(value, safe="")


class RegionNetworking:
    """Neutron calls of cross-region networking, each naming its region."""

    def __init__(self, rest: RegionRest):
        self.rest = rest
        # Rules are read and written as resource sync does; one implementation.
        self._groups = SecurityGroups(rest)

    def _call(self, region: str, method: str, path: str, what: str, **kwargs) -> Any:
        return self.rest.call(region, "network", method, path, what, **kwargs)

    def _get(self, region: str, kind: str, object_id: str) -> dict | None:
        answer = self._call(region, "GET", f"/{kind}s/{_q(object_id)}",
                            f"read {kind} {object_id}", missing_ok=True)
        return None if answer is MISSING else answer[kind.replace("-", "_")]

    def _delete(self, region: str, kind: str, object_id: str) -> None:
        self._call(region, "DELETE", f"/{kind}s/{_q(object_id)}", f"delete {kind} {object_id}",
                   missing_ok=True)

    # -- networks and subnets -----------------------------------------------------

    def get_network(self, region: str, network_id: str) -> dict | None:
        return self._get(region, "network", network_id)

    def find_networks(self, region: str, project_id: str, name: str) -> list[dict]:
        return self._call(region, "GET", "/networks", f"find network {name}",
                          params={"project_id": project_id, "name": name})["networks"]

    def create_network(self, region: str, project_id: str, name: str, segmentation_id: int,
                       description: str) -> dict:
        """A VXLAN network of the project on the given segment.

        :raises RegionError: with ``refusal(...).type == "TunnelIdInUse"`` when the
            region already uses the segment.
        """
        body = {"network": {"name": name, "project_id": project_id,
                            "description": description, "admin_state_up": True,
                            "provider:network_type": "vxlan",
                            "provider:segmentation_id": segmentation_id}}
        return self._call(region, "POST", "/networks", f"create network {name}",
                          body=body)["network"]

    def delete_network(self, region: str, network_id: str) -> None:
        self._delete(region, "network", network_id)

    def get_subnet(self, region: str, subnet_id: str) -> dict | None:
        return self._get(region, "subnet", subnet_id)

    def find_subnets(self, region: str, network_id: str) -> list[dict]:
        return self._call(region, "GET", "/subnets", f"list subnets of network {network_id}",
                          params={"network_id": network_id})["subnets"]

    def create_subnet(self, region: str, project_id: str, network_id: str, name: str,
                      cidr: str, ip_version: int, gateway_ip: str | None,
                      allocation_pools: list[dict]) -> dict:
        body = {"subnet": {"name": name, "project_id": project_id, "network_id": network_id,
                           "cidr": cidr, "ip_version": ip_version, "gateway_ip": gateway_ip,
                           "allocation_pools": allocation_pools, "enable_dhcp": True}}
        return self._call(region, "POST", "/subnets", f"create subnet {name}",
                          body=body)["subnet"]

    def update_subnet(self, region: str, subnet_id: str, body: Mapping[str, Any]) -> dict:
        return self._call(region, "PUT", f"/subnets/{_q(subnet_id)}",
                          f"update subnet {subnet_id}", body={"subnet": dict(body)})["subnet"]

    def delete_subnet(self, region: str, subnet_id: str) -> None:
        self._delete(region, "subnet", subnet_id)

    # -- ports --------------------------------------------------------------------

    def list_ports(self, region: str, **filters: Any) -> list[dict]:
        """Ports matching the filters (``network_id``, ``device_id``, ``security_groups``...)."""
        what = "list ports" + "".join(f" {k}={v}" for k, v in sorted(filters.items()))
        return self._call(region, "GET", "/ports", what, params=filters)["ports"]

    def get_port(self, region: str, port_id: str) -> dict | None:
        return self._get(region, "port", port_id)

    def create_port(self, region: str, network_id: str, body: Mapping[str, Any]) -> dict:
        return self._call(region, "POST", "/ports", f"create port {body.get('name', '')}",
                          body={"port": {**body, "network_id": network_id}})["port"]

    def update_port(self, region: str, port_id: str, body: Mapping[str, Any]) -> dict:
        return self._call(region, "PUT", f"/ports/{_q(port_id)}", f"update port {port_id}",
                          body={"port": dict(body)})["port"]

    def delete_port(self, region: str, port_id: str) -> None:
        self._delete(region, "port", port_id)

    # -- security groups ----------------------------------------------------------

    def get_security_group(self, region: str, group_id: str) -> dict | None:
        return self._get(region, "security-group", group_id)

    def group_rules(self, region: str, group_id: str) -> list[dict]:
        return self._groups.rules(region, group_id)

    def create_rule(self, region: str, project_id: str, group_id: str,
                    rule: Mapping[str, Any]) -> dict:
        return self._groups.create_rule(region, project_id, group_id, dict(rule))

    def delete_rule(self, region: str, rule_id: str) -> None:
        self._delete(region, "security-group-rule", rule_id)

    # -- routers ------------------------------------------------------------------

    def get_router(self, region: str, router_id: str) -> dict | None:
        return self._get(region, "router", router_id)

    def find_routers(self, region: str, project_id: str, name: str) -> list[dict]:
        return self._call(region, "GET", "/routers", f"find router {name}",
                          params={"project_id": project_id, "name": name})["routers"]

    def create_router(self, region: str, project_id: str, name: str,
                      description: str) -> dict:
        body = {"router": {"name": name, "project_id": project_id,
                           "description": description}}
        return self._call(region, "POST", "/routers", f"create router {name}",
                          body=body)["router"]

    def add_interface(self, region: str, router_id: str, *, subnet_id: str | None = None,
                      port_id: str | None = None) -> dict:
        body = {"subnet_id": subnet_id} if subnet_id else {"port_id": port_id}
        return self._call(region, "PUT", f"/routers/{_q(router_id)}/add_router_interface",
                          f"add interface to router {router_id}", body=body)

    def remove_interface(self, region: str, router_id: str, *,
                         subnet_id: str | None = None, port_id: str | None = None) -> None:
        body = {"subnet_id": subnet_id} if subnet_id else {"port_id": port_id}
        answer = self._call(region, "PUT",
                            f"/routers/{_q(router_id)}/remove_router_interface",
                            f"remove interface from router {router_id}", body=body,
                            missing_ok=True)
        del answer  # MISSING (already gone) is as good as removed

    def set_routes(self, region: str, router_id: str, routes: list[dict]) -> dict:
        return self._call(region, "PUT", f"/routers/{_q(router_id)}",
                          f"set routes of router {router_id}",
                          body={"router": {"routes": routes}})["router"]

    def delete_router(self, region: str, router_id: str) -> None:
        self._delete(region, "router", router_id)
