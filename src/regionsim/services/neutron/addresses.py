"""Fixed IPs of ports: taken from the subnets' pools or checked when requested.

A subnet's ``_used`` maps each allocated address (an integer) to its port, so a
conflict names the holder and a release is a dict pop.
"""

from __future__ import annotations

import ipaddress

from regionsim.services.neutron import ipam
from regionsim.services.neutron.errors import (
    BadRequest,
    Conflict,
    InvalidInput,
    NoFreeIP,
    not_found,
)

# -- addresses --------------------------------------------------------------

def release(st, port: dict) -> None:
    """Give back the addresses of ``port`` (any dict with ``fixed_ips``)."""
    for entry in port["fixed_ips"]:
        subnet = st.subnets.get(entry["subnet_id"])
        if subnet is not None:
            subnet["_used"].pop(int(ipaddress.ip_address(entry["ip_address"])), None)


def _subnet_for(st, net: dict, request_: dict) -> dict:
    subnet_id, address = request_.get("subnet_id"), request_.get("ip_address")
    if subnet_id is not None:
        subnet = st.subnets.get(subnet_id)
        if subnet is None:
            raise not_found("subnet", subnet_id)
        if subnet["network_id"] != net["id"]:
            raise InvalidInput(f"Failed to create port on network {net['id']}, because fixed_ips "
                               f"included invalid subnet {subnet_id}")
        return subnet
    if address is None:
        raise InvalidInput(f"Invalid data format for fixed IP: '{request_}'")
    value = ipaddress.ip_address(str(address)) if _is_ip(address) else None
    for candidate in net["subnets"]:
        subnet = st.subnets.rows[candidate]
        if value is not None and value in subnet["_net"]:
            return subnet
    raise BadRequest(f"IP address {address} is not a valid IP for any of the subnets on the "
                     "specified network.", "InvalidIpForNetwork")


def _is_ip(text) -> bool:
    try:
        ipaddress.ip_address(str(text))
    except ValueError:
        return False
    return True


def _take(subnet: dict, port_id: str, address, router_port: bool) -> dict:
    cidr = subnet["_net"]
    if address is None:
        value = ipam.next_free(subnet["_pools"], subnet["_used"])
        if value is None:
            raise NoFreeIP(subnet["network_id"])
    else:
        if not _is_ip(address) or ipaddress.ip_address(str(address)) not in cidr:
            raise BadRequest(f"IP address {address} is not a valid IP for the specified subnet.",
                             "InvalidIpForSubnet")
        value = int(ipaddress.ip_address(str(address)))
        first, last = ipam.usable_range(cidr)
        if not first <= value <= last:
            raise BadRequest(f"IP address {address} is not a valid IP for the specified subnet.",
                             "InvalidIpForSubnet")
        if value in subnet["_used"] or (value == subnet["_gw"] and not router_port):
            raise Conflict(f"IP address {address} already allocated in subnet {subnet['id']}",
                           "IpAddressAlreadyAllocated")
    subnet["_used"][value] = port_id
    return {"subnet_id": subnet["id"], "ip_address": ipam.to_text(value, cidr)}


def allocate(st, net: dict, port_id: str, requests: list | None, router_port: bool) -> list:
    """Fixed IPs for a port: the requested ones, or one IPv4 plus one per IPv6 subnet."""
    taken: list[dict] = []
    try:
        if requests is None:
            subnets = [st.subnets.rows[i] for i in net["subnets"]]
            v4 = [s for s in subnets if s["ip_version"] == 4]
            for subnet in v4:
                if ipam.next_free(subnet["_pools"], subnet["_used"]) is not None:
                    taken.append(_take(subnet, port_id, None, router_port))
                    break
            else:
                if v4:
                    raise NoFreeIP(net["id"])
            for subnet in subnets:
                if subnet["ip_version"] == 6:
                    taken.append(_take(subnet, port_id, None, router_port))
        else:
            for request_ in requests:
                if not isinstance(request_, dict) or not set(request_) <= {"subnet_id",
                                                                           "ip_address"}:
                    raise InvalidInput(f"Invalid data format for fixed IP: '{request_}'")
                subnet = _subnet_for(st, net, request_)
                taken.append(_take(subnet, port_id, request_.get("ip_address"), router_port))
    except Exception:
        release(st, {"fixed_ips": taken})
        raise
    return taken
