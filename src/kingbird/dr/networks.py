"""Where a recorded port goes in the recovery region (pure).

Network ids differ from region to region, so a port is recreated on the
recovery region's network *of the same name* (the project's own, or a shared
one), in the subnet that holds its recorded fixed IP: the same addresses on the
same networks. A port whose network does not exist there is left out (reported,
not fatal: the admin chose to recover anyway).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class PortPlacement:
    """A recorded port placed in the recovery region."""

    network_id: str
    fixed_ips: list[dict[str, str]]  # [{"subnet_id", "ip_address"}]


def _contains(cidr: str, address: str) -> bool:
    try:
        return ipaddress.ip_address(address) in ipaddress.ip_network(cidr, strict=False)
    except ValueError:
        return False


def place(port: Mapping[str, Any], networks: Sequence[Mapping[str, Any]],
          project_id: str) -> PortPlacement | None:
    """The network and subnets of ``port`` (as the shape records it) among the
    recovery region's ``networks`` (each with its ``subnets`` bodies); None when
    no network of that name holds its addresses.

    The project's own network wins over a shared one of the same name.
    """
    named = [n for n in networks if port.get("network_name") and
             n.get("name") == port["network_name"]]
    named.sort(key=lambda n: (n.get("project_id") != project_id, n["id"]))
    for network in named:
        fixed: list[dict[str, str]] = []
        for ip in port["fixed_ips"]:
            subnet = next((s for s in network.get("subnets", [])
                           if _contains(s["cidr"], ip["ip_address"])), None)
            if subnet is None:
                break
            fixed.append({"subnet_id": subnet["id"], "ip_address": ip["ip_address"]})
        else:
            return PortPlacement(network["id"], fixed)
    return None
