"""Escrow allocation: regional limits that never add up to more than the global limit.

For one project and one key, with G the global limit, u_r the usage in each
region that answered and R what the regions that did not answer hold (their last
known limit, or their usage if higher):

    headroom H = G - R - sum(u_r)
    regional limit L_r = u_r + h_r,   h_r >= 0,   sum(h_r) = H

so ``sum(L_r) + R = G``: every region enforces its own limit, hence the usage
summed over the regions can never exceed G. Shares follow each region's recent
demand, with a floor so that an idle region can still start something. When usage
already exceeds G (the limit was lowered), the deficit is taken off the regions in
proportion to their usage: their limits go below usage, nothing can be created
until enough is deleted, and the limits still sum to G.

Pure functions: numbers in, numbers out. ``-1`` is unlimited, larger than any limit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from kingbird.quota.limits import UNLIMITED

# Limits that bound one item rather than what the project consumes (metadata items
# per server, key pairs per user): nothing adds up across regions, so every region
# gets the global value.
PER_ITEM_KEYS = frozenset({"metadata_items", "key_pairs"})

# Weights are scaled to integers so that apportioning is exact and fast.
_SCALE = 1 << 30


@dataclass(frozen=True)
class EscrowSettings:
    """Tuning of the escrow policy.

    :param floor: fraction of the headroom split equally among the regions
        whatever their demand (at least one unit each when the headroom allows).
    :param tolerance: limits in force are left alone while each region's share is
        within this fraction of the headroom of its target (fewer writes).
    :param per_item_keys: keys copied as they are to every region.
    :param usage_floor_keys: keys whose regional limit cannot go below usage (the
        service refuses it and has no force option): over the global limit, those
        are set to the usage.
    """

    floor: float = 0.1
    tolerance: float = 0.1
    per_item_keys: frozenset[str] = PER_ITEM_KEYS
    usage_floor_keys: frozenset[str] = frozenset()


def rank(limit: int) -> float:
    """A limit as a comparable number: unlimited is infinite."""
    return math.inf if limit == UNLIMITED else limit


def capacity(limit: int, usage: int) -> float:
    """The most a region can hold under ``limit``: its usage if already above."""
    return math.inf if limit == UNLIMITED else max(limit, usage)


def apportion(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` units into non-negative integers proportional to ``weights``.

    Largest-remainder rounding, so the parts sum exactly to ``total``; ties go to
    the larger weight, then to the name that sorts first. Equal parts when every
    weight is zero.

    :param total: units to split, >= 0.
    :param weights: name → weight >= 0.
    """
    names = sorted(weights)
    if not names or total <= 0:
        return dict.fromkeys(names, 0)
    scaled = {n: _scaled(weights[n]) for n in names}
    if not any(scaled.values()):
        scaled = dict.fromkeys(names, 1)
    whole = sum(scaled.values())
    parts = {n: total * scaled[n] // whole for n in names}
    left = total - sum(parts.values())
    order = sorted(names, key=lambda n: (-(total * scaled[n] % whole), -scaled[n], n))
    for name in order[:left]:
        parts[name] += 1
    return parts


def _scaled(weight: float) -> int:
    if not weight > 0:  # also NaN
        return 0
    if math.isinf(weight):
        return _SCALE * _SCALE
    if isinstance(weight, int):
        return weight * _SCALE
    return round(weight * _SCALE)


def split_headroom(headroom: int, demand: Mapping[str, float],
                   floor: float = 0.1) -> dict[str, int]:
    """Shares of ``headroom`` for the regions of ``demand``: a floor for every region,
    the rest in proportion to demand.

    :returns: region → share, non-negative integers summing to ``headroom``
        (all zero when ``headroom`` <= 0).
    """
    regions = sorted(demand)
    if headroom <= 0 or not regions:
        return dict.fromkeys(regions, 0)
    base = int(headroom * floor) // len(regions)
    if base == 0 and floor > 0 and headroom >= len(regions):
        base = 1
    rest = headroom - base * len(regions)
    extra = apportion(rest, demand)
    return {r: base + extra[r] for r in regions}


def cut_deficit(deficit: int, usage: Mapping[str, int]) -> dict[str, int]:
    """How far below its usage each region's limit goes to give back ``deficit``.

    In proportion to usage and never more than a region uses (a limit is never
    negative), so when ``deficit`` is at least the total usage every cut is the
    region's whole usage.
    """
    if deficit >= sum(usage.values()):
        return dict(usage)
    return apportion(deficit, usage)


def allocate(global_limit: int, usage: Mapping[str, int], demand: Mapping[str, float],
             reserved: int = 0, floor: float = 0.1, below_usage: bool = True) -> dict[str, int]:
    """Regional limits of one key.

    :param global_limit: G, or -1 (then every region is unlimited).
    :param usage: region → usage, for the regions that answered.
    :param demand: region → recent consumption rate (missing: 0).
    :param reserved: R, what the regions that did not answer may hold.
    :param below_usage: whether a limit may be set below usage; if not, over the
        global limit every region is frozen at its usage instead.
    :returns: region → limit; they sum to G - R when G - R >= sum of usage (or
        when ``below_usage`` and G - R >= 0), and a region's limit is below its
        usage only when the usage already exceeds G - R.
    """
    if global_limit == UNLIMITED:
        return dict.fromkeys(usage, UNLIMITED)
    headroom = global_limit - reserved - sum(usage.values())
    if headroom >= 0:
        shares = split_headroom(headroom, {r: demand.get(r, 0.0) for r in usage}, floor)
        return {r: usage[r] + shares[r] for r in usage}
    if not below_usage:
        return dict(usage)
    cuts = cut_deficit(-headroom, usage)
    return {r: usage[r] - cuts[r] for r in usage}


def settled(global_limit: int, current: Mapping[str, int], usage: Mapping[str, int],
            target: Mapping[str, int], reserved: int = 0, tolerance: float = 0.1) -> bool:
    """Whether the limits in force may stay as they are instead of ``target``.

    They may when they are themselves a valid escrow allocation (they sum to
    G - R, no region is unlimited) and close to the target: within ``tolerance``
    of the headroom per region, no region left with nothing while its target gives
    it something, and, when usage exceeds G - R, no region able to grow.
    """
    if global_limit == UNLIMITED:
        return all(current.get(r) == UNLIMITED for r in target)
    if any(current.get(r) in (None, UNLIMITED) for r in target):
        return False
    if sum(current[r] for r in target) + reserved != global_limit:
        return False
    headroom = global_limit - reserved - sum(usage[r] for r in target)
    if headroom < 0:
        return all(current[r] <= usage[r] for r in target)
    slack = int(headroom * tolerance)
    for region, wanted in target.items():
        have = current[region] - usage[region]
        if have < 0 or abs(current[region] - wanted) > slack:
            return False
        if have == 0 and wanted > usage[region]:
            return False
    return True


def reservation(limit: int | None, usage: int | None) -> float:
    """What an unreachable region may hold of a key, from what was last seen of it:
    infinite when its limit was unlimited or was never seen."""
    if limit is None:
        return math.inf
    return capacity(limit, usage or 0)


def split_phases(current: Mapping[str, Mapping[str, int]],
                 desired: Mapping[str, Mapping[str, int]]
                 ) -> tuple[dict[str, dict[str, int]], dict[str, dict[str, int]]]:
    """The changes to write, as ``(decreases, increases)``, region → key → limit.

    Decreases are safe to apply at any time; increases only once every decrease
    is in force. Unchanged values are in neither.
    """
    decreases: dict[str, dict[str, int]] = {}
    increases: dict[str, dict[str, int]] = {}
    for region, limits in desired.items():
        before = current.get(region, {})
        for key, value in limits.items():
            old = before.get(key)
            if old == value:
                continue
            phase = decreases if old is not None and rank(value) < rank(old) else increases
            phase.setdefault(region, {})[key] = value
    return decreases, increases


def settle_increases(global_limit: int, reserved: float, before: Mapping[str, int],
                     usage: Mapping[str, int], decreased: Mapping[str, tuple[int, int]],
                     increases: Mapping[str, int]) -> dict[str, int]:
    """The increases of one key that can be applied once the decreases are in force.

    Usage may have grown between the read and the decreases (up to the old limits),
    so a region may now hold more than its new, lower limit. What the regions can
    hold is recomputed from the usage read again after the decreases, and the
    increases are cut down, in proportion, to what is left under the global limit.

    :param reserved: what the regions that did not answer may hold.
    :param before: region → limit in force when read, for every region that answered.
    :param usage: region → usage when read.
    :param decreased: region → (new limit, usage read after the decrease) for the
        regions whose limit went down.
    :param increases: region → the limit planned.
    :returns: region → limit to write (only values above the limit in force).
    """
    if global_limit == UNLIMITED:
        return dict(increases)
    held = reserved
    for region, limit in before.items():
        if region in decreased:
            new, used_after = decreased[region]
            held += capacity(new, used_after)
        else:
            held += capacity(limit, usage[region])
    budget = global_limit - held
    wanted = {r: capacity(t, usage[r]) - capacity(before[r], usage[r])
              for r, t in increases.items()}
    if any(math.isinf(w) or math.isnan(w) for w in wanted.values()):
        return {}
    if sum(wanted.values()) <= budget:
        return dict(increases)
    grant = apportion(int(budget) if budget > 0 else 0, wanted)
    result = {}
    for region, target in increases.items():
        new = min(target, int(capacity(before[region], usage[region])) + grant[region])
        if new > before[region]:
            result[region] = new
    return result


def plan(global_limits: Mapping[str, int], usage: Mapping[str, Mapping[str, int]],
         current: Mapping[str, Mapping[str, int]], demand: Mapping[str, Mapping[str, float]],
         reserved: Mapping[str, float], settings: EscrowSettings = EscrowSettings()
         ) -> dict[str, dict[str, int]]:
    """Desired limits of every key in every region that answered.

    :param global_limits: key → G.
    :param usage: region → key → usage (the keys its services own).
    :param current: region → key → limit in force.
    :param demand: region → key → recent consumption rate.
    :param reserved: key → what the regions that did not answer may hold; a key
        missing here reserves nothing, an infinite reservation (unknown) leaves
        that key as it is.
    :returns: region → key → limit (equal to the limit in force where it stays).
    """
    keys = {key for per_region in usage.values() for key in per_region}
    desired: dict[str, dict[str, int]] = {region: {} for region in usage}
    for key in sorted(keys & set(global_limits)):
        holders = {r: u[key] for r, u in usage.items() if key in u and key in current.get(r, {})}
        if not holders:
            continue
        limits_now = {r: current[r][key] for r in holders}
        limit = global_limits[key]
        held = reserved.get(key, 0)
        if key in settings.per_item_keys:
            target = dict.fromkeys(holders, limit)
        elif math.isinf(held):
            target = limits_now
        else:
            below_usage = key not in settings.usage_floor_keys
            target = allocate(limit, holders, {r: demand.get(r, {}).get(key, 0.0)
                                               for r in holders}, int(held), settings.floor,
                              below_usage)
            if settled(limit, limits_now, holders, target, int(held), settings.tolerance):
                target = limits_now
        for region, value in target.items():
            desired[region][key] = value
    return desired
