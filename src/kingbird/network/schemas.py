"""JSON Schemas of the cross-region networking routes: the request bodies that
``kingbird.network.validation`` checks and ``/openapi.json`` publishes, the
answers, and the OpenAPI descriptions (kept out of the handler modules, which
they would double in size)."""

from __future__ import annotations

from kingbird.api.pagination import QUERY, with_links
from kingbird.api.routing import describe_both
from kingbird.network import secgroups

MAX_NAME = 255
MAX_ID = 64
# Largest VIP block a request may ask for (the rest of a big IPv6 CIDR stays in pools).
MAX_RESERVED = 4096

_NAME = {"type": "string", "maxLength": MAX_NAME}
_REGION = {"type": "string", "minLength": 1, "maxLength": MAX_NAME}
# An id goes into the path of a Neutron URL: no blanks, no separators.
_ID = {"type": "string", "minLength": 1, "maxLength": MAX_ID, "pattern": r"^[^\s/?#]+$",
       "x-message": {"pattern": "'$field' $value is not a valid id"}}


def _regions(minimum: int) -> dict:
    return {"type": "array", "minItems": minimum, "uniqueItems": True, "items": _REGION,
            "x-message": {"minItems": f"'$field' must name at least {minimum} region(s)",
                          "uniqueItems": "'$field' names a region twice"}}


def _only(wrapper: str, inner: dict) -> dict:
    """``{wrapper: inner}`` and nothing else."""
    return {"type": "object", "required": [wrapper], "additionalProperties": False,
            "properties": {wrapper: inner},
            "x-message": f"request body must be an object with only '{wrapper}'"}


CREATE_NETWORK = _only("global_network", {
    "type": "object", "required": ["cidr", "regions"], "additionalProperties": False,
    "properties": {"name": _NAME, "cidr": {"type": "string"}, "regions": _regions(1),
                   "gateway_regions": _regions(0),
                   "reserved_addresses": {"type": "integer", "minimum": 0,
                                          "maximum": MAX_RESERVED}}})
PORT_REF = {"type": "object", "required": ["region", "port_id"], "additionalProperties": False,
            "properties": {"region": _REGION, "port_id": _ID}}
ATTACH_PORT = _only("port", PORT_REF)
# A VIP is allowed on at least one port: one on none would only hold a reservation
# port in every region (in Kingbird's service project) for nothing.
_PORT_REFS = {"type": "array", "uniqueItems": True, "minItems": 1, "items": PORT_REF,
              "x-message": {"type": "'$field' must be a list of {'region', 'port_id'}",
                            "uniqueItems": "'$field' names a port twice",
                            "minItems": "'$field' must name at least one port"}}
CREATE_VIP = _only("vip", {
    "type": "object", "required": ["ports"], "additionalProperties": False,
    "properties": {"ip_address": {"type": "string", "minLength": 1, "maxLength": 64,
                                  "nullable": True},
                   "ports": _PORT_REFS}})
UPDATE_VIP = _only("vip", {"type": "object", "required": ["ports"],
                           "additionalProperties": False, "properties": {"ports": _PORT_REFS}})
_PORT_NUMBER = {"type": "integer", "minimum": 0, "maximum": 65535, "nullable": True}
CREATE_SG_RULE = _only("global_security_group_rule", {
    "type": "object",
    "required": ["region", "security_group_id", "direction", "remote_region",
                 "remote_group_id"],
    "additionalProperties": False,
    "properties": {
        "region": _REGION, "security_group_id": _ID,
        "direction": {"type": "string", "enum": list(secgroups.DIRECTIONS)},
        "ethertype": {"type": "string", "enum": list(secgroups.ETHERTYPES),
                      "default": "IPv4"},
        "protocol": {"oneOf": [{"type": "integer", "minimum": 0, "maximum": 255},
                               {"type": "string", "minLength": 1, "maxLength": 32}],
                     "nullable": True,
                     "x-message": "'$field' must be a protocol name or number (0-255), "
                                  "got $value"},
        "port_range_min": _PORT_NUMBER, "port_range_max": _PORT_NUMBER,
        "remote_region": _REGION, "remote_group_id": _ID}})
_TRANSIT = {"oneOf": [
    {"type": "object", "required": ["global_network_id"], "additionalProperties": False,
     "properties": {"global_network_id": _ID}},
    {"type": "object", "required": ["networks"], "additionalProperties": False,
     "properties": {"networks": {"type": "object", "additionalProperties": _ID,
                                 "x-message": "'$field' must map regions to network ids"}}}],
    "x-message": "'$field' must be {'global_network_id': id} or {'networks': "
                 "{region: network id}}"}
CREATE_ROUTER = _only("global_router", {
    "type": "object", "required": ["transit", "subnets"], "additionalProperties": False,
    "properties": {"name": _NAME, "transit": _TRANSIT,
                   "subnets": {"type": "object", "minProperties": 2, "additionalProperties": _ID,
                               "x-message": "'$field' must map at least two regions to a "
                                            "subnet id each"}}})

# --- answers ------------------------------------------------------------------------

_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}
_STATUS = {"type": "string", "enum": ["BUILD", "ACTIVE", "ERROR", "DELETING"]}
_ERROR = {"type": "object"}
_REGIONS = {"type": "array", "items": _STR}

_NETWORK = {"type": "object", "required": ["id", "cidr", "regions", "status"], "properties": {
    "id": _STR, "name": _STR, "project_id": _STR, "cidr": _STR, "ip_version": {"type": "integer"},
    "reserved_addresses": {"type": "integer"}, "gateway_regions": _REGIONS,
    "network_type": _STR, "segmentation_id": {"type": "integer", "nullable": True},
    "regions": {"type": "object", "additionalProperties": {"type": "object", "properties": {
        "network_id": _NSTR, "subnet_id": _NSTR, "gateway_ip": _NSTR,
        "allocation_pools": {"type": "array"}, "tunnel_endpoint": _NSTR,
        "status": _STR, "error": _NSTR}}},
    "status": _STATUS, "error": _NSTR, "created_at": _TIME, "updated_at": _TIME}}
_NETWORK_BODY = {"type": "object", "required": ["global_network"],
                 "properties": {"global_network": _NETWORK}}
_PORT = {"type": "object", "properties": {
    "region": _STR, "port_id": _STR, "mac_address": _NSTR, "fixed_ips": {"type": "array"},
    "allowed_address_pairs": {"type": "array"}, "device_owner": _NSTR,
    "source": {"type": "string", "enum": ["polled", "attached"]},
    "shadows": {"type": "object"},
    "status": {"type": "string", "enum": ["PENDING", "ACTIVE", "ERROR"]}, "error": _NSTR}}
_VIP = {"type": "object", "properties": {
    "id": _STR, "network_id": _STR, "ip_address": _STR,
    "ports": {"type": "array", "items": PORT_REF}, "reservations": {"type": "object"},
    "status": _STATUS, "error": _NSTR}}
_VIP_BODY = {"type": "object", "required": ["vip"], "properties": {"vip": _VIP}}


def describe_networks(base: str) -> None:
    net = f"{base}/<uuid:network_id>"
    tag = "global networks"
    describe_both("POST", base, "Create a global network over several regions", tag,
                  request=CREATE_NETWORK, responses={202: _NETWORK_BODY, 403: _ERROR,
                                                     503: _ERROR})
    describe_both("GET", base, "The project's global networks", tag, query=QUERY, responses={
        200: with_links({"type": "object", "required": ["global_networks"], "properties": {
            "global_networks": {"type": "array", "items": _NETWORK}}}, "global_networks")})
    describe_both("GET", net, "A global network and its regional parts", tag,
                  responses={200: _NETWORK_BODY})
    describe_both("DELETE", net, "Delete a global network (refused while ports exist)", tag,
                  responses={202: _NETWORK_BODY, 409: _ERROR, 502: _ERROR})
    describe_both("GET", f"{net}/ports", "Ports of the network and their shadow ports", tag,
                  responses={200: {"type": "object", "required": ["ports"], "properties": {
                      "ports": {"type": "array", "items": _PORT}}}})
    describe_both("POST", f"{net}/ports", "Attach a port now (shadow it without waiting "
                  "for the next poll)", tag,
                  request=ATTACH_PORT,
                  responses={202: {"type": "object", "properties": {"port": _PORT}},
                             409: _ERROR, 502: _ERROR})
    describe_both("POST", f"{net}/vips", "Reserve a virtual IP and allow it on ports", tag,
                  request=CREATE_VIP, responses={202: _VIP_BODY, 403: _ERROR, 409: _ERROR})
    describe_both("GET", f"{net}/vips", "The network's virtual IPs", tag, query=QUERY,
                  responses={200: with_links({"type": "object", "required": ["vips"],
                                              "properties": {"vips": {"type": "array",
                                                                      "items": _VIP}}},
                                             "vips")})
    describe_both("GET", f"{net}/vips/<uuid:vip_id>", "A virtual IP", tag,
                  responses={200: _VIP_BODY})
    describe_both("PUT", f"{net}/vips/<uuid:vip_id>", "Change the ports allowed a virtual IP", tag,
                  request=UPDATE_VIP, responses={202: _VIP_BODY, 409: _ERROR})
    describe_both("DELETE", f"{net}/vips/<uuid:vip_id>", "Release a virtual IP", tag,
                  responses={202: _VIP_BODY})


_RULE = {"type": "object", "properties": {
    "id": _STR, "project_id": _STR, "region": _STR, "security_group_id": _STR,
    "direction": {"type": "string", "enum": ["ingress", "egress"]},
    "ethertype": {"type": "string", "enum": ["IPv4", "IPv6"]}, "protocol": _NSTR,
    "port_range_min": {"type": "integer", "nullable": True},
    "port_range_max": {"type": "integer", "nullable": True},
    "remote_region": _STR, "remote_group_id": _STR,
    "expanded": {"type": "array", "items": _STR}, "status": _STATUS, "error": _NSTR}}
_RULE_BODY = {"type": "object", "required": ["global_security_group_rule"],
              "properties": {"global_security_group_rule": _RULE}}
_ROUTER = {"type": "object", "properties": {
    "id": _STR, "project_id": _STR, "name": _STR, "transit_network_id": _NSTR,
    "transit_networks": {"type": "object"}, "subnets": {"type": "object"},
    "regions": {"type": "object"}, "status": _STATUS, "error": _NSTR}}
_ROUTER_BODY = {"type": "object", "required": ["global_router"],
                "properties": {"global_router": _ROUTER}}


def describe_interconnect(rules: str, routers: str) -> None:
    tag = "global networks"
    describe_both("POST", rules, "A rule whose remote group is in another region, kept "
                  "expanded into CIDR rules", tag, request=CREATE_SG_RULE,
                  responses={202: _RULE_BODY, 403: _ERROR, 502: _ERROR})
    describe_both("GET", rules, "The project's cross-region security group rules", tag,
                  query=QUERY, responses={200: with_links({"type": "object", "properties": {
                      "global_security_group_rules": {"type": "array", "items": _RULE}}},
                      "global_security_group_rules")})
    describe_both("GET", f"{rules}/<uuid:rule_id>", "A cross-region security group rule", tag,
                  responses={200: _RULE_BODY})
    describe_both("DELETE", f"{rules}/<uuid:rule_id>", "Delete a cross-region rule and its "
                  "expansion", tag, responses={202: _RULE_BODY})
    describe_both("POST", routers, "Routers in each region, routed through a transit "
                  "network (L3 option)", tag, request=CREATE_ROUTER,
                  responses={202: _ROUTER_BODY, 403: _ERROR, 502: _ERROR})
    describe_both("GET", routers, "The project's global routers", tag, query=QUERY,
                  responses={200: with_links({"type": "object", "properties": {
                      "global_routers": {"type": "array", "items": _ROUTER}}},
                      "global_routers")})
    describe_both("GET", f"{routers}/<uuid:router_id>", "A global router", tag,
                  responses={200: _ROUTER_BODY})
    describe_both("DELETE", f"{routers}/<uuid:router_id>", "Delete a global router", tag,
                  responses={202: _ROUTER_BODY})
