"""Security groups and their rules, with the lazily created ``default`` group.

Neutron creates a project's ``default`` group (two egress rules, and two ingress
rules from the group itself) the first time the project lists groups, creates a
network, a port or a group; quota usage therefore shows 1 group and 4 rules for
any project that did anything, and so does this simulator.
"""

from __future__ import annotations

import ipaddress

from regionsim import web
from regionsim.services.neutron import common
from regionsim.services.neutron.common import BadRequest, route
from regionsim.services.neutron.errors import Conflict
from regionsim.services.neutron.store import base_row, touch

_PROTOCOLS = {"hopopt": 0, "icmp": 1, "igmp": 2, "ipip": 4, "tcp": 6, "egp": 8, "udp": 17,
              "ipv6-encap": 41, "ipv6-route": 43, "ipv6-frag": 44, "rsvp": 46, "gre": 47,
              "esp": 50, "ah": 51, "ipv6-icmp": 58, "icmpv6": 58, "ipv6-nonxt": 59,
              "ipv6-opts": 60, "ospf": 89, "pgm": 113, "vrrp": 112, "sctp": 132, "dccp": 33,
              "udplite": 136}
_PORT_PROTOCOLS = frozenset({6, 17, 33, 132, 136})
_ICMP = frozenset({1, 58})

SG_CREATE = frozenset({"name", "description", "stateful", "project_id", "tenant_id", "tags"})
SG_UPDATE = frozenset({"name", "description", "stateful"})
RULE_CREATE = frozenset({"security_group_id", "direction", "ethertype", "protocol",
                         "port_range_min", "port_range_max", "remote_ip_prefix",
                         "remote_group_id", "remote_address_group_id", "description",
                         "project_id", "tenant_id"})


def _add_rule(state, sg: dict, project_id: str, **fields) -> dict:
    row = base_row(state.region.new_id(), project_id)
    del row["tags"]
    row.update({"security_group_id": sg["id"], "direction": "ingress", "ethertype": "IPv4",
                "protocol": None, "port_range_min": None, "port_range_max": None,
                "remote_ip_prefix": None, "normalized_cidr": None, "remote_group_id": None,
                "remote_address_group_id": None,
                "belongs_to_default_sg": sg["_default"]})
    row.update(fields)
    state.security_group_rules.add(row)
    sg["_rules"][row["id"]] = None
    return row


def _new_group(state, project_id: str, name: str, description: str, default: bool) -> dict:
    sg = base_row(state.region.new_id(), project_id)
    sg.update({"name": name, "description": description, "stateful": True, "shared": False,
               "_rules": {}, "_default": default})
    state.security_groups.add(sg)
    for ethertype in ("IPv4", "IPv6"):
        _add_rule(state, sg, project_id, direction="egress", ethertype=ethertype)
    if default:
        state.default_sg[project_id] = sg["id"]
        for ethertype in ("IPv4", "IPv6"):
            _add_rule(state, sg, project_id, direction="ingress", ethertype=ethertype,
                      remote_group_id=sg["id"])
    return sg


def ensure_default(state, project_id: str) -> str | None:
    """The id of the project's ``default`` group, created on first use."""
    if not project_id:
        return None
    sg_id = state.default_sg.get(project_id)
    if sg_id is None or sg_id not in state.security_groups.rows:
        sg_id = _new_group(state, project_id, "default", "Default security group", True)["id"]
    return sg_id


def sg_view(state, sg: dict, caller) -> dict:
    body = common.view(sg, caller)
    rules = state.security_group_rules.rows
    body["security_group_rules"] = [common.view(rules[i], caller) for i in sg["_rules"]]
    return body


def visible_group(state, sg_id: str, caller) -> dict:
    return common.visible_row(state.security_groups, sg_id, caller, "security_group")


def delete_group(state, sg: dict) -> None:
    for rule in list(state.security_group_rules.rows.values()):
        if rule["remote_group_id"] == sg["id"] and rule["security_group_id"] != sg["id"]:
            _remove_rule(state, rule)
    for rule_id in list(sg["_rules"]):
        state.security_group_rules.remove(rule_id)
    state.security_groups.remove(sg["id"])
    if state.default_sg.get(sg["project_id"]) == sg["id"]:
        del state.default_sg[sg["project_id"]]


def _remove_rule(state, rule: dict) -> None:
    state.security_group_rules.remove(rule["id"])
    sg = state.security_groups.get(rule["security_group_id"])
    if sg is not None:
        sg["_rules"].pop(rule["id"], None)


# -- rule validation --------------------------------------------------------

def _protocol(value) -> tuple[object, int | None]:
    """The protocol as stored (name or number text) and its number for comparisons."""
    if value is None or value == "any":
        return None, None
    text = str(value).lower()
    if text in _PROTOCOLS:
        return text, _PROTOCOLS[text]
    if text.isdigit() and 0 <= int(text) <= 255:
        return text, int(text)
    raise BadRequest(f"Security group rule protocol {value} not supported. Only protocol values "
                     f"{sorted(_PROTOCOLS)} and integer representations [0 to 255] are supported.",
                     "SecurityGroupRuleInvalidProtocol")


def _port(value, attr: str) -> int | None:
    if value is None:
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid input for {attr}. Reason: '{value}' is not a valid "
                         "integer.") from None
    if not 0 <= number <= 65535:
        raise BadRequest(f"Invalid value for port {value}", "SecurityGroupInvalidPortValue")
    return number


def _check_ports(number: int | None, low: int | None, high: int | None) -> None:
    if low is None and high is None:
        return
    if number is None:
        raise BadRequest("Must also specify protocol if port range is given.",
                         "SecurityGroupProtocolRequiredWithPorts")
    if number in _PORT_PROTOCOLS:
        if low is None or high is None or low > high or low == 0:
            raise BadRequest("For TCP/UDP protocols, port_range_min must be <= port_range_max",
                             "SecurityGroupInvalidPortRange")
    elif number in _ICMP:
        for attr, value in (("type", low), ("code", high)):
            if value is not None and not 0 <= value <= 255:
                raise BadRequest(f"Invalid value for ICMP {attr} (port-range-"
                                 f"{'min' if attr == 'type' else 'max'}) {value}. It must be "
                                 "0 to 255.", "SecurityGroupInvalidIcmpValue")
        if low is None and high is not None:
            raise BadRequest(f"ICMP code (port-range-max) {high} is provided but ICMP type "
                             "(port-range-min) is missing.", "SecurityGroupMissingIcmpType")
    else:
        raise BadRequest(f"Invalid protocol {number} for port range, only supported for TCP, "
                         "UDP, UDPLITE, SCTP and DCCP", "SecurityGroupInvalidProtocolForPortRange")


def _rule_key(rule: dict) -> tuple:
    _, number = _protocol(rule["protocol"])
    cidr = rule["normalized_cidr"]
    if cidr in ("0.0.0.0/0", "::/0"):
        cidr = None
    return (rule["security_group_id"], rule["direction"], rule["ethertype"], number,
            rule["port_range_min"], rule["port_range_max"], cidr, rule["remote_group_id"])


def create_rule(state, caller, body: dict) -> dict:
    common.check_attrs(body, RULE_CREATE, frozenset(), caller, "create_security_group_rule")
    common.owner_for_create(dict(body), caller)
    sg_id = body.get("security_group_id")
    if not sg_id:
        raise BadRequest("Failed to parse request. Required attribute 'security_group_id' not "
                         "specified")
    sg = visible_group(state, sg_id, caller)
    direction = body.get("direction")
    if direction not in ("ingress", "egress"):
        raise BadRequest(f"Invalid input for direction. Reason: {direction} is not in "
                         "['ingress', 'egress'].")
    ethertype = body.get("ethertype") or "IPv4"
    if ethertype not in ("IPv4", "IPv6"):
        raise BadRequest(f"Invalid input for ethertype. Reason: {ethertype} is not in "
                         "['IPv4', 'IPv6'].")
    protocol, number = _protocol(body.get("protocol"))
    low = _port(body.get("port_range_min"), "port_range_min")
    high = _port(body.get("port_range_max"), "port_range_max")
    _check_ports(number, low, high)
    if number in _PORT_PROTOCOLS and low is not None and low == high == 0:
        low = high = None
    prefix, remote_group = body.get("remote_ip_prefix"), body.get("remote_group_id")
    if prefix is not None and remote_group is not None:
        raise BadRequest("Only remote_ip_prefix or remote_group_id may be provided.",
                         "SecurityGroupRemoteGroupAndRemoteIpPrefix")
    normalized = None
    if prefix is not None:
        try:
            net = ipaddress.ip_network(str(prefix), strict=False)
        except ValueError:
            raise BadRequest(f"Invalid input for remote_ip_prefix. Reason: '{prefix}' is not a "
                             "valid IP subnet.") from None
        if f"IPv{net.version}" != ethertype:
            raise BadRequest(f"Conflicting value ethertype {ethertype} for CIDR {prefix}",
                             "SecurityGroupRuleParameterConflict")
        normalized = str(net)
    if remote_group is not None:
        visible_group(state, remote_group, caller)
    fields = {"direction": direction, "ethertype": ethertype, "protocol": protocol,
              "port_range_min": low, "port_range_max": high, "remote_ip_prefix": prefix,
              "normalized_cidr": normalized, "remote_group_id": remote_group,
              "description": common.to_str(body.get("description", ""), "description"),
              "security_group_id": sg["id"]}
    key = _rule_key(fields)
    for rule_id in sg["_rules"]:
        if _rule_key(state.security_group_rules.rows[rule_id]) == key:
            raise Conflict(f"Security group rule already exists. Rule id is {rule_id}.",
                           "SecurityGroupRuleExists")
    state.check_quota(sg["project_id"], {"security_group_rule": 1})
    fields.pop("security_group_id")
    row = _add_rule(state, sg, sg["project_id"], **fields)
    touch(sg)
    return row


# -- routes -----------------------------------------------------------------

@route("/v2.0/security-groups", ["GET"])
def list_security_groups():
    st, caller = common.state(), web.caller()
    ensure_default(st, caller.project_id)
    rows = common.listable_rows(st.security_groups, caller)
    return common.listing("security_groups", common.filtered(rows),
                          lambda sg: sg_view(st, sg, caller))


@route("/v2.0/security-groups", ["POST"])
def create_security_group():
    st, caller = common.state(), web.caller()
    body = common.resource_body("security_group")
    common.check_attrs(body, SG_CREATE, frozenset(), caller, "create_security_group")
    project = common.owner_for_create(body, caller)
    name = common.to_str(body.get("name", ""), "name")
    st.check_quota(project, {"security_group": 1})
    ensure_default(st, project)
    if name == "default":
        raise Conflict("Default security group already exists.",
                       "SecurityGroupDefaultAlreadyExists")
    sg = _new_group(st, project, name, common.to_str(body.get("description", ""), "description"),
                    False)
    if "stateful" in body:
        sg["stateful"] = common.to_bool(body["stateful"], "stateful")
    return common.shown("security_group", sg_view(st, sg, caller), 201)


@route("/v2.0/security-groups/<sg_id>", ["GET"])
def show_security_group(sg_id):
    st, caller = common.state(), web.caller()
    sg = visible_group(st, sg_id, caller)
    return common.shown("security_group", sg_view(st, sg, caller))


@route("/v2.0/security-groups/<sg_id>", ["PUT"])
def update_security_group(sg_id):
    st, caller = common.state(), web.caller()
    sg = visible_group(st, sg_id, caller)
    body = common.resource_body("security_group")
    common.check_attrs(body, SG_UPDATE, frozenset(), caller, "update_security_group")
    if "name" in body:
        name = common.to_str(body["name"], "name")
        if sg["_default"] and name != "default":
            raise Conflict("Updating default security group not allowed.",
                           "SecurityGroupCannotUpdateDefault")
        sg["name"] = name
    if "description" in body:
        sg["description"] = common.to_str(body["description"], "description")
    if "stateful" in body:
        sg["stateful"] = common.to_bool(body["stateful"], "stateful")
    touch(sg)
    return common.shown("security_group", sg_view(st, sg, caller))


@route("/v2.0/security-groups/<sg_id>", ["DELETE"])
def delete_security_group(sg_id):
    st, caller = common.state(), web.caller()
    sg = visible_group(st, sg_id, caller)
    if sg["_default"] and not caller.is_admin:
        raise Conflict("Insufficient rights for removing default security group.",
                       "SecurityGroupCannotRemoveDefault")
    if any(sg_id in port["security_groups"] for port in st.ports.rows.values()):
        raise Conflict(f"Security Group {sg_id} in use.", "SecurityGroupInUse")
    delete_group(st, sg)
    return web.json_response(None, 204)


@route("/v2.0/security-group-rules", ["GET"])
def list_security_group_rules():
    st, caller = common.state(), web.caller()
    rows = common.listable_rows(st.security_group_rules, caller)
    return common.listing("security_group_rules", common.filtered(rows),
                          lambda rule: common.view(rule, caller))


@route("/v2.0/security-group-rules", ["POST"])
def create_security_group_rule():
    st, caller = common.state(), web.caller()
    row = create_rule(st, caller, common.resource_body("security_group_rule"))
    return common.shown("security_group_rule", common.view(row, caller), 201)


def _visible_rule(st, rule_id, caller) -> dict:
    return common.visible_row(st.security_group_rules, rule_id, caller, "security_group_rule")


@route("/v2.0/security-group-rules/<rule_id>", ["GET"])
def show_security_group_rule(rule_id):
    st, caller = common.state(), web.caller()
    rule = _visible_rule(st, rule_id, caller)
    return common.shown("security_group_rule", common.view(rule, caller))


@route("/v2.0/security-group-rules/<rule_id>", ["DELETE"])
def delete_security_group_rule(rule_id):
    st, caller = common.state(), web.caller()
    rule = _visible_rule(st, rule_id, caller)
    _remove_rule(st, rule)
    sg = st.security_groups.get(rule["security_group_id"])
    if sg is not None:
        touch(sg)
    return web.json_response(None, 204)

