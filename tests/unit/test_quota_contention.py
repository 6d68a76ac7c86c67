"""Which projects escrow syncs again sooner: headroom scarce and usage moving."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from kingbird.quota.contention import contended_keys

LIMITS = {"instances": 100, "cores": 150}


def usage(r1: tuple[int, int], r2: tuple[int, int]) -> dict[str, dict[str, int]]:
    return {"R1": {"instances": r1[0], "cores": r1[1]},
            "R2": {"instances": r2[0], "cores": r2[1]}}


def test_a_project_near_its_limit_whose_usage_moved_is_contended():
    before = usage((40, 60), (40, 60))
    now = usage((45, 70), (38, 56))  # 83 instances, 126 cores: both >= 80 %
    assert contended_keys(LIMITS, now, before, {}, 0.8) == ["cores", "instances"]


def test_a_full_project_whose_usage_did_not_move_is_not_contended():
    full = usage((50, 75), (50, 75))
    assert contended_keys(LIMITS, full, full, {}, 0.8) == []


def test_a_project_far_from_its_limit_is_not_contended_however_busy():
    assert contended_keys(LIMITS, usage((30, 40), (20, 30)), usage((5, 5), (5, 5)),
                          {}, 0.8) == []


def test_only_the_scarce_key_is_named():
    now = usage((45, 20), (40, 20))  # instances at 85 %, cores at 27 %
    assert contended_keys(LIMITS, now, usage((40, 20), (40, 20)), {}, 0.8) == ["instances"]


def test_what_unreachable_regions_hold_counts_towards_the_limit():
    now, before = usage((20, 10), (20, 10)), usage((18, 10), (20, 10))
    assert contended_keys(LIMITS, now, before, {"instances": 40}, 0.8) == ["instances"]
    assert contended_keys(LIMITS, now, before, {"instances": 39}, 0.8) == []


def test_unknown_reservations_unlimited_zero_and_per_item_limits_are_never_contended():
    now, before = usage((60, 90), (40, 60)), usage((0, 0), (0, 0))
    assert contended_keys(LIMITS, now, before, {"instances": math.inf}, 0.8) == ["cores"]
    assert contended_keys({"instances": -1, "cores": 0}, now, before, {}, 0.8) == []
    assert contended_keys({"instances": 100}, now, before, {}, 0.8,
                          per_item_keys={"instances"}) == []


def test_a_region_seen_for_the_first_time_counts_as_moved():
    now = usage((50, 75), (40, 60))
    assert contended_keys(LIMITS, now, {"R1": now["R1"]}, {}, 0.8) == ["cores", "instances"]


@given(st.integers(0, 200), st.integers(0, 200), st.integers(1, 200),
       st.floats(0.0, 1.0))
def test_contended_iff_usage_reaches_the_threshold_and_moved(used, used_before, limit,
                                                             threshold):
    now = {"R1": {"instances": used}}
    before = {"R1": {"instances": used_before}}
    contended = contended_keys({"instances": limit}, now, before, {}, threshold)
    assert (contended == ["instances"]) == (used >= threshold * limit and used != used_before)
