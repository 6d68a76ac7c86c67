"""Ports: addresses from the subnets' pools, MACs, security groups and bindings.

Explicit addresses and MACs are the network owner's (or an admin's) to choose,
binding attributes are admin-only to set and to see, and every port without
explicit groups gets its project's ``default`` security group, as in Neutron.
"""

from __future__ import annotations

import ipaddress
import random
import re

from flask import request

from regionsim import web
from regionsim.services.neutron import addresses, common, networks
from regionsim.services.neutron.common import route
from regionsim.services.neutron.errors import (
    BadRequest,
    Conflict,
    PolicyNotAuthorized,
    not_found,
)
from regionsim.services.neutron.store import base_row, touch

BINDING = frozenset({"binding:host_id", "binding:profile", "binding:vif_type",
                     "binding:vif_details"})
CREATE = frozenset({"name", "network_id", "admin_state_up", "mac_address", "fixed_ips",
                    "device_id", "device_owner", "security_groups", "allowed_address_pairs",
                    "port_security_enabled", "description", "binding:host_id", "binding:profile",
                    "binding:vnic_type", "qos_policy_id", "extra_dhcp_opts", "dns_name",
                    "propagate_uplink_status", "project_id", "tenant_id", "tags"})
CREATE_ADMIN = frozenset({"binding:host_id", "binding:profile"})
UPDATE = CREATE - {"network_id", "project_id", "tenant_id", "tags"}
UPDATE_ADMIN = CREATE_ADMIN | {"mac_address"}
ROUTER_OWNERS = frozenset({"network:router_interface", "network:router_interface_distributed",
                           "network:ha_router_replicated_interface", "network:router_gateway"})
# Ports the L3 API owns: deleting them through /ports is refused, as in Neutron.
L3_OWNERS = ROUTER_OWNERS | {"network:floatingip"}
_MAC = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")


def can_see(st, port: dict, caller) -> bool:
    return (caller.is_admin or port["project_id"] == caller.project_id
            or st.networks.rows[port["network_id"]]["project_id"] == caller.project_id)


def visible(st, port_id: str, caller) -> dict:
    port = st.ports.get(port_id)
    if port is None or not can_see(st, port, caller):
        raise not_found("port", port_id)
    return port


def owned(st, port_id: str, caller, action: str) -> dict:
    port = visible(st, port_id, caller)
    if not caller.is_admin and port["project_id"] != caller.project_id:
        raise PolicyNotAuthorized(f"rule:{action}")
    return port


def render(port: dict, caller) -> dict:
    return common.view(port, caller, BINDING)


def _mac(st, net: dict, wanted) -> str:
    if wanted is not None:
        if not isinstance(wanted, str) or not _MAC.match(wanted):
            raise BadRequest(f"Invalid input for mac_address. Reason: '{wanted}' is not a valid "
                             "MAC address.")
        mac = wanted.lower()
        if mac in net["_macs"]:
            raise Conflict(f"Unable to complete operation for network {net['id']}. The mac "
                           f"address {mac} is in use.", "MacAddressInUse")
        return mac
    while True:
        mac = "fa:16:3e:" + ":".join(f"{random.getrandbits(8):02x}" for _ in range(3))
        if mac not in net["_macs"]:
            return mac


# -- security ---------------------------------------------------------------

def _groups(st, project: str, caller, wanted) -> list[str]:
    groups = common.to_list(wanted, "security_groups")
    for sg_id in groups:
        sg = st.security_groups.get(sg_id)
        if sg is None or not (caller.is_admin or sg["project_id"] == project):
            raise not_found("security_group", sg_id)
    return list(dict.fromkeys(groups))


def _pairs(value, mac: str) -> list[dict]:
    pairs = []
    for pair in common.to_list(value, "allowed_address_pairs"):
        if not isinstance(pair, dict) or "ip_address" not in pair \
                or not set(pair) <= {"ip_address", "mac_address"}:
            raise BadRequest("Invalid input for allowed_address_pairs. Reason: the pair must "
                             "have an ip_address and at most a mac_address.")
        try:
            ipaddress.ip_network(str(pair["ip_address"]), strict=False)
        except ValueError:
            raise BadRequest(f"Invalid input for allowed_address_pairs. Reason: "
                             f"'{pair['ip_address']}' is not a valid IP address.") from None
        pairs.append({"ip_address": str(pair["ip_address"]),
                      "mac_address": pair.get("mac_address") or mac})
    return pairs


def _check_security(port: dict) -> None:
    if port["port_security_enabled"]:
        return
    if port["security_groups"]:
        raise BadRequest("Port security must be enabled and port must have an IP address in "
                         "order to use security groups.",
                         "PortSecurityAndIPRequiredForSecurityGroups")
    if port["allowed_address_pairs"]:
        raise Conflict("Port Security must be enabled in order to have allowed address pairs on "
                       "a port.", "AddressPairAndPortSecurityRequired")


def _status(port: dict) -> str:
    owner = port["device_owner"]
    if owner in ("network:floatingip", "network:router_gateway"):
        return "N/A" if owner == "network:floatingip" else "ACTIVE"
    if owner in ROUTER_OWNERS or (port["device_id"] and port["binding:host_id"]):
        return "ACTIVE"
    return "DOWN"


def _binding(port: dict) -> None:
    bound = bool(port["binding:host_id"])
    port["binding:vif_type"] = "ovs" if bound else "unbound"
    port["binding:vif_details"] = ({"port_filter": True, "connectivity": "l2",
                                    "bridge_name": "br-int", "datapath_type": "system"}
                                   if bound else {})
    port["status"] = _status(port)


# -- operations -------------------------------------------------------------

def new_port(st, project: str, net: dict, body: dict, caller) -> dict:
    """Create a port from an already policy-checked body (the API and Nova both use it)."""
    port_id = st.region.new_id()
    device_owner = common.to_str(body.get("device_owner", ""), "device_owner")
    mac = _mac(st, net, body.get("mac_address"))
    port = base_row(port_id, project)
    port.update({
        "name": common.to_str(body.get("name", ""), "name"), "network_id": net["id"],
        "admin_state_up": common.to_bool(body.get("admin_state_up", True), "admin_state_up"),
        "mac_address": mac, "fixed_ips": [],
        "device_id": common.to_str(body.get("device_id", ""), "device_id"),
        "device_owner": device_owner, "status": "DOWN",
        "port_security_enabled": common.to_bool(
            body.get("port_security_enabled", net["port_security_enabled"]),
            "port_security_enabled"),
        "security_groups": [], "allowed_address_pairs": [], "extra_dhcp_opts": [],
        "binding:host_id": body.get("binding:host_id", ""),
        "binding:profile": body.get("binding:profile", {}),
        "binding:vnic_type": body.get("binding:vnic_type", "normal"),
        "binding:vif_type": "unbound", "binding:vif_details": {},
        "ip_allocation": "immediate", "qos_policy_id": body.get("qos_policy_id"),
        "qos_network_policy_id": None, "propagate_uplink_status": False,
        "dns_name": body.get("dns_name", ""), "dns_assignment": [],
        "data_plane_status": None, "resource_request": None,
        "description": common.to_str(body.get("description", ""), "description"),
        "tags": [str(t) for t in common.to_list(body.get("tags", []), "tags")],
    })
    st.ensure_default_security_group(project)
    if "security_groups" in body:
        port["security_groups"] = _groups(st, project, caller, body["security_groups"])
    elif port["port_security_enabled"] and not device_owner.startswith("network:") and project:
        port["security_groups"] = [st.default_sg[project]]
    port["allowed_address_pairs"] = _pairs(body.get("allowed_address_pairs", []), mac)
    _check_security(port)
    port["fixed_ips"] = addresses.allocate(st, net, port_id, body.get("fixed_ips"),
                                 device_owner in ROUTER_OWNERS)
    net["_macs"].add(mac)
    _binding(port)
    st.ports.add(port)
    st.ports_by_network[net["id"]][port_id] = None
    if port["device_id"]:
        st.ports_by_device.setdefault(port["device_id"], {})[port_id] = None
    return port


def create_port(st, caller, body: dict) -> dict:
    common.check_attrs(body, CREATE, CREATE_ADMIN, caller, "create_port")
    if "network_id" not in body:
        raise BadRequest("Failed to parse request. Required attribute 'network_id' not specified")
    net = networks.visible(st, body["network_id"], caller)
    project = common.owner_for_create(body, caller)
    net_owner = caller.is_admin or net["project_id"] == caller.project_id
    if not net_owner:
        if "mac_address" in body:
            raise PolicyNotAuthorized("rule:create_port:mac_address")
        if any(isinstance(f, dict) and "ip_address" in f for f in body.get("fixed_ips") or ()):
            raise PolicyNotAuthorized("rule:create_port:fixed_ips:ip_address")
        if str(body.get("device_owner", "")).startswith("network:"):
            raise PolicyNotAuthorized("rule:create_port:device_owner")
    if body.get("fixed_ips") is not None:
        common.to_list(body["fixed_ips"], "fixed_ips")
    st.check_quota(project, {"port": 1})
    return new_port(st, project, net, body, caller)


def create_for_server(st, project: str, network_id: str, device_id: str,
                      fixed_ip: str | None) -> dict:
    """The port Nova plugs into a server (see ``State.create_port_for_server``)."""
    net = st.networks.rows[network_id]
    if net["project_id"] != project and not net["shared"]:
        raise KeyError(network_id)
    st.check_quota(project, {"port": 1})
    body = {"device_id": device_id, "device_owner": "compute:nova",
            "binding:host_id": f"{st.region.name.lower()}-compute"}
    if fixed_ip is not None:
        body["fixed_ips"] = [{"ip_address": fixed_ip}]
    caller = web.Caller(user_id="", project_id=project, roles=frozenset({"admin"}))
    return new_port(st, project, net, body, caller)


def bind_existing(st, port: dict, device_id: str) -> dict:
    """Bind a port to a server (``device_id``), or unbind it (empty ``device_id``)."""
    body = {"device_id": device_id, "device_owner": "compute:nova" if device_id else "",
            "binding:host_id": f"{st.region.name.lower()}-compute" if device_id else ""}
    caller = web.Caller(user_id="", project_id=port["project_id"], roles=frozenset({"admin"}))
    return update_port(st, caller, port, body)


def update_port(st, caller, port: dict, body: dict) -> dict:
    if "network_id" in body:
        raise BadRequest("Cannot update read-only attribute network_id")
    common.check_attrs(body, UPDATE, UPDATE_ADMIN, caller, "update_port")
    net = st.networks.rows[port["network_id"]]
    net_owner = caller.is_admin or net["project_id"] == caller.project_id
    if not net_owner and any(isinstance(f, dict) and "ip_address" in f
                             for f in body.get("fixed_ips") or ()):
        raise PolicyNotAuthorized("rule:update_port:fixed_ips:ip_address")
    candidate = dict(port)
    for attr in ("port_security_enabled", "admin_state_up"):
        if attr in body:
            candidate[attr] = common.to_bool(body[attr], attr)
    if "security_groups" in body:
        candidate["security_groups"] = _groups(st, port["project_id"], caller,
                                               body["security_groups"] or [])
    if "mac_address" in body and body["mac_address"] != port["mac_address"]:
        if port["binding:host_id"]:
            raise Conflict(f"Port {port['id']} is bound; its MAC address cannot change.",
                           "PortBound")
        candidate["mac_address"] = _mac(st, net, body["mac_address"])
    if "allowed_address_pairs" in body:
        candidate["allowed_address_pairs"] = _pairs(body["allowed_address_pairs"] or [],
                                                    candidate["mac_address"])
    if not candidate["port_security_enabled"] and candidate["security_groups"]:
        if "security_groups" not in body:
            raise Conflict("Port has security group associated. Cannot disable port security "
                           "or ip address until security group is removed",
                           "PortSecurityPortHasSecurityGroup")
    _check_security(candidate)
    if "fixed_ips" in body:
        requests = common.to_list(body["fixed_ips"], "fixed_ips")
        addresses.release(st, port)
        try:
            candidate["fixed_ips"] = addresses.allocate(st, net, port["id"], requests,
                                              port["device_owner"] in ROUTER_OWNERS)
        except Exception:
            addresses.allocate(st, net, port["id"], port["fixed_ips"], True)  # restore what it had
            raise
    for attr in ("name", "description", "device_owner", "dns_name"):
        if attr in body:
            candidate[attr] = common.to_str(body[attr], attr)
    for attr in ("binding:host_id", "binding:profile", "binding:vnic_type", "qos_policy_id",
                 "extra_dhcp_opts", "propagate_uplink_status"):
        if attr in body:
            candidate[attr] = body[attr]
    if "device_id" in body and body["device_id"] != port["device_id"]:
        _unindex_device(st, port)
        candidate["device_id"] = common.to_str(body["device_id"], "device_id")
        if candidate["device_id"]:
            st.ports_by_device.setdefault(candidate["device_id"], {})[port["id"]] = None
    if candidate["mac_address"] != port["mac_address"]:
        net["_macs"].discard(port["mac_address"])
        net["_macs"].add(candidate["mac_address"])
    port.update(candidate)
    _binding(port)
    touch(port)
    return port


def _unindex_device(st, port: dict) -> None:
    owned_ports = st.ports_by_device.get(port["device_id"])
    if owned_ports is not None:
        owned_ports.pop(port["id"], None)
        if not owned_ports:
            del st.ports_by_device[port["device_id"]]


def delete_port(st, port: dict) -> None:
    """Remove a port, its addresses and MAC, and detach the floating IPs that used it."""
    addresses.release(st, port)
    st.networks.rows[port["network_id"]]["_macs"].discard(port["mac_address"])
    _unindex_device(st, port)
    st.ports_by_network.get(port["network_id"], {}).pop(port["id"], None)
    for fip in st.floatingips.rows.values():
        if fip["port_id"] == port["id"]:
            fip.update(port_id=None, fixed_ip_address=None, router_id=None, status="DOWN")
            touch(fip)
    st.ports.remove(port["id"])


# -- routes -----------------------------------------------------------------

def _fixed_ips_filter(row: dict, values: list[str]) -> bool:
    wanted: dict[str, set[str]] = {}
    for value in values:
        key, _, val = value.partition("=")
        wanted.setdefault(key, set()).add(val)
    for key, vals in wanted.items():
        if key == "ip_address_substr":
            if not any(v in f["ip_address"] for f in row["fixed_ips"] for v in vals):
                return False
        elif not any(f.get(key) in vals for f in row["fixed_ips"]):
            return False
    return True


@route("/v2.0/ports", ["GET"])
def list_ports():
    st, caller = common.state(), web.caller()
    devices = request.args.getlist("device_id")
    if devices:
        rows = [st.ports.rows[p] for d in devices for p in st.ports_by_device.get(d, ())]
        rows = [p for p in rows if can_see(st, p, caller)]
    elif caller.is_admin:
        rows = st.ports.rows.values()
    else:
        found = {p["id"]: p for p in st.ports.owned_by(caller.project_id)}
        for net in st.networks.owned_by(caller.project_id):
            found.update((i, st.ports.rows[i]) for i in st.ports_by_network.get(net["id"], ()))
        rows = found.values()
    if not caller.is_admin and BINDING & set(request.args):
        rows = []
    rows = common.filtered(rows, {"fixed_ips": _fixed_ips_filter})
    return common.listing("ports", rows, lambda p: render(p, caller))


@route("/v2.0/ports", ["POST"])
def create_port_route():
    st, caller = common.state(), web.caller()
    port = create_port(st, caller, common.resource_body("port"))
    return common.shown("port", render(port, caller), 201)


@route("/v2.0/ports/<port_id>", ["GET"])
def show_port(port_id):
    st, caller = common.state(), web.caller()
    return common.shown("port", render(visible(st, port_id, caller), caller))


@route("/v2.0/ports/<port_id>", ["PUT"])
def update_port_route(port_id):
    st, caller = common.state(), web.caller()
    port = owned(st, port_id, caller, "update_port")
    body = common.resource_body("port")
    return common.shown("port", render(update_port(st, caller, port, body), caller))


@route("/v2.0/ports/<port_id>", ["DELETE"])
def delete_port_route(port_id):
    st, caller = common.state(), web.caller()
    port = visible(st, port_id, caller)
    net_owner = st.networks.rows[port["network_id"]]["project_id"] == caller.project_id
    if not (caller.is_admin or port["project_id"] == caller.project_id or net_owner):
        raise PolicyNotAuthorized("rule:delete_port")
    if port["device_owner"] in L3_OWNERS:
        raise Conflict(f"Port {port_id} cannot be deleted directly via the port API: has device "
                       f"owner {port['device_owner']}.", "ServicePortInUse")
    delete_port(st, port)
    return web.json_response(None, 204)
