"""Floating IPs on external networks, associated through a router to a port."""

from __future__ import annotations

import ipaddress

from regionsim import web
from regionsim.services.neutron import common, networks, ports
from regionsim.services.neutron.common import route
from regionsim.services.neutron.errors import BadRequest, Conflict, NotFound
from regionsim.services.neutron.store import base_row, touch

CREATE = frozenset({"floating_network_id", "port_id", "fixed_ip_address", "floating_ip_address",
                    "subnet_id", "description", "dns_name", "dns_domain", "qos_policy_id",
                    "project_id", "tenant_id", "tags"})
CREATE_ADMIN = frozenset({"floating_ip_address"})
UPDATE = frozenset({"port_id", "fixed_ip_address", "description", "qos_policy_id"})


def _bad(message: str) -> BadRequest:
    return BadRequest(f"Bad floatingip request: {message}.", "BadRequest")


def visible(st, fip_id: str, caller) -> dict:
    return common.visible_row(st.floatingips, fip_id, caller, "floatingip")


def render(st, fip: dict, caller) -> dict:
    body = common.view(fip, caller)
    port = st.ports.get(fip["port_id"]) if fip["port_id"] else None
    body["port_details"] = None if port is None else {
        key: port[key] for key in ("name", "network_id", "mac_address", "admin_state_up",
                                   "status", "device_id", "device_owner")}
    return body


def _router_for(st, fip: dict, subnet_id: str) -> dict | None:
    """The router that joins the floating IP's network to ``subnet_id``."""
    for router in st.routers.rows.values():
        gw = st.ports.get(router["_gw_port"]) if router["_gw_port"] else None
        if gw is None or gw["network_id"] != fip["floating_network_id"]:
            continue
        for port_id in router["_interfaces"]:
            if any(f["subnet_id"] == subnet_id for f in st.ports.rows[port_id]["fixed_ips"]):
                return router
    return None


def _associate(st, caller, fip: dict, port_id, fixed_ip) -> None:
    if port_id is None:
        fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
        return
    port = ports.visible(st, port_id, caller)
    if not caller.is_admin and port["project_id"] != fip["project_id"]:
        raise _bad(f"Cannot create floating IP and bind it to Port {port_id}, since that port "
                   "is owned by a different project")
    if fixed_ip is not None:
        entry = next((f for f in port["fixed_ips"] if f["ip_address"] == fixed_ip), None)
        if entry is None:
            raise _bad(f"Port {port_id} does not have fixed ip {fixed_ip}")
    else:
        entry = next((f for f in port["fixed_ips"]
                      if ipaddress.ip_address(f["ip_address"]).version == 4), None)
        if entry is None:
            raise _bad(f"Port {port_id} does not have any IPv4 address")
    for other in st.floatingips.rows.values():
        if other is not fip and other["port_id"] == port_id and \
                other["fixed_ip_address"] == entry["ip_address"]:
            raise Conflict(f"Cannot associate floating IP {fip['floating_ip_address']} "
                           f"({fip['id']}) with port {port_id} using fixed IP "
                           f"{entry['ip_address']}, as that fixed IP already has a floating IP on "
                           f"external network {other['floating_network_id']}.",
                           "FloatingIPPortAlreadyAssociated")
    router = _router_for(st, fip, entry["subnet_id"])
    if router is None:
        raise NotFound(f"External network {fip['floating_network_id']} is not reachable from "
                       f"subnet {entry['subnet_id']}.  Therefore, cannot associate Port "
                       f"{port_id} with a Floating IP.", "ExternalGatewayForFloatingIPNotFound")
    fip.update(port_id=port_id, fixed_ip_address=entry["ip_address"], router_id=router["id"],
               status="ACTIVE")


def create_floatingip(st, caller, body: dict) -> dict:
    common.check_attrs(body, CREATE, CREATE_ADMIN, caller, "create_floatingip")
    if "floating_network_id" not in body:
        raise BadRequest("Failed to parse request. Required attribute 'floating_network_id' not "
                         "specified")
    net = networks.visible(st, body["floating_network_id"], caller)
    if not net["router:external"]:
        raise _bad(f"Network {net['id']} is not a valid external network")
    project = common.owner_for_create(body, caller)
    st.check_quota(project, {"floatingip": 1})
    fip_id = st.region.new_id()
    request_ = {}
    if body.get("subnet_id"):
        request_["subnet_id"] = body["subnet_id"]
    if body.get("floating_ip_address"):
        request_["ip_address"] = body["floating_ip_address"]
    port = ports.new_port(st, "", net, {
        "device_id": fip_id, "device_owner": "network:floatingip",
        **({"fixed_ips": [request_]} if request_ else {})}, caller)
    address = next((f["ip_address"] for f in port["fixed_ips"]), None)
    if address is None:
        ports.delete_port(st, port)
        raise Conflict(f"No more IP addresses available on network {net['id']}.",
                       "IpAddressGenerationFailure")
    fip = base_row(fip_id, project)
    fip.update({
        "floating_network_id": net["id"], "floating_ip_address": address,
        "port_id": None, "fixed_ip_address": None, "router_id": None, "status": "DOWN",
        "qos_policy_id": body.get("qos_policy_id"), "port_forwardings": [],
        "dns_name": body.get("dns_name", ""), "dns_domain": body.get("dns_domain", ""),
        "description": common.to_str(body.get("description", ""), "description"),
        "tags": [str(t) for t in common.to_list(body.get("tags", []), "tags")],
        "_port": port["id"],
    })
    try:
        _associate(st, caller, fip, body.get("port_id"), body.get("fixed_ip_address"))
    except Exception:
        ports.delete_port(st, port)
        raise
    st.floatingips.add(fip)
    return fip


@route("/v2.0/floatingips", ["GET"])
def list_floatingips():
    st, caller = common.state(), web.caller()
    rows = common.listable_rows(st.floatingips, caller)
    return common.listing("floatingips", common.filtered(rows), lambda f: render(st, f, caller))


@route("/v2.0/floatingips", ["POST"])
def create_floatingip_route():
    st, caller = common.state(), web.caller()
    fip = create_floatingip(st, caller, common.resource_body("floatingip"))
    return common.shown("floatingip", render(st, fip, caller), 201)


@route("/v2.0/floatingips/<fip_id>", ["GET"])
def show_floatingip(fip_id):
    st, caller = common.state(), web.caller()
    return common.shown("floatingip", render(st, visible(st, fip_id, caller), caller))


@route("/v2.0/floatingips/<fip_id>", ["PUT"])
def update_floatingip(fip_id):
    st, caller = common.state(), web.caller()
    fip = visible(st, fip_id, caller)
    body = common.resource_body("floatingip")
    common.check_attrs(body, UPDATE, frozenset(), caller, "update_floatingip")
    if "port_id" in body or "fixed_ip_address" in body:
        _associate(st, caller, fip, body.get("port_id", fip["port_id"]),
                   body.get("fixed_ip_address"))
    for attr in ("description", "qos_policy_id"):
        if attr in body:
            fip[attr] = body[attr]
    touch(fip)
    return common.shown("floatingip", render(st, fip, caller))


@route("/v2.0/floatingips/<fip_id>", ["DELETE"])
def delete_floatingip(fip_id):
    st, caller = common.state(), web.caller()
    fip = visible(st, fip_id, caller)
    port = st.ports.get(fip["_port"])
    st.floatingips.remove(fip_id)
    if port is not None:
        ports.delete_port(st, port)
    return web.json_response(None, 204)
