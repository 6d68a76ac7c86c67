"""OpenAPI descriptions of the cross-region networking routes (kept out of the
handler modules, which they would double in size)."""

from __future__ import annotations

from kingbird.api.routing import describe_both

_STR = {"type": "string"}
_NSTR = {"type": "string", "nullable": True}
_TIME = {"type": "string", "format": "date-time"}
_STATUS = {"type": "string", "enum": ["BUILD", "ACTIVE", "ERROR", "DELETING"]}
_ERROR = {"type": "object"}
_REGIONS = {"type": "array", "items": _STR}
_PORT_REF = {"type": "object", "required": ["region", "port_id"], "additionalProperties": False,
             "properties": {"region": _STR, "port_id": _STR}}

_NETWORK = {"type": "object", "required": ["id", "cidr", "regions", "status"], "properties": {
    "id": _STR, "name": _STR, "project_id": _STR, "cidr": _STR, "ip_version": {"type": "integer"},
    "reserved_addresses": {"type": "integer"}, "gateway_regions": _REGIONS,
    "network_type": _STR, "segmentation_id": {"type": "integer"},
    "regions": {"type": "object", "additionalProperties": {"type": "object", "properties": {
        "network_id": _NSTR, "subnet_id": _NSTR, "gateway_ip": _NSTR,
        "allocation_pools": {"type": "array"}, "tunnel_endpoint": _NSTR,
        "status": _STR, "error": _NSTR}}},
    "status": _STATUS, "error": _NSTR, "created_at": _TIME, "updated_at": _TIME}}
_NETWORK_BODY = {"type": "object", "required": ["global_network"],
                 "properties": {"global_network": _NETWORK}}
_CREATE_NETWORK = {"type": "object", "required": ["global_network"],
                   "additionalProperties": False, "properties": {"global_network": {
                       "type": "object", "required": ["cidr", "regions"],
                       "additionalProperties": False, "properties": {
                           "name": _STR, "cidr": _STR, "regions": _REGIONS,
                           "gateway_regions": _REGIONS,
                           "reserved_addresses": {"type": "integer", "minimum": 0}}}}}
_PORT = {"type": "object", "properties": {
    "region": _STR, "port_id": _STR, "mac_address": _NSTR, "fixed_ips": {"type": "array"},
    "allowed_address_pairs": {"type": "array"}, "device_owner": _NSTR,
    "source": {"type": "string", "enum": ["polled", "attached"]},
    "shadows": {"type": "object"},
    "status": {"type": "string", "enum": ["PENDING", "ACTIVE", "ERROR"]}, "error": _NSTR}}
_VIP = {"type": "object", "properties": {
    "id": _STR, "network_id": _STR, "ip_address": _STR,
    "ports": {"type": "array", "items": _PORT_REF}, "reservations": {"type": "object"},
    "status": _STATUS, "error": _NSTR}}
_VIP_BODY = {"type": "object", "required": ["vip"], "properties": {"vip": _VIP}}


def describe_networks(base: str) -> None:
    net = f"{base}/<network_id>"
    tag = "global networks"
    describe_both("POST", base, "Create a global network over several regions", tag,
                  request=_CREATE_NETWORK, responses={202: _NETWORK_BODY, 503: _ERROR})
    describe_both("GET", base, "The project's global networks", tag, responses={
        200: {"type": "object", "required": ["global_networks"],
              "properties": {"global_networks": {"type": "array", "items": _NETWORK}}}})
    describe_both("GET", net, "A global network and its regional parts", tag,
                  responses={200: _NETWORK_BODY})
    describe_both("DELETE", net, "Delete a global network (refused while ports exist)", tag,
                  responses={202: _NETWORK_BODY, 409: _ERROR, 502: _ERROR})
    describe_both("GET", f"{net}/ports", "Ports of the network and their shadow ports", tag,
                  responses={200: {"type": "object", "required": ["ports"], "properties": {
                      "ports": {"type": "array", "items": _PORT}}}})
    describe_both("POST", f"{net}/ports", "Attach a port now (shadow it without waiting "
                  "for the next poll)", tag,
                  request={"type": "object", "required": ["port"], "additionalProperties": False,
                           "properties": {"port": _PORT_REF}},
                  responses={202: {"type": "object", "properties": {"port": _PORT}},
                             409: _ERROR, 502: _ERROR})
    vip_request = {"type": "object", "required": ["vip"], "additionalProperties": False,
                   "properties": {"vip": {"type": "object", "additionalProperties": False,
                                          "properties": {"ip_address": _STR, "ports": {
                                              "type": "array", "items": _PORT_REF}}}}}
    describe_both("POST", f"{net}/vips", "Reserve a virtual IP and allow it on ports", tag,
                  request=vip_request, responses={202: _VIP_BODY, 409: _ERROR})
    describe_both("GET", f"{net}/vips", "The network's virtual IPs", tag, responses={
        200: {"type": "object", "required": ["vips"],
              "properties": {"vips": {"type": "array", "items": _VIP}}}})
    describe_both("GET", f"{net}/vips/<vip_id>", "A virtual IP", tag,
                  responses={200: _VIP_BODY})
    describe_both("PUT", f"{net}/vips/<vip_id>", "Change the ports allowed a virtual IP", tag,
                  request=vip_request, responses={202: _VIP_BODY, 409: _ERROR})
    describe_both("DELETE", f"{net}/vips/<vip_id>", "Release a virtual IP", tag,
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
    create_rule = {"type": "object", "required": ["global_security_group_rule"],
                   "additionalProperties": False, "properties": {"global_security_group_rule": {
                       "type": "object", "additionalProperties": False,
                       "required": ["region", "security_group_id", "direction",
                                    "remote_region", "remote_group_id"],
                       "properties": {k: v for k, v in _RULE["properties"].items()
                                      if k in ("region", "security_group_id", "direction",
                                               "ethertype", "protocol", "port_range_min",
                                               "port_range_max", "remote_region",
                                               "remote_group_id")}}}}
    describe_both("POST", rules, "A rule whose remote group is in another region, kept "
                  "expanded into CIDR rules", tag, request=create_rule,
                  responses={202: _RULE_BODY, 502: _ERROR})
    describe_both("GET", rules, "The project's cross-region security group rules", tag,
                  responses={200: {"type": "object", "properties": {
                      "global_security_group_rules": {"type": "array", "items": _RULE}}}})
    describe_both("GET", f"{rules}/<rule_id>", "A cross-region security group rule", tag,
                  responses={200: _RULE_BODY})
    describe_both("DELETE", f"{rules}/<rule_id>", "Delete a cross-region rule and its "
                  "expansion", tag, responses={202: _RULE_BODY})
    create_router = {"type": "object", "required": ["global_router"],
                     "additionalProperties": False, "properties": {"global_router": {
                         "type": "object", "required": ["transit", "subnets"],
                         "additionalProperties": False, "properties": {
                             "name": _STR, "subnets": {"type": "object"},
                             "transit": {"type": "object"}}}}}
    describe_both("POST", routers, "Routers in each region, routed through a transit "
                  "network (L3 option)", tag, request=create_router,
                  responses={202: _ROUTER_BODY, 502: _ERROR})
    describe_both("GET", routers, "The project's global routers", tag,
                  responses={200: {"type": "object", "properties": {
                      "global_routers": {"type": "array", "items": _ROUTER}}}})
    describe_both("GET", f"{routers}/<router_id>", "A global router", tag,
                  responses={200: _ROUTER_BODY})
    describe_both("DELETE", f"{routers}/<router_id>", "Delete a global router", tag,
                  responses={202: _ROUTER_BODY})
