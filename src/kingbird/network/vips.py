"""Floating virtual IPs on a global network. Pure planning, no I/O.

A VIP is an address of the network's reserved block that several ports, in
different regions, are allowed to answer for (``allowed_address_pairs``): the
VNF's active and standby halves move it between them with VRRP or a gratuitous
ARP, without any API call at failover time. In every region of the network a
*reservation port* holds the address as its fixed IP, so that no region can give
it to another port.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from kingbird.network.shadows import VIP_OWNER, Port


def reservation_name(vip_id: str) -> str:
    return f"vip-{vip_id}"


def _address(pair_ip: str) -> str:
    # A pair may be written as a host prefix; a VIP is compared as a bare address.
    return pair_ip[:-3] if pair_ip.endswith("/32") else pair_ip.removesuffix("/128")


def wanted_pairs(port: Port, wanted: set[str], managed: set[str]) -> list[dict] | None:
    """The allowed address pairs ``port`` must have, or None if it has them already.

    Pairs the user set are kept; pairs of Kingbird's VIPs (``managed``) are set
    exactly to those in ``wanted``.
    """
    kept = [(ip, mac) for ip, mac in port.pairs if _address(ip) not in managed]
    held = {(_address(ip), mac) for ip, mac in port.pairs if _address(ip) in managed}
    if held == {(vip, port.mac) for vip in wanted}:
        return None
    desired = kept + [(vip, port.mac) for vip in sorted(wanted)]
    return [{"ip_address": ip, "mac_address": mac} for ip, mac in desired]


@dataclass
class ReservationPlan:
    creates: list[tuple[str, str]] = field(default_factory=list)  # (vip id, address)
    deletes: list[str] = field(default_factory=list)  # reservation port ids
    held: dict[str, str] = field(default_factory=dict)  # vip id -> port id already right


def plan_reservations(vips: Mapping[str, str], ports: Sequence[Port]) -> ReservationPlan:
    """Reservation ports to create and delete in one region.

    :param vips: vip id -> address, for every VIP that must be reserved.
    :param ports: the region's ports on the network (any owner).
    """
    plan = ReservationPlan()
    for port in ports:
        if port.device_owner != VIP_OWNER:
            continue
        address = vips.get(port.device_id)
        if address is None or port.ips != (address,) or port.device_id in plan.held:
            plan.deletes.append(port.id)
        else:
            plan.held[port.device_id] = port.id
    for vip_id, address in sorted(vips.items()):
        if vip_id not in plan.held:
            plan.creates.append((vip_id, address))
    return plan
