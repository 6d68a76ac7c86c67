"""Escrow allocation and demand estimation, with plain values and hypothesis."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kingbird.quota import demand, escrow

REGIONS = ["r1", "r2", "r3", "r4", "r5"]
FEW = settings(max_examples=150, deadline=None)

region_usage = st.dictionaries(st.sampled_from(REGIONS), st.integers(0, 500), min_size=1)
weights = st.floats(min_value=0, max_value=1e6, allow_nan=False, allow_infinity=False)


# -- apportion and headroom shares --------------------------------------------------

def test_apportion_rounds_by_largest_remainder_and_sums_exactly():
    assert escrow.apportion(10, {"a": 1, "b": 1, "c": 1}) == {"a": 4, "b": 3, "c": 3}
    assert escrow.apportion(7, {"a": 3.0, "b": 1.0}) == {"a": 5, "b": 2}
    assert escrow.apportion(5, {"a": 0, "b": 0}) == {"a": 3, "b": 2}


def test_apportion_of_nothing_is_zeros():
    assert escrow.apportion(0, {"a": 5, "b": 1}) == {"a": 0, "b": 0}
    assert escrow.apportion(3, {}) == {}


@FEW
@given(st.integers(0, 10**9), st.dictionaries(st.sampled_from(REGIONS), weights, min_size=1))
def test_apportion_gives_non_negative_integers_summing_to_the_total(total, weights_by_region):
    parts = escrow.apportion(total, weights_by_region)
    assert set(parts) == set(weights_by_region)
    assert all(isinstance(p, int) and p >= 0 for p in parts.values())
    assert sum(parts.values()) == total
    whole = sum(weights_by_region.values())
    if whole > 0 and all(w == 0 or w > 1e-6 for w in weights_by_region.values()):
        for region, w in weights_by_region.items():
            # within one unit of the exact proportional share
            assert abs(parts[region] - total * w / whole) < 1 + total * 1e-9


def test_headroom_follows_demand_above_a_floor():
    shares = escrow.split_headroom(100, {"busy": 9.0, "quiet": 1.0, "idle": 0.0}, floor=0.3)
    assert sum(shares.values()) == 100
    assert shares["idle"] == 10  # 30 % of 100 split equally
    assert shares["busy"] > shares["quiet"] > shares["idle"]


def test_an_idle_region_gets_at_least_one_unit_when_the_headroom_allows():
    shares = escrow.split_headroom(5, {"busy": 100.0, "idle": 0.0}, floor=0.1)
    assert shares["idle"] == 1 and shares["busy"] == 4


def test_without_demand_anywhere_the_headroom_is_split_equally():
    assert escrow.split_headroom(20, dict.fromkeys(["r1", "r2", "r3"], 0.0)) == \
        {"r1": 7, "r2": 7, "r3": 6}


@FEW
@given(st.integers(-50, 10**6), st.dictionaries(st.sampled_from(REGIONS), weights, min_size=1),
       st.floats(0, 1))
def test_shares_are_non_negative_integers_summing_to_the_headroom(headroom, demand_by_region,
                                                                floor):
    shares = escrow.split_headroom(headroom, demand_by_region, floor)
    assert all(isinstance(s, int) and s >= 0 for s in shares.values())
    assert sum(shares.values()) == max(headroom, 0)


# -- one key --------------------------------------------------------------------------

def test_regional_limits_sum_to_the_global_limit():
    limits = escrow.allocate(20, {"r1": 6, "r2": 4, "r3": 0}, {"r1": 1.0, "r2": 1.0})
    assert sum(limits.values()) == 20
    assert all(limits[r] >= u for r, u in {"r1": 6, "r2": 4, "r3": 0}.items())
    # the classic formula would have given 16, 14 and 10: 40 in all


def test_unlimited_stays_unlimited_everywhere():
    assert escrow.allocate(-1, {"r1": 5, "r2": 0}, {}) == {"r1": -1, "r2": -1}


def test_over_the_limit_the_deficit_is_cut_in_proportion_to_usage():
    limits = escrow.allocate(10, {"r1": 9, "r2": 3, "r3": 0}, {})
    assert sum(limits.values()) == 10
    assert limits == {"r1": 7, "r2": 3, "r3": 0} or limits == {"r1": 8, "r2": 2, "r3": 0}
    assert all(limits[r] <= u for r, u in {"r1": 9, "r2": 3, "r3": 0}.items())


def test_where_a_limit_cannot_go_below_usage_over_the_limit_freezes_at_usage():
    usage = {"r1": 9, "r2": 3, "r3": 0}
    assert escrow.allocate(10, usage, {}, below_usage=False) == usage
    # with headroom it is the same split as anywhere else
    assert sum(escrow.allocate(20, usage, {}, below_usage=False).values()) == 20


def test_plan_never_sets_a_usage_floor_key_below_usage():
    usage = {"r1": {"volumes": 8}, "r2": {"volumes": 4}}
    current = {"r1": {"volumes": 10}, "r2": {"volumes": 10}}
    settings = escrow.EscrowSettings(usage_floor_keys=frozenset({"volumes"}))
    assert escrow.plan({"volumes": 6}, usage, current, {}, {}, settings) == \
        {"r1": {"volumes": 8}, "r2": {"volumes": 4}}


def test_a_reservation_larger_than_the_limit_freezes_every_region_at_zero():
    assert escrow.allocate(10, {"r1": 4, "r2": 2}, {}, reserved=12) == {"r1": 0, "r2": 0}


def test_an_unreachable_regions_share_stays_reserved():
    limits = escrow.allocate(30, {"r1": 2, "r2": 0}, {}, reserved=10)
    assert sum(limits.values()) == 20


@FEW
@given(st.integers(-1, 5000), region_usage, st.dictionaries(st.sampled_from(REGIONS), weights),
       st.integers(0, 3000), st.floats(0, 1))
def test_allocate_properties(limit, usage, demand_by_region, reserved, floor):
    limits = escrow.allocate(limit, usage, demand_by_region, reserved, floor)
    assert set(limits) == set(usage)
    if limit == -1:
        assert all(v == -1 for v in limits.values())
        return
    assert all(isinstance(v, int) and v >= 0 for v in limits.values())
    available = limit - reserved
    if available >= 0:
        assert sum(limits.values()) == available
    else:
        assert all(v == 0 for v in limits.values())
    if available >= sum(usage.values()):
        assert all(limits[r] >= u for r, u in usage.items())
    else:
        assert all(limits[r] <= u for r, u in usage.items())


# -- leaving good allocations alone ---------------------------------------------------------

def test_a_valid_allocation_close_to_the_target_is_kept():
    usage = {"r1": 10, "r2": 10}
    assert escrow.settled(100, {"r1": 52, "r2": 48}, usage, {"r1": 50, "r2": 50})
    assert not escrow.settled(100, {"r1": 70, "r2": 30}, usage, {"r1": 50, "r2": 50})


def test_limits_not_summing_to_the_global_limit_are_never_kept():
    assert not escrow.settled(100, {"r1": 50, "r2": 49}, {"r1": 0, "r2": 0},
                              {"r1": 50, "r2": 50})
    assert not escrow.settled(100, {"r1": -1, "r2": 0}, {"r1": 0, "r2": 0},
                              {"r1": 50, "r2": 50})


def test_a_region_left_without_headroom_is_rebalanced():
    usage = {"r1": 40, "r2": 0}
    assert not escrow.settled(100, {"r1": 40, "r2": 60}, usage, {"r1": 43, "r2": 57})


# -- the order of writes ----------------------------------------------------------------------

def test_phases_separate_decreases_from_increases_with_unlimited_as_infinite():
    current = {"r1": {"cores": 10, "ram": -1}, "r2": {"cores": 5, "ram": 100}}
    desired = {"r1": {"cores": 4, "ram": 50}, "r2": {"cores": 11, "ram": 100}}
    decreases, increases = escrow.split_phases(current, desired)
    assert decreases == {"r1": {"cores": 4, "ram": 50}}
    assert increases == {"r2": {"cores": 11}}


def test_increases_shrink_when_usage_grew_before_the_decrease_landed():
    # r1: limit 10 → 4 (usage 2 read), but it reached 8 before the decrease
    # r2: limit 5 → 11 planned. 16 in all; r1 may hold 8 now, so r2 may get 8.
    kept = escrow.settle_increases(16, 0, before={"r1": 10, "r2": 5},
                                   usage={"r1": 2, "r2": 1}, decreased={"r1": (4, 8)},
                                   increases={"r2": 11})
    assert kept == {"r2": 8}


def test_increases_apply_in_full_when_nothing_moved():
    kept = escrow.settle_increases(16, 0, before={"r1": 10, "r2": 5},
                                   usage={"r1": 2, "r2": 1}, decreased={"r1": (4, 2)},
                                   increases={"r2": 12})
    assert kept == {"r2": 12}


def _cap(limits, usage):
    return sum(escrow.capacity(limits[r], usage[r]) for r in limits)


@FEW
@given(st.integers(0, 400), st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60),
                                               weights, st.integers(0, 100),
                                               st.integers(0, 100)),
                                     min_size=1, max_size=5),
       st.integers(0, 50))
def test_the_limits_in_force_never_let_usage_exceed_the_global_limit(
        limit, regions, reserved, ):
    """A whole sync against an adversary: usage moves between the read, the
    decreases and the increases, within what each region's limit then allows."""
    names = REGIONS[:len(regions)]
    # a valid starting point: an escrow allocation of the limit, usage within it
    start_usage = {r: spec[0] for r, spec in zip(names, regions, strict=True)}
    if sum(start_usage.values()) + reserved > limit:
        return
    limits = escrow.allocate(limit, start_usage, {}, reserved)
    usage = dict(start_usage)
    # usage moves (up to the limits) before the sync reads it
    for r, spec in zip(names, regions, strict=True):
        usage[r] = min(limits[r], spec[1] + usage[r] // 2)
    read_usage, read_limits = dict(usage), dict(limits)
    demand_by_region = {r: {"cores": spec[2]} for r, spec in zip(names, regions, strict=True)}
    desired = escrow.plan({"cores": limit}, {r: {"cores": u} for r, u in read_usage.items()},
                          {r: {"cores": v} for r, v in read_limits.items()}, demand_by_region,
                          {"cores": reserved}, escrow.EscrowSettings(tolerance=0))
    decreases, increases = escrow.split_phases(
        {r: {"cores": v} for r, v in read_limits.items()}, desired)
    # more usage moves before the decreases land: up to the old limits
    for r, spec in zip(names, regions, strict=True):
        usage[r] = min(read_limits[r], usage[r] + spec[3])
    after = {}
    for r, change in decreases.items():
        limits[r] = change["cores"]
        assert _cap(limits, usage) + reserved <= limit
    # and again, now under the new limits, before the re-read
    for r, spec in zip(names, regions, strict=True):
        usage[r] = max(usage[r] - spec[4] // 3, 0) if usage[r] > limits[r] else \
            min(limits[r], usage[r] + spec[4])
    for r in decreases:
        after[r] = (limits[r], usage[r])
    kept = escrow.settle_increases(limit, reserved, read_limits, read_usage, after,
                                   {r: c["cores"] for r, c in increases.items()})
    for r, value in kept.items():
        assert value > limits[r]
        limits[r] = value
        assert _cap(limits, usage) + reserved <= limit
    if not any(spec[1] or spec[3] or spec[4] for spec in regions):
        assert sum(limits.values()) + reserved == limit


# -- the whole plan -----------------------------------------------------------------------------

def test_plan_splits_counted_keys_and_copies_per_item_keys():
    usage = {"r1": {"cores": 4, "metadata_items": 0}, "r2": {"cores": 0, "metadata_items": 0}}
    current = {"r1": {"cores": 20, "metadata_items": 128},
               "r2": {"cores": 20, "metadata_items": 128}}
    desired = escrow.plan({"cores": 10, "metadata_items": 100}, usage, current, {}, {})
    assert desired["r1"]["cores"] + desired["r2"]["cores"] == 10
    assert desired["r1"]["metadata_items"] == desired["r2"]["metadata_items"] == 100


def test_plan_leaves_a_key_alone_when_a_reservation_is_unknown():
    usage = {"r1": {"cores": 4}}
    current = {"r1": {"cores": 20}}
    desired = escrow.plan({"cores": 10}, usage, current, {}, {"cores": math.inf})
    assert desired == {"r1": {"cores": 20}}


def test_reservation_of_a_region_never_seen_is_infinite():
    assert escrow.reservation(None, None) == math.inf
    assert escrow.reservation(-1, 3) == math.inf
    assert escrow.reservation(5, 8) == 8


# -- demand -----------------------------------------------------------------------------------

def test_demand_moves_towards_the_observed_growth_rate():
    rate = demand.observe(0.0, 10, 20, limit=100, elapsed=10, half_life=10)
    assert rate == pytest.approx(0.5)  # half-way to 1 unit/s
    assert demand.observe(rate, 20, 20, limit=100, elapsed=10, half_life=10) == \
        pytest.approx(0.25)


def test_growth_into_the_limit_counts_double():
    free = demand.observe(0.0, 0, 5, limit=100, elapsed=10, half_life=10)
    capped = demand.observe(0.0, 0, 5, limit=5, elapsed=10, half_life=10)
    assert capped == pytest.approx(2 * free)


def test_shrinking_usage_is_no_demand_and_first_sight_keeps_the_estimate():
    assert demand.observe(0.0, 10, 3, limit=100, elapsed=5, half_life=10) == 0.0
    assert demand.observe(0.7, None, 3, limit=100, elapsed=5, half_life=10) == 0.7


def test_decay_without_growth_matches_an_observation_of_no_growth():
    direct = demand.observe(2.0, 5, 5, limit=-1, elapsed=7, half_life=3)
    assert demand.decayed(2.0, 7, 3) == pytest.approx(direct)


@FEW
@given(st.floats(0, 1e3), st.integers(0, 10**6), st.integers(0, 10**6),
       st.integers(-1, 10**6), st.floats(0.001, 1e4), st.floats(0.1, 1e4))
def test_demand_is_never_negative_nor_above_the_fastest_rate_seen(rate, before, now, limit,
                                                                  elapsed, half_life):
    new = demand.observe(rate, before, now, limit, elapsed, half_life)
    assert new >= 0
    assert new <= max(rate, 2 * max(now - before, 0) / elapsed) * (1 + 1e-9) + 1e-12
