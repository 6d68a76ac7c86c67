"""Each region's recent demand for a key: an exponentially weighted moving average
of its usage growth per second, observed at every sync. Pure functions.

Net growth is the right signal for sharing headroom: what a region frees by
deleting, it reuses itself under the same limit; only what it adds on top comes
out of the shared headroom. A region that grew right up to its limit may have
wanted more than it could take, so its observed growth counts double.

The average is weighted by time, not by sync (``alpha = 1 - 2**(-elapsed /
half_life)``): an on-demand sync a second after a periodic one moves it little.
"""

from __future__ import annotations

from kingbird.quota.limits import UNLIMITED


def decayed(rate: float, elapsed: float, half_life: float) -> float:
    """``rate`` as it stands ``elapsed`` seconds later with no growth observed."""
    if elapsed <= 0:
        return rate
    return rate * 0.5 ** (elapsed / half_life)


def observe(rate: float, previous_usage: int | None, usage: int, limit: int,
            elapsed: float, half_life: float) -> float:
    """The demand rate after observing ``usage`` ``elapsed`` seconds after
    ``previous_usage``.

    :param rate: the previous estimate (units per second).
    :param previous_usage: usage at the previous observation; None if never seen.
    :param limit: the limit in force during the interval (-1 unlimited).
    :param half_life: seconds after which an observation weighs half as much.
    :returns: the new estimate, >= 0.
    """
    if previous_usage is None or elapsed <= 0:
        return max(rate, 0.0)
    growth = max(usage - previous_usage, 0)
    if growth and limit != UNLIMITED and usage >= limit:
        growth *= 2  # censored: it hit its limit, it may have wanted more
    alpha = 1 - 0.5 ** (elapsed / half_life)
    return max(alpha * growth / elapsed + (1 - alpha) * rate, 0.0)
