"""Address arithmetic of subnets: pools, gateways and allocation. Pure functions.

Addresses are handled as integers inside one ``ipaddress`` network; a pool is an
inclusive ``(first, last)`` pair. Nothing here knows about requests or state.
"""

from __future__ import annotations

import ipaddress

from regionsim.services.neutron.errors import BadRequest, Conflict, InvalidInput

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_cidr(text, ip_version: int) -> Network:
    """The subnet's network; host bits set or a family mismatch is a 400 as in Neutron."""
    try:
        net = ipaddress.ip_network(str(text), strict=False)
    except ValueError:
        raise InvalidInput(f"'{text}' is not a valid IP subnet") from None
    if str(net) != str(text):
        raise InvalidInput(f"'{text}' isn't a recognized IP subnet cidr, '{net}' is recommended")
    if net.version != ip_version:
        raise InvalidInput("Cidr and IP version are incompatible")
    if net.prefixlen == net.max_prefixlen:
        raise InvalidInput(f"'{text}' isn't a valid subnet for allocation")
    return net


def parse_ip(text, net: Network | None = None) -> int:
    """An address as an integer, optionally required to lie in ``net``."""
    try:
        addr = ipaddress.ip_address(str(text))
    except ValueError:
        raise InvalidInput(f"'{text}' is not a valid IP address") from None
    if net is not None and addr not in net:
        raise InvalidInput(f"IP address {text} is not a valid IP for the specified subnet")
    return int(addr)


def to_text(value: int, net: Network) -> str:
    return str(ipaddress.ip_address(value) if net.version == 4 else ipaddress.IPv6Address(value))


def usable_range(net: Network) -> tuple[int, int]:
    """The host addresses: v4 drops network and broadcast, v6 only the anycast one."""
    first = int(net.network_address) + 1
    last = int(net.broadcast_address) - (1 if net.version == 4 else 0)
    return first, last


def default_gateway(net: Network) -> int:
    return int(net.network_address) + 1


def default_pools(net: Network, gateway: int | None) -> list[tuple[int, int]]:
    """The whole usable range minus the gateway, as Neutron computes it."""
    first, last = usable_range(net)
    if gateway is None or not first <= gateway <= last:
        return [(first, last)] if first <= last else []
    pools = []
    if first <= gateway - 1:
        pools.append((first, gateway - 1))
    if gateway + 1 <= last:
        pools.append((gateway + 1, last))
    return pools


def parse_pools(raw, net: Network, gateway: int | None) -> list[tuple[int, int]]:
    """Validate requested ``allocation_pools`` against the cidr, each other and the gateway."""
    if not isinstance(raw, list):
        raise InvalidInput(f"Invalid data format for IP pool: '{raw}'")
    pools = []
    for item in raw:
        if not isinstance(item, dict) or set(item) != {"start", "end"}:
            raise InvalidInput(f"Invalid data format for IP pool: '{item}'")
        start, end = parse_ip(item["start"]), parse_ip(item["end"])
        first, last = usable_range(net)
        label = f"{item['start']}-{item['end']}"
        if not (first <= start <= last and first <= end <= last):
            raise BadRequest(f"The allocation pool {label} spans beyond the subnet cidr {net}.",
                             "OutOfBoundsAllocationPool")
        if start > end:
            raise BadRequest(f"The allocation pool {label} spans beyond the subnet cidr {net}.",
                             "InvalidAllocationPool")
        pools.append((start, end))
    ordered = sorted(pools)
    for (s1, e1), (s2, e2) in zip(ordered, ordered[1:], strict=False):
        if s2 <= e1:
            raise BadRequest(
                f"Found overlapping allocation pools: {to_text(s1, net)}-{to_text(e1, net)} "
                f"and {to_text(s2, net)}-{to_text(e2, net)} for subnet {net}.",
                "OverlappingAllocationPools")
    if gateway is not None:
        for start, end in ordered:
            if start <= gateway <= end:
                raise Conflict(
                    f"Gateway ip {to_text(gateway, net)} conflicts with allocation pool "
                    f"{to_text(start, net)}-{to_text(end, net)}.",
                    "GatewayConflictWithAllocationPools")
    return ordered


def pools_view(pools: list[tuple[int, int]], net: Network) -> list[dict]:
    return [{"start": to_text(s, net), "end": to_text(e, net)} for s, e in pools]


def next_free(pools: list[tuple[int, int]], used: set[int]) -> int | None:
    """The lowest free address of the pools, or None when they are exhausted.

    Neutron picks at random among free addresses; the lowest one keeps tests and
    benchmarks reproducible and is just as valid an answer.
    """
    for start, end in pools:
        value = start
        while value <= end:
            if value not in used:
                return value
            value += 1
    return None
