"""Routers: external gateways, interfaces on subnets or ports, and extra routes."""

from __future__ import annotations

import ipaddress

from regionsim import web
from regionsim.services.neutron import common, networks, ports, subnets
from regionsim.services.neutron.common import route
from regionsim.services.neutron.errors import (
    BadRequest,
    Conflict,
    NotFound,
    PolicyNotAuthorized,
)
from regionsim.services.neutron.store import base_row, touch

ADMIN_VISIBLE = frozenset({"distributed", "ha"})
CREATE = frozenset({"name", "admin_state_up", "description", "external_gateway_info",
                    "distributed", "ha", "availability_zone_hints", "flavor_id", "project_id",
                    "tenant_id", "tags", "enable_ndp_proxy"})
CREATE_ADMIN = frozenset({"distributed", "ha"})
UPDATE = frozenset({"name", "admin_state_up", "description", "external_gateway_info",
                    "distributed", "ha", "routes", "enable_ndp_proxy"})
MAX_ROUTES = 30


def _bad(message: str) -> BadRequest:
    return BadRequest(f"Bad router request: {message}.", "BadRequest")


def visible(st, router_id: str, caller) -> dict:
    return common.visible_row(st.routers, router_id, caller, "router")


def render(st, router: dict, caller) -> dict:
    body = common.view(router, caller, ADMIN_VISIBLE)
    gw = st.ports.get(router["_gw_port"]) if router["_gw_port"] else None
    body["external_gateway_info"] = None if gw is None else {
        "network_id": gw["network_id"], "enable_snat": router["_snat"],
        "external_fixed_ips": [dict(f) for f in gw["fixed_ips"]]}
    return body


def _set_gateway(st, router: dict, info, caller, action: str) -> None:
    if info is not None and not isinstance(info, dict):
        raise BadRequest(f"Invalid input for external_gateway_info. Reason: '{info}' is not a "
                         "dictionary.")
    info = info or {}
    unknown = set(info) - {"network_id", "enable_snat", "external_fixed_ips", "qos_policy_id"}
    if unknown:
        raise BadRequest(f"Unrecognized attribute(s) '{', '.join(sorted(unknown))}'")
    if not caller.is_admin:
        for attr in ("enable_snat", "external_fixed_ips"):
            if attr in info:
                raise PolicyNotAuthorized(f"rule:{action}:external_gateway_info:{attr}")
    current = st.ports.get(router["_gw_port"]) if router["_gw_port"] else None
    net_id = info.get("network_id")
    if current is not None and net_id != current["network_id"]:
        if any(f["router_id"] == router["id"] for f in st.floatingips.rows.values()):
            raise Conflict(f"Gateway cannot be updated for router {router['id']}, since a gateway "
                           f"to external network {current['network_id']} is required by one or "
                           "more floating IPs.", "RouterExternalGatewayInUseByFloatingIp")
        ports.delete_port(st, current)
        router["_gw_port"] = None
        current = None
    if net_id is None:
        router["_snat"] = True
        return
    net = networks.visible(st, net_id, caller)
    if not net["router:external"]:
        raise _bad(f"Network {net_id} is not an external network")
    router["_snat"] = common.to_bool(info.get("enable_snat", True), "enable_snat")
    if current is None:
        body = {"device_id": router["id"], "device_owner": "network:router_gateway"}
        if info.get("external_fixed_ips"):
            body["fixed_ips"] = info["external_fixed_ips"]
        gw = ports.new_port(st, "", net, body, caller)
        router["_gw_port"] = gw["id"]


def _interface_subnets(st, router: dict) -> list[dict]:
    return [st.subnets.rows[f["subnet_id"]] for p in router["_interfaces"]
            for f in st.ports.rows[p]["fixed_ips"]]


def _routes(st, router: dict, value) -> list[dict]:
    routes = common.to_list(value, "routes")
    if len(routes) > MAX_ROUTES:
        raise BadRequest(f"Number of routes exceeds the maximum {MAX_ROUTES}",
                         "RoutesExhausted")
    cidrs = [s["_net"] for s in _interface_subnets(st, router)]
    for item in routes:
        if not isinstance(item, dict) or set(item) != {"destination", "nexthop"}:
            raise BadRequest(f"Invalid format for routes: {routes}, the route must have "
                             "destination and nexthop", "InvalidRoutes")
        try:
            ipaddress.ip_network(str(item["destination"]))
            nexthop = ipaddress.ip_address(str(item["nexthop"]))
        except ValueError:
            raise BadRequest(f"Invalid format for routes: {routes}, the route is not a valid "
                             "destination and nexthop", "InvalidRoutes") from None
        if not any(nexthop in cidr for cidr in cidrs):
            raise BadRequest(f"Invalid format for routes: {[item]}, the nexthop is not connected "
                             "with router", "InvalidRoutes")
    return [{"destination": str(r["destination"]), "nexthop": str(r["nexthop"])} for r in routes]


def create_router(st, caller, body: dict) -> dict:
    common.check_attrs(body, CREATE, CREATE_ADMIN, caller, "create_router")
    project = common.owner_for_create(body, caller)
    st.check_quota(project, {"router": 1})
    router = base_row(st.region.new_id(), project)
    router.update({
        "name": common.to_str(body.get("name", ""), "name"),
        "admin_state_up": common.to_bool(body.get("admin_state_up", True), "admin_state_up"),
        "status": "ACTIVE", "routes": [], "external_gateway_info": None,
        "distributed": common.to_bool(body.get("distributed", False), "distributed"),
        "ha": common.to_bool(body.get("ha", False), "ha"),
        "flavor_id": body.get("flavor_id"),
        "availability_zone_hints": common.to_list(body.get("availability_zone_hints", []),
                                                  "availability_zone_hints"),
        "availability_zones": ["nova"], "enable_ndp_proxy": False,
        "description": common.to_str(body.get("description", ""), "description"),
        "tags": [str(t) for t in common.to_list(body.get("tags", []), "tags")],
        "_gw_port": None, "_snat": True, "_interfaces": {},
    })
    if body.get("external_gateway_info"):
        _set_gateway(st, router, body["external_gateway_info"], caller, "create_router")
    st.routers.add(router)
    return router


def update_router(st, caller, router: dict, body: dict) -> dict:
    common.check_attrs(body, UPDATE, CREATE_ADMIN, caller, "update_router")
    if "external_gateway_info" in body:
        _set_gateway(st, router, body["external_gateway_info"], caller, "update_router")
    if "routes" in body:
        router["routes"] = _routes(st, router, body["routes"] or [])
    for attr in ("name", "description"):
        if attr in body:
            router[attr] = common.to_str(body[attr], attr)
    for attr in ("admin_state_up", "distributed", "ha", "enable_ndp_proxy"):
        if attr in body:
            router[attr] = common.to_bool(body[attr], attr)
    touch(router)
    return router


def _interface_info(router: dict, port: dict) -> dict:
    subnet_ids = [f["subnet_id"] for f in port["fixed_ips"]]
    return {"id": router["id"], "tenant_id": router["project_id"],
            "project_id": router["project_id"], "port_id": port["id"],
            "network_id": port["network_id"], "subnet_id": subnet_ids[0] if subnet_ids else None,
            "subnet_ids": subnet_ids}


def _interface_body(caller) -> tuple[str | None, str | None]:
    body = web.json_body()
    if body is None:
        raise BadRequest("Resource body required")
    subnet_id, port_id = body.get("subnet_id"), body.get("port_id")
    if subnet_id and port_id:
        raise _bad("Cannot specify both subnet-id and port-id")
    if not subnet_id and not port_id:
        raise _bad("Either subnet_id or port_id must be specified")
    return subnet_id, port_id


def add_interface(st, caller, router: dict, subnet_id, port_id) -> dict:
    attached = _interface_subnets(st, router)
    if port_id:
        port = ports.visible(st, port_id, caller)
        if not caller.is_admin and port["project_id"] != caller.project_id:
            raise PolicyNotAuthorized("rule:add_router_interface")
        if port["device_id"]:
            raise Conflict(f"Unable to complete operation on port {port_id} for network "
                           f"{port['network_id']}. Port already has an attached device "
                           f"{port['device_id']}.", "PortInUse")
        if not port["fixed_ips"]:
            raise _bad("Router port must have at least one fixed IP")
        new_subnets = [st.subnets.rows[f["subnet_id"]] for f in port["fixed_ips"]]
    else:
        subnet = subnets.visible(st, subnet_id, caller)
        if subnet["gateway_ip"] is None:
            raise _bad("Subnet for router interface must have a gateway IP")
        if any(s["id"] == subnet["id"] for s in attached):
            raise _bad(f"Router already has a port on subnet {subnet_id}")
        new_subnets = [subnet]
    for new in new_subnets:
        for old in attached:
            if old["id"] != new["id"] and old["_net"].overlaps(new["_net"]):
                raise _bad(f"Cidr {new['cidr']} of subnet {new['id']} overlaps with cidr "
                           f"{old['cidr']} of subnet {old['id']}")
    if port_id:
        st.ports_by_device.setdefault(router["id"], {})[port["id"]] = None
        port.update(device_id=router["id"], device_owner="network:router_interface",
                    status="ACTIVE", security_groups=[])
        touch(port)
    else:
        net = st.networks.rows[subnet["network_id"]]
        port = ports.new_port(st, router["project_id"], net, {
            "device_id": router["id"], "device_owner": "network:router_interface",
            "fixed_ips": [{"subnet_id": subnet["id"], "ip_address": subnet["gateway_ip"]}]},
            caller)
    router["_interfaces"][port["id"]] = None
    touch(router)
    return _interface_info(router, port)


def remove_interface(st, caller, router: dict, subnet_id, port_id) -> dict:
    if port_id:
        if port_id not in router["_interfaces"]:
            raise NotFound(f"Router {router['id']} does not have an interface with id {port_id}",
                           "RouterInterfaceNotFound")
        port = st.ports.rows[port_id]
    else:
        port = next((st.ports.rows[p] for p in router["_interfaces"]
                     if any(f["subnet_id"] == subnet_id for f in st.ports.rows[p]["fixed_ips"])),
                    None)
        if port is None:
            raise NotFound(f"Router {router['id']} has no interface on subnet {subnet_id}",
                           "RouterInterfaceNotFoundForSubnet")
    for entry in port["fixed_ips"]:
        cidr = st.subnets.rows[entry["subnet_id"]]["_net"]
        for fip in st.floatingips.rows.values():
            if fip["router_id"] == router["id"] and fip["fixed_ip_address"] and \
                    ipaddress.ip_address(fip["fixed_ip_address"]) in cidr:
                raise Conflict(f"Router interface for subnet {entry['subnet_id']} on router "
                               f"{router['id']} cannot be deleted, as it is required by one or "
                               "more floating IPs.", "RouterInterfaceInUseByFloatingIP")
        if any(ipaddress.ip_address(r["nexthop"]) in cidr for r in router["routes"]):
            raise Conflict(f"Router interface for subnet {entry['subnet_id']} on router "
                           f"{router['id']} cannot be deleted, as it is required by one or more "
                           "routes.", "RouterInterfaceInUseByRoute")
    info = _interface_info(router, port)
    del router["_interfaces"][port["id"]]
    ports.delete_port(st, port)
    touch(router)
    return info


@route("/v2.0/routers", ["GET"])
def list_routers():
    st, caller = common.state(), web.caller()
    rows = common.listable_rows(st.routers, caller)
    return common.listing("routers", common.filtered(rows), lambda r: render(st, r, caller))


@route("/v2.0/routers", ["POST"])
def create_router_route():
    st, caller = common.state(), web.caller()
    router = create_router(st, caller, common.resource_body("router"))
    return common.shown("router", render(st, router, caller), 201)


@route("/v2.0/routers/<router_id>", ["GET"])
def show_router(router_id):
    st, caller = common.state(), web.caller()
    return common.shown("router", render(st, visible(st, router_id, caller), caller))


@route("/v2.0/routers/<router_id>", ["PUT"])
def update_router_route(router_id):
    st, caller = common.state(), web.caller()
    router = visible(st, router_id, caller)
    body = common.resource_body("router")
    return common.shown("router", render(st, update_router(st, caller, router, body), caller))


@route("/v2.0/routers/<router_id>", ["DELETE"])
def delete_router_route(router_id):
    st, caller = common.state(), web.caller()
    router = visible(st, router_id, caller)
    if router["_interfaces"]:
        raise Conflict(f"Router {router_id} still has ports", "RouterInUse")
    if router["_gw_port"]:
        _set_gateway(st, router, None, caller, "update_router")
    st.routers.remove(router_id)
    return web.json_response(None, 204)


@route("/v2.0/routers/<router_id>/add_router_interface", ["PUT"])
def add_router_interface(router_id):
    st, caller = common.state(), web.caller()
    router = visible(st, router_id, caller)
    subnet_id, port_id = _interface_body(caller)
    return web.json_response(add_interface(st, caller, router, subnet_id, port_id))


@route("/v2.0/routers/<router_id>/remove_router_interface", ["PUT"])
def remove_router_interface(router_id):
    st, caller = common.state(), web.caller()
    router = visible(st, router_id, caller)
    subnet_id, port_id = _interface_body(caller)
    return web.json_response(remove_interface(st, caller, router, subnet_id, port_id))


def _extra_routes(router_id: str, adding: bool):
    st, caller = common.state(), web.caller()
    router = visible(st, router_id, caller)
    body = common.resource_body("router")
    if set(body) != {"routes"}:
        raise BadRequest("Only 'routes' may be given to add or remove extra routes")
    requested = _routes(st, router, body["routes"]) if adding else body["routes"]
    current = router["routes"]
    if adding:
        merged = current + [r for r in requested if r not in current]
        router["routes"] = _routes(st, router, merged)
    else:
        router["routes"] = [r for r in current if r not in requested]
    touch(router)
    return common.shown("router", render(st, router, caller))


@route("/v2.0/routers/<router_id>/add_extraroutes", ["PUT"])
def add_extraroutes(router_id):
    return _extra_routes(router_id, True)


@route("/v2.0/routers/<router_id>/remove_extraroutes", ["PUT"])
def remove_extraroutes(router_id):
    return _extra_routes(router_id, False)

