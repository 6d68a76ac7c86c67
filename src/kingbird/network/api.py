"""Global networks: ``os-global-networks``, their ports and virtual IPs.

A POST is checked completely (body, regions, tunnel endpoints, the address
layout) and stored with a VXLAN id; the engines build the regional parts, shadow
the ports and hold the VIPs, so changes answer 202 with the object in its
current state. Deleting asks every region, live, whether ports remain on the
network: a network in use is refused (409).

Networks belong to a project: the one in the URL (v1.0; an administrator may
name another) or the token's (v1.1). Nobody sees another project's networks.
"""

from __future__ import annotations

from flask import Blueprint
from sqlalchemy.exc import IntegrityError

from kingbird.api import pagination, validation
from kingbird.api.app_services import services
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions
from kingbird.core import exceptions
from kingbird.network import access, addressing, limits
from kingbird.network import policy_repository as net_policies_db
from kingbird.network import repository as networks_db
from kingbird.network import validation as checks
from kingbird.network.schemas import describe_networks
from kingbird.network.shadows import NOT_SHADOWED

bp = Blueprint("global_networks", __name__)

POLICY = "kingbird:global_network"
_CREATE_ATTEMPTS = 5


def _view(network: dict, is_admin: bool) -> dict:
    tunnels = access.settings().tunnels
    regions = {}
    for part in network["regions"]:
        entry = {"network_id": part["neutron_network_id"], "subnet_id": part["neutron_subnet_id"],
                 "gateway_ip": part["gateway_ip"], "allocation_pools": part["allocation_pools"],
                 "status": part["status"], "error": part["error"]}
        if is_admin:
            entry["tunnel_endpoint"] = tunnels.get(part["region"])
        regions[part["region"]] = entry
    view = {"id": network["id"], "name": network["name"], "project_id": network["project_id"],
            "cidr": network["cidr"], "ip_version": network["ip_version"],
            "reserved_addresses": network["reserved_addresses"],
            "gateway_regions": network["gateway_regions"], "regions": regions,
            "status": network["status"], "error": network["error"],
            "created_at": network["created_at"], "updated_at": network["updated_at"]}
    if is_admin:  # provider attributes, as Neutron shows them: to administrators only
        view["network_type"] = "vxlan"
        view["segmentation_id"] = network["segmentation_id"]
    return view


def _load(session, network_id: str, project: str) -> dict:
    network = networks_db.get_global_network(session, network_id, project)
    if network is None:
        raise exceptions.NotFound(f"global network {network_id} not found")
    return network


def create(tenant: str | None = None):
    ctx, project = access.project_of(tenant)
    authorise(f"{POLICY}:create", {"project_id": project})
    settings = access.settings()
    request = checks.global_network(validation.json_body(), access.known_regions(), settings)
    try:
        layout = addressing.plan_addressing(request.cidr, request.regions,
                                            request.gateway_regions, request.reserved)
    except addressing.AddressingError as exc:
        raise exceptions.BadRequest(f"'global_network.cidr': {exc}") from None
    for attempt in range(_CREATE_ATTEMPTS):
        try:
            with services().db() as session:
                limits.check(session, settings.limits, "global_networks", project)
                network = networks_db.create_global_network(
                    session, project_id=project, name=request.name, cidr=str(request.cidr),
                    ip_version=request.cidr.version, gateway_regions=request.gateway_regions,
                    reserved=request.reserved,
                    parts={r: layout[r].as_dict() for r in request.regions},
                    ranges=settings.vni_ranges)
            break
        except IntegrityError:  # another API process took the same VXLAN id: take the next
            if attempt == _CREATE_ATTEMPTS - 1:
                raise exceptions.Conflict("VXLAN ids are being allocated concurrently, "
                                          "retry") from None
    services().wake_engine()
    return json_response({"global_network": _view(network, ctx.is_admin)}, 202)


def list_networks(tenant: str | None = None):
    ctx, project = access.project_of(tenant)
    authorise(f"{POLICY}:list", {"project_id": project})
    with services().db() as session:
        networks = networks_db.list_global_networks(session, project)
    return json_response(pagination.listing("global_networks", networks,
                                            lambda n: _view(n, ctx.is_admin)))


def show(network_id: str, tenant: str | None = None):
    ctx, project = access.project_of(tenant)
    authorise(f"{POLICY}:show", {"project_id": project})
    with services().db() as session:
        network = _load(session, network_id, project)
    return json_response({"global_network": _view(network, ctx.is_admin)})


def _ports_in_use(network: dict) -> list[str]:
    """Ports other than Kingbird's on the network, in every region, read live."""
    found = []
    for part in network["regions"]:
        if not part["neutron_network_id"]:
            continue
        for port in access.neutron().list_ports(part["region"],
                                                network_id=part["neutron_network_id"]):
            if port.get("device_owner") not in NOT_SHADOWED:
                owner = port.get("device_owner") or "no owner"
                found.append(f"{port['id']} in {part['region']} ({owner})")
    return found


def delete(network_id: str, tenant: str | None = None):
    ctx, project = access.project_of(tenant)
    authorise(f"{POLICY}:delete", {"project_id": project})
    with services().db() as session:
        network = _load(session, network_id, project)
        routers = net_policies_db.routers_through(session, network_id)
    if routers:
        raise exceptions.Conflict(f"global network {network_id} is the transit network of "
                                  f"global router(s) {', '.join(routers)}: delete them first")
    if network["status"] != "DELETING":
        in_use = _ports_in_use(network)
        if in_use:
            raise exceptions.Conflict(
                f"global network {network_id} still has {len(in_use)} port(s): "
                f"{', '.join(in_use[:10])}{' ...' if len(in_use) > 10 else ''}; delete them "
                "first")
        with services().db() as session:
            networks_db.mark_network_deleting(session, network_id)
            network = _load(session, network_id, project)
    services().wake_engine()
    return json_response({"global_network": _view(network, ctx.is_admin)}, 202)


# -- ports ------------------------------------------------------------------------

def _port_view(port: dict) -> dict:
    return {key: port[key] for key in (
        "region", "port_id", "mac_address", "fixed_ips", "allowed_address_pairs",
        "device_owner", "source", "shadows", "status", "error", "created_at", "updated_at")}


def list_ports(network_id: str, tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{POLICY}:list_ports", {"project_id": project})
    with services().db() as session:
        _load(session, network_id, project)
        ports = networks_db.network_ports(session, network_id)
    return json_response({"ports": [_port_view(p) for p in ports]})


def attach_port(network_id: str, tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{POLICY}:attach_port", {"project_id": project})
    body = validation.json_body()
    with services().db() as session:
        network = _load(session, network_id, project)
    ref = checks.attach(body, [r["region"] for r in network["regions"]])
    if network["status"] == "DELETING":
        raise exceptions.Conflict(f"global network {network_id} is being deleted")
    port = access.port_on_network(network, ref["region"], ref["port_id"])
    with services().db() as session:
        row = networks_db.attach_port(session, network_id, ref["region"], ref["port_id"], {
            "mac_address": port.get("mac_address"),
            "fixed_ips": [f["ip_address"] for f in port.get("fixed_ips") or ()],
            "device_owner": port.get("device_owner")})
        networks_db.request_network_reconcile(session, network_id)
    services().wake_engine()
    return json_response({"port": _port_view(row)}, 202)


# -- virtual IPs ------------------------------------------------------------------

def _vip_view(vip: dict) -> dict:
    return {key: vip[key] for key in ("id", "network_id", "ip_address", "ports",
                                      "reservations", "status", "error", "created_at",
                                      "updated_at")}


def _vip_address(network: dict, wanted: str | None, taken: set[str]) -> str:
    net = addressing.parse_cidr(network["cidr"])
    if wanted is None:
        address = addressing.pick_vip(net, network["reserved_addresses"], taken)
        if address is None:
            raise exceptions.Conflict(
                f"the {network['reserved_addresses']} reserved addresses of global network "
                f"{network['id']} are all virtual IPs already")
        return address
    layout = {r["region"]: addressing.RegionAddressing(
        r["gateway_ip"], tuple((p["start"], p["end"]) for p in r["allocation_pools"]))
        for r in network["regions"]}
    try:
        address = addressing.check_address(net, layout, wanted)
    except addressing.AddressingError as exc:
        raise exceptions.BadRequest(f"'vip.ip_address': {exc}") from None
    holder = addressing.pool_holder(layout, address)
    if holder is not None:
        block = addressing.reserved_range(net, network["reserved_addresses"])
        hint = ("the network reserves no address for virtual IPs" if block is None
                else f"choose one of the reserved addresses {block[0]}-{block[1]}")
        raise exceptions.BadRequest(f"'vip.ip_address': {address} lies in the allocation pool "
                                    f"of {holder}, which may hand it out: {hint}")
    if address in taken:
        raise exceptions.Conflict(f"{address} is already a virtual IP of global network "
                                  f"{network['id']}")
    return address


def _check_vip_ports(network: dict, ports: list[dict]) -> None:
    for ref in ports:
        access.port_on_network(network, ref["region"], ref["port_id"])


def create_vip(network_id: str, tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{POLICY}:create_vip", {"project_id": project})
    body = validation.json_body()
    with services().db() as session:
        network = _load(session, network_id, project)
        limits.check(session, access.settings().limits, "vips", project)
        taken = {v["ip_address"] for v in networks_db.network_vips(session, network_id)}
    wanted, ports = checks.vip(body, [r["region"] for r in network["regions"]], creating=True)
    if network["status"] == "DELETING":
        raise exceptions.Conflict(f"global network {network_id} is being deleted")
    address = _vip_address(network, wanted, taken)
    _check_vip_ports(network, ports)
    try:
        with services().db() as session:
            limits.check(session, access.settings().limits, "vips", project)
            vip = networks_db.create_vip(session, network_id, address, ports)
    except IntegrityError:
        raise exceptions.Conflict(f"{address} is already a virtual IP of global network "
                                  f"{network_id}") from None
    services().wake_engine()
    return json_response({"vip": _vip_view(vip)}, 202)


def list_vips(network_id: str, tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{POLICY}:list_vips", {"project_id": project})
    with services().db() as session:
        _load(session, network_id, project)
        vips = networks_db.network_vips(session, network_id)
    return json_response(pagination.listing("vips", vips, _vip_view))


def _load_vip(session, network_id: str, vip_id: str, project: str) -> tuple[dict, dict]:
    network = _load(session, network_id, project)
    vip = networks_db.get_vip(session, network_id, vip_id)
    if vip is None:
        raise exceptions.NotFound(f"virtual IP {vip_id} not found on global network "
                                  f"{network_id}")
    return network, vip


def show_vip(network_id: str, vip_id: str, tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{POLICY}:show_vip", {"project_id": project})
    with services().db() as session:
        _, vip = _load_vip(session, network_id, vip_id, project)
    return json_response({"vip": _vip_view(vip)})


def update_vip(network_id: str, vip_id: str, tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{POLICY}:update_vip", {"project_id": project})
    body = validation.json_body()
    with services().db() as session:
        network, vip = _load_vip(session, network_id, vip_id, project)
    _, ports = checks.vip(body, [r["region"] for r in network["regions"]], creating=False)
    if vip["status"] == "DELETING":
        raise exceptions.Conflict(f"virtual IP {vip_id} is being deleted")
    _check_vip_ports(network, ports)
    with services().db() as session:
        networks_db.update_vip(session, vip_id, ports=ports, status="BUILD", error=None)
        networks_db.request_network_reconcile(session, network_id)
        _, vip = _load_vip(session, network_id, vip_id, project)
    services().wake_engine()
    return json_response({"vip": _vip_view(vip)}, 202)


def delete_vip(network_id: str, vip_id: str, tenant: str | None = None):
    _, project = access.project_of(tenant)
    authorise(f"{POLICY}:delete_vip", {"project_id": project})
    with services().db() as session:
        _load_vip(session, network_id, vip_id, project)
        networks_db.update_vip(session, vip_id, status="DELETING", error=None)
        networks_db.request_network_reconcile(session, network_id)
        _, vip = _load_vip(session, network_id, vip_id, project)
    services().wake_engine()
    return json_response({"vip": _vip_view(vip)}, 202)


_NETS = "/os-global-networks"
both_versions(bp, _NETS, create, ["POST"])
both_versions(bp, _NETS, list_networks, ["GET"])
both_versions(bp, f"{_NETS}/<uuid:network_id>", show, ["GET"])
both_versions(bp, f"{_NETS}/<uuid:network_id>", delete, ["DELETE"])
both_versions(bp, f"{_NETS}/<uuid:network_id>/ports", list_ports, ["GET"])
both_versions(bp, f"{_NETS}/<uuid:network_id>/ports", attach_port, ["POST"])
both_versions(bp, f"{_NETS}/<uuid:network_id>/vips", create_vip, ["POST"])
both_versions(bp, f"{_NETS}/<uuid:network_id>/vips", list_vips, ["GET"])
both_versions(bp, f"{_NETS}/<uuid:network_id>/vips/<uuid:vip_id>", show_vip, ["GET"])
both_versions(bp, f"{_NETS}/<uuid:network_id>/vips/<uuid:vip_id>", update_vip, ["PUT"])
both_versions(bp, f"{_NETS}/<uuid:network_id>/vips/<uuid:vip_id>", delete_vip, ["DELETE"])
describe_networks(_NETS)
