"""Networks, with ML2-style segments: provider attributes are admin-only, as in Neutron.

Tenant networks get a VXLAN segment from the region's VNI range; an admin may
ask for a flat, VLAN, VXLAN, GRE or Geneve segment, and a segment already taken
in the region is a 409 exactly like ML2's type drivers answer.
"""

from __future__ import annotations

from flask import request

from regionsim import web
from regionsim.services.neutron import common
from regionsim.services.neutron.common import route
from regionsim.services.neutron.errors import (
    Conflict,
    InvalidInput,
    NeutronError,
    PolicyNotAuthorized,
    not_found,
)
from regionsim.services.neutron.store import base_row, touch

PROVIDER = frozenset({"provider:network_type", "provider:physical_network",
                      "provider:segmentation_id"})
CREATE = frozenset({"name", "admin_state_up", "shared", "router:external", "mtu",
                    "port_security_enabled", "description", "availability_zone_hints",
                    "qos_policy_id", "dns_domain", "is_default", "project_id", "tenant_id",
                    "tags"}) | PROVIDER
CREATE_ADMIN = PROVIDER | {"shared", "router:external", "is_default"}
UPDATE = CREATE - {"project_id", "tenant_id", "availability_zone_hints", "tags"}
UPDATE_ADMIN = CREATE_ADMIN
# The tenant network type and VNI range of a default devstack ML2 setup.
TENANT_NETWORK_TYPE = "vxlan"
VNI_RANGE = (1, 1000)
# Ports Neutron removes with their network instead of refusing the delete.
AUTO_DELETED_OWNERS = frozenset({"network:dhcp", "network:distributed"})

_SEGMENT_RANGES = {"vlan": (1, 4094), "vxlan": (1, 2 ** 24 - 1), "gre": (1, 2 ** 32 - 1),
                   "geneve": (1, 2 ** 24 - 1)}
_MTU = {"vxlan": 1450, "geneve": 1442, "gre": 1458, "vlan": 1500, "flat": 1500, "local": 1500}


def can_see(net: dict, caller) -> bool:
    return (caller.is_admin or net["project_id"] == caller.project_id or net["shared"]
            or net["router:external"])


def visible(st, network_id: str, caller) -> dict:
    net = st.networks.get(network_id)
    if net is None or not can_see(net, caller):
        raise not_found("network", network_id)
    return net


def owned(st, network_id: str, caller, action: str) -> dict:
    """A network the caller may change: 404 if invisible, 403 if only visible."""
    net = visible(st, network_id, caller)
    if not caller.is_admin and net["project_id"] != caller.project_id:
        raise PolicyNotAuthorized(f"rule:{action}")
    return net


def render(net: dict, caller) -> dict:
    return common.view(net, caller, PROVIDER)


def _segment(st, body: dict) -> tuple[str, str | None, int | None]:
    """The (type, physical network, id) the new network's segment takes."""
    net_type = body.get("provider:network_type")
    physnet = body.get("provider:physical_network")
    seg_id = body.get("provider:segmentation_id")
    if net_type is None:
        if physnet is not None or seg_id is not None:
            raise InvalidInput("network_type required")
        low, high = VNI_RANGE
        for vni in range(low, high + 1):
            if (TENANT_NETWORK_TYPE, None, vni) not in st.segments:
                return TENANT_NETWORK_TYPE, None, vni
        raise NeutronError("Unable to create the network. No tenant network is available for "
                           "allocation.", "NoNetworkAvailable", 503)
    if net_type not in _MTU:
        raise InvalidInput(f"network_type value '{net_type}' not supported")
    if seg_id is not None:
        try:
            seg_id = int(seg_id)
        except (TypeError, ValueError):
            raise InvalidInput(f"segmentation_id {seg_id} is not an integer") from None
    if net_type in ("flat", "local"):
        if seg_id is not None:
            raise InvalidInput(f"segmentation_id not allowed for {net_type} provider network")
        if net_type == "flat" and not physnet:
            raise InvalidInput("physical_network required for flat provider network")
        if net_type == "flat" and ("flat", physnet, None) in st.segments:
            raise Conflict(f"Unable to create the flat network. Physical network {physnet} is "
                           "in use.", "FlatNetworkInUse")
        return net_type, physnet, None
    if net_type == "vlan" and not physnet:
        raise InvalidInput("physical_network required for VLAN provider network")
    if net_type != "vlan" and physnet:
        raise InvalidInput(f"provider:physical_network specified for {net_type} network")
    low, high = _SEGMENT_RANGES[net_type]
    if seg_id is None:
        seg_id = next((i for i in range(low, high + 1)
                       if (net_type, physnet, i) not in st.segments), None)
    elif not low <= seg_id <= high:
        raise InvalidInput(f"segmentation_id out of range ({low} through {high})")
    if (net_type, physnet, seg_id) in st.segments:
        if net_type == "vlan":
            raise Conflict(f"Unable to create the network. The VLAN {seg_id} on physical network "
                           f"{physnet} is in use.", "VlanIdInUse")
        raise Conflict(f"Unable to create the network. The tunnel ID {seg_id} is in use.",
                       "TunnelIdInUse")
    return net_type, physnet, seg_id


def _mtu(value, limit: int) -> int:
    try:
        mtu = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"'{value}' is not an integer") from None
    if mtu < 68:
        raise InvalidInput(f"MTU {mtu} is smaller than the minimum of 68")
    if mtu > limit:
        raise InvalidInput(f"Requested MTU is too big, maximum is {limit}")
    return mtu


def create_network(st, caller, body: dict) -> dict:
    common.check_attrs(body, CREATE, CREATE_ADMIN, caller, "create_network")
    project = common.owner_for_create(body, caller)
    st.check_quota(project, {"network": 1})
    net_type, physnet, seg_id = _segment(st, body)
    max_mtu = _MTU[net_type]
    net = base_row(st.region.new_id(), project)
    net.update({
        "name": common.to_str(body.get("name", ""), "name"),
        "admin_state_up": common.to_bool(body.get("admin_state_up", True), "admin_state_up"),
        "status": "ACTIVE", "subnets": [],
        "shared": common.to_bool(body.get("shared", False), "shared"),
        "router:external": common.to_bool(body.get("router:external", False), "router:external"),
        "mtu": _mtu(body["mtu"], max_mtu) if body.get("mtu") is not None else max_mtu,
        "port_security_enabled": common.to_bool(body.get("port_security_enabled", True),
                                                "port_security_enabled"),
        "availability_zone_hints": common.to_list(body.get("availability_zone_hints", []),
                                                  "availability_zone_hints"),
        "availability_zones": ["nova"], "ipv4_address_scope": None, "ipv6_address_scope": None,
        "l2_adjacency": True, "qos_policy_id": body.get("qos_policy_id"),
        "is_default": common.to_bool(body.get("is_default", False), "is_default"),
        "dns_domain": body.get("dns_domain", ""),
        "description": common.to_str(body.get("description", ""), "description"),
        "tags": [str(t) for t in common.to_list(body.get("tags", []), "tags")],
        "provider:network_type": net_type, "provider:physical_network": physnet,
        "provider:segmentation_id": seg_id,
        "_macs": set(),
    })
    st.networks.add(net)
    st.segments[(net_type, physnet, seg_id)] = net["id"]
    st.ports_by_network[net["id"]] = {}
    st.ensure_default_security_group(project)
    return net


def update_network(st, caller, net: dict, body: dict) -> dict:
    common.check_attrs(body, UPDATE, UPDATE_ADMIN, caller, "update_network")
    provider = PROVIDER & set(body)
    if any(body[k] != net[k] for k in provider):
        raise InvalidInput("Plugin does not support updating the following provider network "
                           f"attributes: {sorted(provider)}")
    if "shared" in body:
        shared = common.to_bool(body["shared"], "shared")
        if net["shared"] and not shared:
            others = {st.ports.rows[p]["project_id"] for p in st.ports_by_network[net["id"]]}
            if others - {net["project_id"], ""}:
                raise Conflict(f"Unable to reconfigure sharing settings for network {net['id']}. "
                               "Multiple tenants are using it.", "InvalidSharedSetting")
        net["shared"] = shared
    for attr in ("admin_state_up", "router:external", "port_security_enabled", "is_default"):
        if attr in body:
            net[attr] = common.to_bool(body[attr], attr)
    for attr in ("name", "description", "dns_domain"):
        if attr in body:
            net[attr] = common.to_str(body[attr], attr)
    if "mtu" in body:
        net["mtu"] = _mtu(body["mtu"], _MTU[net["provider:network_type"]])
    if "qos_policy_id" in body:
        net["qos_policy_id"] = body["qos_policy_id"]
    touch(net)
    return net


def delete_network(st, net: dict) -> None:
    # Imported here: ports and subnets look networks up through this module.
    from regionsim.services.neutron import ports as port_ops
    from regionsim.services.neutron import subnets as subnet_ops

    port_ids = st.ports_by_network.get(net["id"], {})
    if any(st.ports.rows[p]["device_owner"] not in AUTO_DELETED_OWNERS for p in port_ids):
        raise Conflict(f"Unable to complete operation on network {net['id']}. There are one or "
                       "more ports still in use on the network.", "NetworkInUse")
    for port_id in list(port_ids):
        port_ops.delete_port(st, st.ports.rows[port_id])
    for subnet_id in list(net["subnets"]):
        subnet_ops.delete_subnet(st, st.subnets.rows[subnet_id])
    st.segments.pop((net["provider:network_type"], net["provider:physical_network"],
                     net["provider:segmentation_id"]), None)
    st.ports_by_network.pop(net["id"], None)
    st.networks.remove(net["id"])


@route("/v2.0/networks", ["GET"])
def list_networks():
    st, caller = common.state(), web.caller()
    if caller.is_admin:
        rows = st.networks.rows.values()
    else:
        rows = {n["id"]: n for n in st.networks.rows.values()
                if n["shared"] or n["router:external"]}
        rows.update((n["id"], n) for n in st.networks.owned_by(caller.project_id))
        rows = rows.values()
    if not caller.is_admin and PROVIDER & set(request.args):
        rows = []  # non-admins cannot filter on attributes they cannot see
    return common.listing("networks", common.filtered(rows), lambda n: render(n, caller))


@route("/v2.0/networks", ["POST"])
def create_network_route():
    st, caller = common.state(), web.caller()
    body = common.resource_body("network")
    return common.shown("network", render(create_network(st, caller, body), caller), 201)


@route("/v2.0/networks/<network_id>", ["GET"])
def show_network(network_id):
    st, caller = common.state(), web.caller()
    return common.shown("network", render(visible(st, network_id, caller), caller))


@route("/v2.0/networks/<network_id>", ["PUT"])
def update_network_route(network_id):
    st, caller = common.state(), web.caller()
    net = owned(st, network_id, caller, "update_network")
    body = common.resource_body("network")
    return common.shown("network", render(update_network(st, caller, net, body), caller))


@route("/v2.0/networks/<network_id>", ["DELETE"])
def delete_network_route(network_id):
    st, caller = common.state(), web.caller()
    delete_network(st, owned(st, network_id, caller, "delete_network"))
    return web.json_response(None, 204)

