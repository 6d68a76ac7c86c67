"""One CIDR split into disjoint per-region pools, gateways, reserved VIP block;
VXLAN id allocation."""

from __future__ import annotations

import ipaddress

import pytest

from kingbird.network import addressing, segments
from kingbird.network.addressing import AddressingError, RegionAddressing

NET = ipaddress.ip_network("198.51.100.0/24")
REGIONS = ["RegionOne", "RegionTwo", "RegionThree"]


def _addresses(plan: RegionAddressing) -> set[int]:
    return {v for start, end in plan.pools
            for v in range(int(ipaddress.ip_address(start)), int(ipaddress.ip_address(end)) + 1)}


def test_pools_of_the_regions_are_disjoint_and_cover_the_range_between_gateways_and_reserve():
    plan = addressing.plan_addressing(NET, REGIONS, ["RegionOne"], reserved=8)
    sets = [_addresses(plan[r]) for r in REGIONS]
    assert all(not (a & b) for i, a in enumerate(sets) for b in sets[i + 1:])
    covered = set().union(*sets)
    first, last = addressing.usable_range(NET)
    assert covered == set(range(first + 1, last - 8 + 1))
    assert plan["RegionOne"].gateway_ip == "198.51.100.1"
    assert plan["RegionTwo"].gateway_ip is None


def test_sizes_differ_by_at_most_one_and_follow_region_order():
    plan = addressing.plan_addressing(NET, REGIONS, [], reserved=0)
    sizes = [len(_addresses(plan[r])) for r in REGIONS]
    assert max(sizes) - min(sizes) <= 1 and sum(sizes) == 254
    assert plan["RegionOne"].pools[0][0] == "198.51.100.1"
    assert plan["RegionThree"].pools[0][1] == "198.51.100.254"


def test_each_gateway_region_gets_its_own_gateway_outside_every_pool():
    plan = addressing.plan_addressing(NET, REGIONS, ["RegionTwo", "RegionOne"], reserved=0)
    assert plan["RegionTwo"].gateway_ip == "198.51.100.1"
    assert plan["RegionOne"].gateway_ip == "198.51.100.2"
    pooled = set().union(*(_addresses(plan[r]) for r in REGIONS))
    assert int(ipaddress.ip_address("198.51.100.1")) not in pooled
    assert int(ipaddress.ip_address("198.51.100.2")) not in pooled


def test_a_cidr_too_small_for_the_regions_is_refused_with_the_arithmetic():
    with pytest.raises(AddressingError, match="leaves 2 addresses for 3 region pools"):
        addressing.plan_addressing(ipaddress.ip_network("198.51.100.0/29"), REGIONS,
                                   ["RegionOne"], reserved=3)


def test_ipv6_cidrs_split_too():
    net = ipaddress.ip_network("2001:db8::/64")
    plan = addressing.plan_addressing(net, REGIONS[:2], ["RegionOne"], reserved=16)
    assert plan["RegionOne"].gateway_ip == "2001:db8::1"
    assert plan["RegionTwo"].pools[0][1] == "2001:db8::ffff:ffff:ffff:ffef"


@pytest.mark.parametrize("text, message", [
    ("198.51.100.7/24", "host bits set: use 198.51.100.0/24"),
    ("198.51.100.0", "no prefix length"),
    ("nonsense/24", "not a valid CIDR"),
    ("198.51.100.0/31", "too small"),
    (24, "must be a string"),
])
def test_parse_cidr_names_the_mistake(text, message):
    with pytest.raises(AddressingError, match=message):
        addressing.parse_cidr(text)


def test_vips_come_from_the_reserved_block_lowest_free_first():
    assert addressing.reserved_range(NET, 4) == ("198.51.100.251", "198.51.100.254")
    assert addressing.pick_vip(NET, 4, []) == "198.51.100.251"
    assert addressing.pick_vip(NET, 4, ["198.51.100.251", "198.51.100.253"]) == "198.51.100.252"
    assert addressing.pick_vip(NET, 2, ["198.51.100.253", "198.51.100.254"]) is None
    assert addressing.pick_vip(NET, 0, []) is None


def test_check_address_refuses_gateways_and_outsiders_and_finds_pool_holders():
    plan = addressing.plan_addressing(NET, REGIONS, ["RegionOne"], reserved=8)
    assert addressing.check_address(NET, plan, "198.51.100.250") == "198.51.100.250"
    for bad, why in (("198.51.100.1", "gateway of RegionOne"), ("203.0.113.5", "not in"),
                     ("198.51.100.255", "not a host address"), ("x", "not an IP")):
        with pytest.raises(AddressingError, match=why):
            addressing.check_address(NET, plan, bad)
    assert addressing.pool_holder(plan, "198.51.100.2") == "RegionOne"
    assert addressing.pool_holder(plan, "198.51.100.250") is None


def test_overlapping_pairs_are_found_only_within_one_ip_version():
    cidrs = {k: ipaddress.ip_network(v) for k, v in {
        "a": "203.0.113.0/25", "b": "203.0.113.64/26", "c": "203.0.113.128/25",
        "d": "2001:db8::/64"}.items()}
    assert addressing.overlapping(cidrs) == [("a", "b")]


def test_vni_ranges_parse_sort_and_refuse_overlaps_and_out_of_range():
    assert segments.parse_ranges(["500:600", "100:199", "7"]) == [(7, 7), (100, 199),
                                                                  (500, 600)]
    for bad in (["1:2", "2:3"], ["0:5"], ["5:1"], ["a:b"], [f"1:{2**24}"], []):
        with pytest.raises(ValueError):
            segments.parse_ranges(bad)


def test_first_free_segment_skips_taken_ids_across_ranges():
    ranges = [(10, 12), (20, 21)]
    assert segments.first_free(ranges, []) == 10
    assert segments.first_free(ranges, [10, 11, 5]) == 12
    assert segments.first_free(ranges, [10, 11, 12]) == 20
    assert segments.first_free(ranges, [10, 11, 12, 20, 21]) is None
    assert segments.capacity(ranges) == 5
