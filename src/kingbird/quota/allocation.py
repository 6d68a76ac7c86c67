"""How a global limit is divided into regional limits. Pure functions.

``classic`` is the formula of the original Kingbird: each region may grow by the
whole remaining headroom, ``regional = global - total usage + regional usage``,
never below what the region already uses.
"""

from __future__ import annotations

from collections.abc import Mapping

from kingbird.quota.limits import UNLIMITED


def classic(global_limits: Mapping[str, int],
            usage_by_region: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """Regional limits for every region and every key that region reports usage for.

    :param global_limits: limit in force per key (-1 unlimited).
    :param usage_by_region: region → key → usage, only keys the region's services own.
    :returns: region → key → new regional limit.
    """
    totals: dict[str, int] = {}
    for usage in usage_by_region.values():
        for key, used in usage.items():
            totals[key] = totals.get(key, 0) + used
    result: dict[str, dict[str, int]] = {}
    for region, usage in usage_by_region.items():
        limits = {}
        for key, used in usage.items():
            limit = global_limits[key]
            limits[key] = UNLIMITED if limit == UNLIMITED else max(limit - totals[key] + used, used)
        result[region] = limits
    return result


def changes(current: Mapping[str, int], desired: Mapping[str, int]) -> dict[str, int]:
    """The entries of ``desired`` that differ from ``current`` (what must be written)."""
    return {key: value for key, value in desired.items() if current.get(key) != value}
