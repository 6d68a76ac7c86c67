"""Which projects escrow should rebalance sooner than the periodic interval.

Between two syncs, a region can only use its own share of the headroom plus what
it frees itself; capacity freed in a region where nobody is asking sits idle
while another region refuses creates. How much is lost grows with the time
between syncs, and matters only when the headroom is scarce. So a project whose
usage is close to its global limit *and* moving is synced again after a shorter
interval; a project far from its limits, or full but idle (nothing to rebalance),
keeps the periodic one and costs nothing more. Pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping

from kingbird.quota.limits import UNLIMITED


def contended_keys(global_limits: Mapping[str, int], usage: Mapping[str, Mapping[str, int]],
                   previous_usage: Mapping[str, Mapping[str, int]],
                   reserved: Mapping[str, float], threshold: float,
                   per_item_keys: Collection[str] = ()) -> list[str]:
    """The keys whose headroom is scarce and whose usage moved since the last sync.

    :param global_limits: key → global limit (-1 unlimited).
    :param usage: region → key → usage, for the regions that answered.
    :param previous_usage: region → key → usage at the previous sync (missing
        regions or keys: not seen before, which counts as moved).
    :param reserved: key → what the regions that did not answer may hold.
    :param threshold: a key is scarce when the usage plus the reservations reach
        this fraction of its global limit (0 < threshold <= 1).
    :param per_item_keys: keys that bound one item (nothing adds up): never scarce.
    :returns: the contended keys, sorted.
    """
    contended = []
    for key, limit in sorted(global_limits.items()):
        if limit in (UNLIMITED, 0) or key in per_item_keys:
            continue
        holders = {r: u[key] for r, u in usage.items() if key in u}
        held = reserved.get(key, 0)
        if not holders or math.isinf(held):
            continue
        if sum(holders.values()) + held < threshold * limit:
            continue
        if any(previous_usage.get(r, {}).get(key) != used for r, used in holders.items()):
            contended.append(key)
    return contended
