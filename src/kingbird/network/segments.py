"""VXLAN segment ids of global networks. Pure functions.

Every region's Neutron must carry a global network on the same VNI, so Kingbird
allocates it from its own ranges (``[networking] vni_ranges``), which the
operator keeps apart from the regions' tenant VNI ranges (ML2's
``[ml2_type_vxlan] vni_ranges``). An id a region refuses because something
there already uses it is remembered as blocked and never offered again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

MIN_VNI = 1
MAX_VNI = 2**24 - 1


def parse_ranges(values: Sequence[str]) -> list[tuple[int, int]]:
    """``["100:199", "500:500"]`` → ``[(100, 199), (500, 500)]``, sorted.

    :raises ValueError: a range that is not ``low:high`` within 1..2^24-1, or
        ranges that overlap.
    """
    ranges = []
    for value in values:
        low_text, sep, high_text = str(value).strip().partition(":")
        try:
            low, high = int(low_text), int(high_text if sep else low_text)
        except ValueError:
            raise ValueError(f"VNI range {value!r} is not 'low:high'") from None
        if not MIN_VNI <= low <= high <= MAX_VNI:
            raise ValueError(f"VNI range {value!r} must satisfy {MIN_VNI} <= low <= high <= "
                             f"{MAX_VNI}")
        ranges.append((low, high))
    ranges.sort()
    for (_, high), (low, _) in zip(ranges, ranges[1:], strict=False):
        if low <= high:
            raise ValueError(f"VNI ranges overlap at {low}")
    if not ranges:
        raise ValueError("no VNI range configured")
    return ranges


def first_free(ranges: Sequence[tuple[int, int]], taken: Iterable[int]) -> int | None:
    """The lowest id of ``ranges`` not in ``taken``; None when all are taken."""
    used = sorted(set(taken))
    for low, high in ranges:
        candidate = low
        for value in used:
            if value < candidate:
                continue
            if value > candidate:
                break
            candidate += 1
        if candidate <= high:
            return candidate
    return None


def capacity(ranges: Sequence[tuple[int, int]]) -> int:
    """How many ids the ranges hold."""
    return sum(high - low + 1 for low, high in ranges)
