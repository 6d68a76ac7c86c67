"""Who may manage global networks, their ports and virtual IPs, cross-region
security group rules and global routers: the project's members (and
administrators), like the Neutron resources they are made of."""

from oslo_policy import policy

from kingbird.api import policy_base as base

NETWORK = "kingbird:global_network"
RULE = "kingbird:global_sg_rule"
ROUTER = "kingbird:global_router"
_NETS = "/v1.0/{tenant}/os-global-networks"
_NET = f"{_NETS}/{{network_id}}"
_RULES = "/v1.0/{tenant}/os-global-security-group-rules"
_ROUTERS = "/v1.0/{tenant}/os-global-routers"


def _rule(name: str, description: str, method: str, path: str):
    # Reading is for anyone in the project; changing, for its members (not readers).
    check = base.ADMIN_OR_OWNER if method == "GET" else base.ADMIN_OR_MEMBER
    return policy.DocumentedRuleDefault(name, check, description,
                                        [{"method": method, "path": path}])


rules = [
    _rule(f"{NETWORK}:create", "Create a global network spanning regions.", "POST", _NETS),
    _rule(f"{NETWORK}:list", "List the project's global networks.", "GET", _NETS),
    _rule(f"{NETWORK}:show", "Show a global network.", "GET", _NET),
    _rule(f"{NETWORK}:delete", "Delete a global network and its regional parts.",
          "DELETE", _NET),
    _rule(f"{NETWORK}:list_ports", "List the ports of a global network and their shadows.",
          "GET", f"{_NET}/ports"),
    _rule(f"{NETWORK}:attach_port", "Attach (shadow at once) a port of a global network.",
          "POST", f"{_NET}/ports"),
    _rule(f"{NETWORK}:create_vip", "Reserve a virtual IP on a global network.",
          "POST", f"{_NET}/vips"),
    _rule(f"{NETWORK}:list_vips", "List the virtual IPs of a global network.",
          "GET", f"{_NET}/vips"),
    _rule(f"{NETWORK}:show_vip", "Show a virtual IP.", "GET", f"{_NET}/vips/{{vip_id}}"),
    _rule(f"{NETWORK}:update_vip", "Change the ports allowed a virtual IP.",
          "PUT", f"{_NET}/vips/{{vip_id}}"),
    _rule(f"{NETWORK}:delete_vip", "Release a virtual IP.", "DELETE", f"{_NET}/vips/{{vip_id}}"),
    _rule(f"{RULE}:create", "Create a security group rule whose remote group is in another "
          "region.", "POST", _RULES),
    _rule(f"{RULE}:list", "List the project's cross-region rules.", "GET", _RULES),
    _rule(f"{RULE}:show", "Show a cross-region rule.", "GET", f"{_RULES}/{{rule_id}}"),
    _rule(f"{RULE}:delete", "Delete a cross-region rule.", "DELETE", f"{_RULES}/{{rule_id}}"),
    _rule(f"{ROUTER}:create", "Create routers in regions, routed through a transit network.",
          "POST", _ROUTERS),
    _rule(f"{ROUTER}:list", "List the project's global routers.", "GET", _ROUTERS),
    _rule(f"{ROUTER}:show", "Show a global router.", "GET", f"{_ROUTERS}/{{router_id}}"),
    _rule(f"{ROUTER}:delete", "Delete a global router.", "DELETE", f"{_ROUTERS}/{{router_id}}"),
]


def list_rules():
    return rules
