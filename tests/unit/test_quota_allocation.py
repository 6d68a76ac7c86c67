"""The classic allocation formula and limit resolution, with plain values."""

from hypothesis import given
from hypothesis import strategies as st

from kingbird.quota import allocation, limits
from kingbird.quota.keys import QUOTA_KEYS, SERVICE_OF_KEY, keys_of_service


def test_classic_gives_each_region_the_whole_remaining_headroom():
    usage = {"RegionOne": {"cores": 6}, "RegionTwo": {"cores": 4}, "RegionThree": {"cores": 0}}
    result = allocation.classic({"cores": 20}, usage)
    # remaining = 20 - 10 = 10, added to each region's own usage
    assert result == {"RegionOne": {"cores": 16}, "RegionTwo": {"cores": 14},
                      "RegionThree": {"cores": 10}}


def test_classic_never_goes_below_a_regions_usage_when_over_the_limit():
    usage = {"RegionOne": {"instances": 8}, "RegionTwo": {"instances": 5}}
    result = allocation.classic({"instances": 10}, usage)
    assert result == {"RegionOne": {"instances": 8}, "RegionTwo": {"instances": 5}}


def test_classic_keeps_unlimited_unlimited():
    result = allocation.classic({"ram": -1}, {"RegionOne": {"ram": 4096}})
    assert result == {"RegionOne": {"ram": -1}}


def test_classic_only_sets_keys_a_region_reports():
    usage = {"RegionOne": {"cores": 1, "port": 2}, "RegionTwo": {"cores": 1}}
    result = allocation.classic({"cores": 10, "port": 50}, usage)
    assert set(result["RegionTwo"]) == {"cores"}
    assert result["RegionOne"]["port"] == 50


def test_changes_lists_only_values_that_differ():
    assert allocation.changes({"cores": 10, "ram": 5}, {"cores": 10, "ram": 6}) == {"ram": 6}
    assert allocation.changes({"cores": 10}, {"cores": 10}) == {}


@given(st.dictionaries(st.sampled_from(["r1", "r2", "r3", "r4"]),
                       st.integers(min_value=0, max_value=1000), min_size=1),
       st.integers(min_value=0, max_value=5000))
def test_classic_limit_is_at_least_usage_and_headroom_is_shared(usage_by_region, limit):
    usage = {r: {"cores": u} for r, u in usage_by_region.items()}
    result = allocation.classic({"cores": limit}, usage)
    total = sum(usage_by_region.values())
    for region, used in usage_by_region.items():
        assert result[region]["cores"] >= used
        assert result[region]["cores"] == max(limit - total + used, used)


def test_effective_limits_prefer_project_then_class_then_config():
    config = dict.fromkeys(QUOTA_KEYS, 7)
    result = limits.effective_limits({"cores": 1}, {"cores": 2, "ram": 3}, config)
    assert result["cores"] == 1
    assert result["ram"] == 3
    assert result["instances"] == 7
    assert list(result) == list(QUOTA_KEYS)


def test_total_usage_and_remaining():
    usage = limits.total_usage([{"cores": 2}, {"cores": 3, "volumes": 1}])
    assert usage["cores"] == 5 and usage["volumes"] == 1 and usage["ram"] == 0
    lim = dict.fromkeys(QUOTA_KEYS, 4)
    lim["ram"] = -1
    rem = limits.remaining(lim, usage)
    assert rem["cores"] == 0 and rem["volumes"] == 3 and rem["ram"] == -1


def test_every_key_of_the_user_guide_belongs_to_one_service():
    assert len(QUOTA_KEYS) == 20
    assert sorted(k for s in ("compute", "network", "volume") for k in keys_of_service(s)) \
        == sorted(QUOTA_KEYS)
    assert SERVICE_OF_KEY["security_group_rule"] == "network"
    assert SERVICE_OF_KEY["security_groups"] == "compute"
