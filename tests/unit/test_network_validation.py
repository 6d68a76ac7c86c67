"""Request bodies of the networking API: every refusal names the field."""

from __future__ import annotations

import pytest

from kingbird.core import exceptions
from kingbird.network import validation as checks
from kingbird.network.settings import NetworkingSettings

KNOWN = ["RegionOne", "RegionTwo", "RegionThree"]
SETTINGS = NetworkingSettings(tunnels={"RegionOne": "192.0.2.1", "RegionTwo": "192.0.2.2"})


def net(**fields):
    return {"global_network": {"cidr": "198.51.100.0/24", "regions": ["RegionOne", "RegionTwo"],
                               **fields}}


def test_a_complete_network_request_is_read():
    request = checks.global_network(net(name="bp", gateway_regions=["RegionTwo"],
                                        reserved_addresses=4), KNOWN, SETTINGS)
    assert (request.name, str(request.cidr), request.regions, request.gateway_regions,
            request.reserved) == ("bp", "198.51.100.0/24", ["RegionOne", "RegionTwo"],
                                  ["RegionTwo"], 4)
    assert checks.global_network(net(), KNOWN, SETTINGS).reserved == 8


@pytest.mark.parametrize("body, message", [
    ({"network": {}}, "only 'global_network'"),
    ({"global_network": []}, "must be an object"),
    (net(colour="red"), "unexpected keys in 'global_network': 'colour'"),
    ({"global_network": {"regions": ["RegionOne"]}}, "missing 'global_network.cidr'"),
    (net(cidr="198.51.100.1/24"), "host bits set"),
    (net(regions=["Atlantis"]), "unknown region 'Atlantis'"),
    (net(regions=["RegionOne", "RegionOne"]), "names a region twice"),
    (net(regions=[]), "at least 1 region"),
    (net(regions=["RegionOne", "RegionThree"]), "no tunnel endpoint is configured for "
                                                "RegionThree"),
    (net(gateway_regions=["RegionThree"]), "gateway_regions[0]': unknown region"),
    (net(reserved_addresses=-1), "between 0 and"),
    (net(reserved_addresses=True), "must be an integer"),
    (net(name=7), "'global_network.name' must be a string"),
])
def test_bad_network_requests_name_the_field(body, message):
    with pytest.raises(exceptions.BadRequest) as caught:
        checks.global_network(body, KNOWN, SETTINGS)
    assert message in caught.value.message


def test_port_references_must_name_a_region_of_the_network():
    assert checks.attach({"port": {"region": "RegionOne", "port_id": "p"}}, ["RegionOne"]) == {
        "region": "RegionOne", "port_id": "p"}
    with pytest.raises(exceptions.BadRequest, match="does not span 'RegionTwo'"):
        checks.attach({"port": {"region": "RegionTwo", "port_id": "p"}}, ["RegionOne"])
    with pytest.raises(exceptions.BadRequest, match="not a valid id"):
        checks.attach({"port": {"region": "RegionOne", "port_id": "../x"}}, ["RegionOne"])


def test_vip_requests_may_omit_the_address_but_not_repeat_a_port():
    ref = {"region": "RegionOne", "port_id": "p"}
    assert checks.vip({"vip": {"ports": [ref]}}, ["RegionOne"], creating=True) == (None, [ref])
    with pytest.raises(exceptions.BadRequest, match="names a port twice"):
        checks.vip({"vip": {"ports": [ref, ref]}}, ["RegionOne"], creating=True)
    with pytest.raises(exceptions.BadRequest, match="unexpected keys in 'vip': 'ip_address'"):
        checks.vip({"vip": {"ip_address": "x", "ports": []}}, ["RegionOne"], creating=False)


def rule(**fields):
    return {"global_security_group_rule": {
        "region": "RegionTwo", "security_group_id": "g2", "direction": "ingress",
        "remote_region": "RegionOne", "remote_group_id": "g1", **fields}}


def test_sg_rule_defaults_and_refusals():
    read = checks.sg_rule(rule(protocol="TCP", port_range_min=22, port_range_max=22), KNOWN)
    assert read["ethertype"] == "IPv4" and read["protocol"] == "tcp"
    assert checks.sg_rule(rule(protocol=6), KNOWN)["protocol"] == "6"
    for fields, message in (({"remote_region": "RegionTwo"}, "same region"),
                            ({"direction": "sideways"}, "direction' must be one of"),
                            ({"ethertype": "IPX"}, "ethertype' must be one of"),
                            ({"port_range_min": 22}, "give both"),
                            ({"port_range_min": 22, "port_range_max": 22}, "needs a protocol"),
                            ({"protocol": "tcp", "port_range_min": 23, "port_range_max": 22},
                             "greater than"),
                            ({"port_range_min": 70000, "port_range_max": 70000,
                              "protocol": "tcp"}, "between 0 and 65535")):
        with pytest.raises(exceptions.BadRequest) as caught:
            checks.sg_rule(rule(**fields), KNOWN)
        assert message in caught.value.message


def test_router_requests_need_two_regions_and_one_kind_of_transit():
    subnets = {"RegionOne": "s1", "RegionTwo": "s2"}
    spec = checks.router({"global_router": {"transit": {"global_network_id": "g"},
                                            "subnets": subnets}}, KNOWN)
    assert spec["transit_network_id"] == "g" and spec["subnets"] == subnets
    for body, message in (
            ({"transit": {"global_network_id": "g"}, "subnets": {"RegionOne": "s1"}},
             "at least two regions"),
            ({"transit": {"x": 1}, "subnets": subnets}, "'global_router.transit' must be"),
            ({"transit": {"networks": {"RegionOne": "n1"}}, "subnets": subnets},
             "no network for RegionTwo")):
        with pytest.raises(exceptions.BadRequest) as caught:
            checks.router({"global_router": body}, KNOWN)
        assert message in caught.value.message


def test_settings_refuse_a_tunnel_endpoint_that_is_not_an_address():
    with pytest.raises(ValueError, match="RegionOne is not an IP address"):
        NetworkingSettings.from_values({"RegionOne": "host-a"}, ["1:9"], 10, 8)
    read = NetworkingSettings.from_values({"RegionOne": " 2001:DB8::1 "}, ["1:9"], 10, 8)
    assert read.tunnels == {"RegionOne": "2001:db8::1"} and read.vni_ranges == ((1, 9),)
