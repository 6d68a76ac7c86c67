"""Subnets: cidr, gateway and allocation pools, checked the way Neutron's IPAM does."""

from __future__ import annotations

import ipaddress

from regionsim import web
from regionsim.services.neutron import common, ipam, networks
from regionsim.services.neutron.common import route
from regionsim.services.neutron.errors import (
    BadRequest,
    Conflict,
    InvalidInput,
    PolicyNotAuthorized,
    not_found,
)
from regionsim.services.neutron.store import base_row, touch

CREATE = frozenset({"name", "network_id", "ip_version", "cidr", "gateway_ip",
                    "allocation_pools", "enable_dhcp", "dns_nameservers", "host_routes",
                    "description", "ipv6_ra_mode", "ipv6_address_mode", "subnetpool_id",
                    "prefixlen", "segment_id", "service_types", "use_default_subnetpool",
                    "dns_publish_fixed_ip", "project_id", "tenant_id", "tags"})
UPDATE = frozenset({"name", "description", "gateway_ip", "allocation_pools", "enable_dhcp",
                    "dns_nameservers", "host_routes", "service_types", "segment_id",
                    "dns_publish_fixed_ip"})
READ_ONLY = frozenset({"cidr", "ip_version", "network_id", "project_id", "tenant_id",
                       "subnetpool_id", "ipv6_ra_mode", "ipv6_address_mode"})
_V6_MODES = (None, "slaac", "dhcpv6-stateful", "dhcpv6-stateless")
# Ports whose addresses do not keep a subnet from being deleted.
_AUTO_DELETED = networks.AUTO_DELETED_OWNERS


def can_see(st, subnet: dict, caller) -> bool:
    if caller.is_admin or subnet["project_id"] == caller.project_id:
        return True
    return networks.can_see(st.networks.rows[subnet["network_id"]], caller)


def visible(st, subnet_id: str, caller) -> dict:
    subnet = st.subnets.get(subnet_id)
    if subnet is None or not can_see(st, subnet, caller):
        raise not_found("subnet", subnet_id)
    return subnet


def owned(st, subnet_id: str, caller, action: str) -> dict:
    subnet = visible(st, subnet_id, caller)
    if not caller.is_admin and subnet["project_id"] != caller.project_id:
        raise PolicyNotAuthorized(f"rule:{action}")
    return subnet


def render(subnet: dict, caller) -> dict:
    return common.view(subnet, caller)


def _gateway(value, net) -> int | None:
    if value is None:
        return None
    gateway = ipam.parse_ip(value)
    if ipaddress.ip_address(str(value)).version != net.version:
        raise InvalidInput("Gateway IP version inconsistent with allocation pool version")
    if net.version == 4 and gateway in (int(net.network_address), int(net.broadcast_address)):
        raise InvalidInput("Gateway is not valid on subnet")
    return gateway


def _nameservers(value) -> list[str]:
    servers = common.to_list(value, "dns_nameservers")
    for server in servers:
        ipam.parse_ip(server)
    if len(set(servers)) != len(servers):
        raise BadRequest(f"Invalid input for dns_nameservers. Reason: Duplicate nameserver "
                         f"in {servers}.")
    return [str(s) for s in servers]


def _routes(value) -> list[dict]:
    routes = common.to_list(value, "host_routes")
    for route_ in routes:
        if not isinstance(route_, dict) or set(route_) != {"destination", "nexthop"}:
            raise BadRequest(f"Invalid input for host_routes. Reason: Invalid data format for "
                             f"hostroute: '{route_}'.")
        try:
            ipaddress.ip_network(str(route_["destination"]))
        except ValueError:
            raise BadRequest("Invalid input for host_routes. Reason: "
                             f"'{route_['destination']}' is not a valid IP subnet.") from None
        ipam.parse_ip(route_["nexthop"])
    return [dict(r) for r in routes]


def create_subnet(st, caller, body: dict) -> dict:
    common.check_attrs(body, CREATE, frozenset(), caller, "create_subnet")
    for attr in ("network_id", "ip_version"):
        if attr not in body:
            raise BadRequest(f"Failed to parse request. Required attribute '{attr}' not "
                             "specified")
    net = networks.visible(st, body["network_id"], caller)
    if not caller.is_admin and net["project_id"] != caller.project_id:
        raise PolicyNotAuthorized("rule:create_subnet")
    project = common.owner_for_create(body, caller)
    if body.get("cidr") is None:
        raise BadRequest("Bad subnet request: a subnetpool must be specified in the absence "
                         "of a cidr.")
    if body["ip_version"] not in (4, 6):
        raise BadRequest(f"Invalid input for ip_version. Reason: {body['ip_version']} is not "
                         "in [4, 6].")
    cidr = ipam.parse_cidr(body["cidr"], body["ip_version"])
    for other_id in net["subnets"]:
        if st.subnets.rows[other_id]["_net"].overlaps(cidr):
            raise InvalidInput(f"Requested subnet with cidr: {cidr} for network: {net['id']} "
                               "overlaps with another subnet")
    for mode in ("ipv6_ra_mode", "ipv6_address_mode"):
        if body.get(mode) not in _V6_MODES or (body.get(mode) and body["ip_version"] == 4):
            raise InvalidInput(f"{mode} is not valid for this subnet")
    st.check_quota(project, {"subnet": 1})
    gateway = (_gateway(body["gateway_ip"], cidr) if "gateway_ip" in body
               else ipam.default_gateway(cidr))
    pools = (ipam.parse_pools(body["allocation_pools"], cidr, gateway)
             if body.get("allocation_pools") else ipam.default_pools(cidr, gateway))
    subnet = base_row(st.region.new_id(), project)
    subnet.update({
        "name": common.to_str(body.get("name", ""), "name"), "network_id": net["id"],
        "ip_version": body["ip_version"], "cidr": str(cidr),
        "gateway_ip": ipam.to_text(gateway, cidr) if gateway is not None else None,
        "allocation_pools": ipam.pools_view(pools, cidr),
        "enable_dhcp": common.to_bool(body.get("enable_dhcp", True), "enable_dhcp"),
        "dns_nameservers": _nameservers(body.get("dns_nameservers", [])),
        "host_routes": _routes(body.get("host_routes", [])),
        "ipv6_ra_mode": body.get("ipv6_ra_mode"),
        "ipv6_address_mode": body.get("ipv6_address_mode"),
        "subnetpool_id": None, "segment_id": body.get("segment_id"),
        "service_types": common.to_list(body.get("service_types", []), "service_types"),
        "dns_publish_fixed_ip": bool(body.get("dns_publish_fixed_ip", False)),
        "description": common.to_str(body.get("description", ""), "description"),
        "tags": [str(t) for t in common.to_list(body.get("tags", []), "tags")],
        "_net": cidr, "_gw": gateway, "_pools": pools, "_used": {},
    })
    st.subnets.add(subnet)
    net["subnets"].append(subnet["id"])
    touch(net)
    return subnet


def update_subnet(st, caller, subnet: dict, body: dict) -> dict:
    for attr in sorted(READ_ONLY & set(body)):
        raise BadRequest(f"Cannot update read-only attribute {attr}")
    common.check_attrs(body, UPDATE, frozenset(), caller, "update_subnet")
    cidr = subnet["_net"]
    gateway = subnet["_gw"]
    if "gateway_ip" in body:
        gateway = _gateway(body["gateway_ip"], cidr)
        if gateway != subnet["_gw"]:
            holder = subnet["_used"].get(subnet["_gw"]) if subnet["_gw"] is not None else None
            if holder is not None:
                raise Conflict(f"Gateway ip {subnet['gateway_ip']} conflicts with a port "
                               f"{holder}: it is in use. Unable to update.", "GatewayIpInUse")
            if gateway is not None and gateway in subnet["_used"]:
                raise Conflict(f"Current gateway ip {body['gateway_ip']} already in use by port "
                               f"{subnet['_used'][gateway]}. Unable to update.", "GatewayIpInUse")
    pools = subnet["_pools"]
    if "allocation_pools" in body:
        pools = ipam.parse_pools(body["allocation_pools"], cidr, gateway)
    elif gateway is not None:
        for start, end in pools:
            if start <= gateway <= end:
                raise Conflict(f"Gateway ip {ipam.to_text(gateway, cidr)} conflicts with "
                               f"allocation pool {ipam.to_text(start, cidr)}-"
                               f"{ipam.to_text(end, cidr)}.", "GatewayConflictWithAllocationPools")
    subnet["_gw"], subnet["_pools"] = gateway, pools
    subnet["gateway_ip"] = ipam.to_text(gateway, cidr) if gateway is not None else None
    subnet["allocation_pools"] = ipam.pools_view(pools, cidr)
    for attr in ("name", "description"):
        if attr in body:
            subnet[attr] = common.to_str(body[attr], attr)
    if "enable_dhcp" in body:
        subnet["enable_dhcp"] = common.to_bool(body["enable_dhcp"], "enable_dhcp")
    if "dns_nameservers" in body:
        subnet["dns_nameservers"] = _nameservers(body["dns_nameservers"])
    if "host_routes" in body:
        subnet["host_routes"] = _routes(body["host_routes"])
    for attr in ("service_types", "segment_id", "dns_publish_fixed_ip"):
        if attr in body:
            subnet[attr] = body[attr]
    touch(subnet)
    return subnet


def delete_subnet(st, subnet: dict) -> None:
    from regionsim.services.neutron import ports as port_ops  # ports use this module

    port_ids = list(dict.fromkeys(subnet["_used"].values()))
    blocking = [p for p in port_ids if st.ports.rows[p]["device_owner"] not in _AUTO_DELETED]
    if blocking:
        raise Conflict(f"Unable to complete operation on subnet {subnet['id']}: One or more "
                       "ports have an IP allocation from this subnet.", "SubnetInUse")
    for port_id in port_ids:
        port_ops.delete_port(st, st.ports.rows[port_id])
    net = st.networks.rows[subnet["network_id"]]
    net["subnets"].remove(subnet["id"])
    st.subnets.remove(subnet["id"])


@route("/v2.0/subnets", ["GET"])
def list_subnets():
    st, caller = common.state(), web.caller()
    if caller.is_admin:
        rows = st.subnets.rows.values()
    else:
        rows = {s["id"]: s for s in st.subnets.owned_by(caller.project_id)}
        for net in st.networks.rows.values():
            if net["shared"] or net["router:external"]:
                rows.update((i, st.subnets.rows[i]) for i in net["subnets"])
        rows = rows.values()
    return common.listing("subnets", common.filtered(rows), lambda s: render(s, caller))


@route("/v2.0/subnets", ["POST"])
def create_subnet_route():
    st, caller = common.state(), web.caller()
    body = common.resource_body("subnet")
    return common.shown("subnet", render(create_subnet(st, caller, body), caller), 201)


@route("/v2.0/subnets/<subnet_id>", ["GET"])
def show_subnet(subnet_id):
    st, caller = common.state(), web.caller()
    return common.shown("subnet", render(visible(st, subnet_id, caller), caller))


@route("/v2.0/subnets/<subnet_id>", ["PUT"])
def update_subnet_route(subnet_id):
    st, caller = common.state(), web.caller()
    subnet = owned(st, subnet_id, caller, "update_subnet")
    body = common.resource_body("subnet")
    return common.shown("subnet", render(update_subnet(st, caller, subnet, body), caller))


@route("/v2.0/subnets/<subnet_id>", ["DELETE"])
def delete_subnet_route(subnet_id):
    st, caller = common.state(), web.caller()
    delete_subnet(st, owned(st, subnet_id, caller, "delete_subnet"))
    return web.json_response(None, 204)
