"""The L3 option: a router per region, joined through a transit network, with a
route to every other region's subnet. Pure functions.

For regions that do not share an L2 segment (or should not), each region's
router has an interface on the region's own subnet and a port on the transit
network; region A then reaches the subnet of region B through B's router's
transit address. Routes the user added to the routers are left alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Site:
    """One region of an L3 interconnection: its subnet and its router's transit address."""

    cidr: str
    transit_ip: str


def plan_routes(sites: Mapping[str, Site]) -> dict[str, list[dict[str, str]]]:
    """Per region, the routes to the other regions' subnets via their routers."""
    return {region: [{"destination": other.cidr, "nexthop": other.transit_ip}
                     for name, other in sorted(sites.items()) if name != region]
            for region in sites}


def merge_routes(current: Sequence[Mapping[str, str]], wanted: Sequence[Mapping[str, str]],
                 managed: Sequence[Mapping[str, str]]) -> list[dict[str, str]] | None:
    """The router's new route list, or None if it is already right.

    :param current: the routes the router has.
    :param wanted: Kingbird's routes for it now.
    :param managed: the routes Kingbird set before (replaced by ``wanted``);
        every other route is the user's and stays.
    """
    def key(route: Mapping[str, str]) -> tuple[str, str]:
        return route["destination"], route["nexthop"]

    managed_keys = {key(r) for r in managed} | {key(r) for r in wanted}
    kept = [dict(r) for r in current if key(r) not in managed_keys]
    merged = kept + [dict(r) for r in wanted]
    if sorted(map(key, merged)) == sorted(map(key, current)):
        return None
    return merged
