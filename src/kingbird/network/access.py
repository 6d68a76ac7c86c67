"""What the cross-region networking handlers share: the caller's project, the
``[networking]`` settings, the regions offering Neutron, and the live checks
they make in a region before anything is stored.

Live reads use the service's (admin) credentials, so every check of ownership is
made here, explicitly: a member never learns that another project's port,
group or subnet exists (it is "not found").
"""

from __future__ import annotations

from flask import current_app

from kingbird.api.app_services import region_clients, services
from kingbird.api.routing import check_tenant
from kingbird.core import exceptions
from kingbird.network.settings import NetworkingSettings
from kingbird.network.shadows import NOT_SHADOWED
from kingbird.regions.networking import RegionNetworking

_KEY = "kingbird.networking"


def project_of(tenant: str | None):
    """``(context, project)``: the project in the URL (v1.0) or the token's (v1.1)."""
    ctx = check_tenant(tenant)
    return ctx, tenant or ctx.project_id


def _cached() -> dict:
    return current_app.extensions.setdefault(_KEY, {})


def settings() -> NetworkingSettings:
    """The ``[networking]`` options, checked once per application.

    :raises ServiceUnavailable: they are invalid (the message says which).
    """
    cache = _cached()
    if "settings" not in cache:
        try:
            cache["settings"] = NetworkingSettings.from_conf(services().conf.networking)
        except ValueError as exc:
            raise exceptions.ServiceUnavailable(
                f"cross-region networking is misconfigured: {exc}") from None
    return cache["settings"]


def neutron() -> RegionNetworking:
    """The regions' Neutron with the service's credentials.

    :raises ServiceUnavailable: no regions are configured.
    """
    return region_clients().service.network


def known_regions() -> list[str]:
    """The regions whose catalog offers a network service."""
    return region_clients().directory.regions("network")


def _owner(resource: dict) -> str | None:
    return resource.get("project_id") or resource.get("tenant_id")


def port_on_network(network: dict, region: str, port_id: str) -> dict:
    """The port ``port_id`` of ``region``, checked to be a port of the global network
    (not one of Kingbird's own).

    :raises Conflict: the network has no part in the region yet.
    :raises NotFound: no such port on the network.
    :raises BadRequest: it is a shadow, VIP reservation or DHCP port.
    :raises RegionError: the region cannot be read.
    """
    part = next((r for r in network["regions"] if r["region"] == region), None)
    if part is None or not part["neutron_network_id"]:
        raise exceptions.Conflict(f"global network {network['id']} has no network in {region} "
                                  "yet: retry when it is ACTIVE")
    port = neutron().get_port(region, port_id)
    if port is None or port["network_id"] != part["neutron_network_id"]:
        raise exceptions.NotFound(f"port {port_id} not found on global network "
                                  f"{network['id']} in {region}")
    if port.get("device_owner") in NOT_SHADOWED:
        raise exceptions.BadRequest(f"port {port_id} is a {port['device_owner']} port, which "
                                    "Kingbird manages itself")
    return port


def owned(resource: dict | None, kind: str, resource_id: str, region: str,
          project: str) -> dict:
    """``resource`` if ``project`` owns it (an administrator acting for a project
    names it in the URL: resources of one object never mix projects).

    :raises NotFound: it does not exist, or belongs to another project.
    """
    if resource is None or _owner(resource) != project:
        raise exceptions.NotFound(f"{kind} {resource_id} not found in {region}")
    return resource
