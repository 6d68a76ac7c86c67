"""One CIDR for a whole global network, split so that no two regions hand out the
same address. Pure functions.

The usable addresses of the CIDR are laid out as::

    [gateways][pool of region 1][pool of region 2]...[pool of region N][reserved]

Gateways come first, one per region that asked for one (each region routes
through its own gateway address, so two gateways never collide on the shared
L2). The reserved block at the end belongs to no region's pool: virtual IPs are
taken from it, so DHCP in a region can never hand a VIP out. Addresses are
handled as integers inside one ``ipaddress`` network.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# A region's pool must hold at least this many addresses to be worth creating.
MIN_POOL_SIZE = 2


class AddressingError(ValueError):
    """The CIDR, an address or the layout asked for cannot work; the message says why."""


@dataclass(frozen=True)
class RegionAddressing:
    """What one region's subnet gets: its gateway (or None) and its pools."""

    gateway_ip: str | None
    pools: tuple[tuple[str, str], ...]  # inclusive (start, end)

    def as_dict(self) -> dict:
        return {"gateway_ip": self.gateway_ip,
                "allocation_pools": [{"start": s, "end": e} for s, e in self.pools]}


def parse_cidr(text: object) -> Network:
    """The network ``text`` names, refusing host bits and single addresses.

    :raises AddressingError: not a CIDR, host bits set, or no room for hosts.
    """
    if not isinstance(text, str):
        raise AddressingError("cidr must be a string such as '198.51.100.0/24'")
    if "/" not in text:
        raise AddressingError(f"{text!r} has no prefix length: write it as address/prefix")
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        try:
            loose = ipaddress.ip_network(text, strict=False)
        except ValueError:
            raise AddressingError(f"{text!r} is not a valid CIDR") from None
        raise AddressingError(f"{text!r} has host bits set: use {loose}") from None
    if net.max_prefixlen - net.prefixlen < 2:
        raise AddressingError(f"{text} is too small for a network: use a prefix of at most "
                              f"/{net.max_prefixlen - 2}")
    return net


def usable_range(net: Network) -> tuple[int, int]:
    """First and last host address: IPv4 drops network and broadcast, IPv6 the
    subnet-router anycast address (as Neutron's IPAM does)."""
    first = int(net.network_address) + 1
    last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    return first, last


def _text(net: Network, value: int) -> str:
    return str(ipaddress.ip_address(value) if net.version == 4 else ipaddress.IPv6Address(value))


def plan_addressing(net: Network, regions: Sequence[str], gateway_regions: Sequence[str],
                    reserved: int) -> dict[str, RegionAddressing]:
    """Each region's gateway and allocation pool, disjoint across regions.

    :param regions: the regions of the global network, in the order their pools
        are laid out.
    :param gateway_regions: the regions that get a gateway, a subset of ``regions``.
    :param reserved: addresses kept out of every pool at the end of the range.
    :raises AddressingError: the CIDR leaves fewer than ``MIN_POOL_SIZE``
        addresses per region.
    """
    if not regions:
        raise AddressingError("a global network needs at least one region")
    first, last = usable_range(net)
    start = first + len(gateway_regions)
    end = last - reserved
    size = end - start + 1
    if size < MIN_POOL_SIZE * len(regions):
        raise AddressingError(
            f"{net} leaves {max(size, 0)} addresses for {len(regions)} region pools after "
            f"{len(gateway_regions)} gateway(s) and {reserved} reserved address(es); each "
            f"pool needs at least {MIN_POOL_SIZE}: use a larger CIDR or reserve fewer")
    gateways = {region: _text(net, first + i) for i, region in enumerate(gateway_regions)}
    chunk, extra = divmod(size, len(regions))
    plan: dict[str, RegionAddressing] = {}
    for index, region in enumerate(regions):
        length = chunk + (1 if index < extra else 0)
        pool = (_text(net, start), _text(net, start + length - 1))
        plan[region] = RegionAddressing(gateways.get(region), (pool,))
        start += length
    return plan


def reserved_block(net: Network, reserved: int) -> tuple[int, int] | None:
    """The inclusive integer range of the reserved addresses, or None."""
    if reserved <= 0:
        return None
    _, last = usable_range(net)
    return last - reserved + 1, last


def reserved_range(net: Network, reserved: int) -> tuple[str, str] | None:
    """First and last reserved address as text, or None."""
    block = reserved_block(net, reserved)
    return None if block is None else (_text(net, block[0]), _text(net, block[1]))


def pick_vip(net: Network, reserved: int, taken: Iterable[str]) -> str | None:
    """The lowest reserved address not in ``taken``; None when all are taken."""
    block = reserved_block(net, reserved)
    if block is None:
        return None
    used = {int(ipaddress.ip_address(t)) for t in taken}
    for value in range(block[0], block[1] + 1):
        if value not in used:
            return _text(net, value)
    return None


def check_address(net: Network, addressing: Mapping[str, RegionAddressing], text: object) -> str:
    """``text`` as a usable address of the network that is no region's gateway.

    :returns: the address in canonical form.
    :raises AddressingError: why it cannot be used.
    """
    if not isinstance(text, str):
        raise AddressingError("ip_address must be a string")
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        raise AddressingError(f"{text!r} is not an IP address") from None
    if addr not in net:
        raise AddressingError(f"{text} is not in {net}")
    first, last = usable_range(net)
    if not first <= int(addr) <= last:
        raise AddressingError(f"{text} is not a host address of {net}")
    for region, plan in addressing.items():
        if plan.gateway_ip == str(addr):
            raise AddressingError(f"{text} is the gateway of {region}")
    return str(addr)


def pool_holder(addressing: Mapping[str, RegionAddressing], text: str) -> str | None:
    """The region whose pool contains the address ``text``, if any."""
    value = int(ipaddress.ip_address(text))
    for region, plan in addressing.items():
        for start, end in plan.pools:
            if int(ipaddress.ip_address(start)) <= value <= int(ipaddress.ip_address(end)):
                return region
    return None


def overlapping(cidrs: Mapping[str, Network]) -> list[tuple[str, str]]:
    """Pairs of keys whose networks overlap, in key order."""
    keys = sorted(cidrs)
    return [(a, b) for i, a in enumerate(keys) for b in keys[i + 1:]
            if cidrs[a].version == cidrs[b].version and cidrs[a].overlaps(cidrs[b])]
