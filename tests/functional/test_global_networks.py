"""Cross-region networking over HTTP against the demo cloud: global networks built in
every region on one VXLAN segment with disjoint pools, overlapping CIDRs, shadow
ports that follow their port and are repaired, deletion refused while ports exist,
virtual IPs, cross-region security group rules, the L3 option, and every refusal."""

from __future__ import annotations

import ipaddress

import pytest
from kb_http import KingbirdHTTP, wait_for
from net_helpers import NetAPI, make_tenant, shadows_in

R1, R2, R3 = "RegionOne", "RegionTwo", "RegionThree"
ALL = [R1, R2, R3]


@pytest.fixture(scope="module")
def kb(cloud) -> KingbirdHTTP:
    return KingbirdHTTP(cloud.kingbird_root)


@pytest.fixture(scope="module")
def tenant(cloud, kb):
    return make_tenant(cloud, kb, "nettest")


@pytest.fixture(scope="module")
def api(kb, tenant) -> NetAPI:
    return NetAPI(kb, tenant.token(), tenant.project_id)


@pytest.fixture(scope="module")
def admin_api(kb, cloud, tenant) -> NetAPI:
    """An administrator acting for the test tenant (``/v1.0/{tenant}/...``)."""
    return NetAPI(kb, cloud.admin_token(), tenant.project_id)


@pytest.fixture(scope="module")
def shared(api):
    """One network over the three regions, shared by the tests that only add ports."""
    network = api.create("198.51.100.0/24", ALL, name="backup-plane", gateway_regions=[R1])
    yield api.wait_active(network["id"])
    api.delete(network["id"])  # the tests delete the ports they made


def _pool_addresses(network: dict, region: str) -> set[int]:
    pools = network["regions"][region]["allocation_pools"]
    return {v for p in pools for v in range(int(ipaddress.ip_address(p["start"])),
                                            int(ipaddress.ip_address(p["end"])) + 1)}


def test_a_global_network_is_one_vxlan_segment_in_every_region(cloud, api, admin_api, shared):
    admin_view = admin_api.show(shared["id"])
    segment = admin_view["segmentation_id"]
    assert admin_view["network_type"] == "vxlan"
    assert admin_view["regions"][R1]["tunnel_endpoint"] == "192.0.2.1"
    assert "segmentation_id" not in shared  # a member does not see provider attributes
    for region in ALL:
        part = shared["regions"][region]
        net = cloud.admin(region).network.get_network(part["network_id"])
        assert (net.provider_network_type, net.provider_segmentation_id) == ("vxlan", segment)
        assert net.project_id == api.base.rsplit("/", 1)[1]
        subnet = cloud.admin(region).network.get_subnet(part["subnet_id"])
        assert subnet.cidr == "198.51.100.0/24"
        assert subnet.allocation_pools == part["allocation_pools"]
        assert subnet.gateway_ip == ("198.51.100.1" if region == R1 else None)
    pools = [_pool_addresses(shared, r) for r in ALL]
    assert not (pools[0] & pools[1] or pools[0] & pools[2] or pools[1] & pools[2])


def test_two_networks_may_overlap_and_get_distinct_segments(api, admin_api, shared):
    other = api.create("198.51.100.0/24", [R1, R2], name="vnf-b")
    try:
        api.wait_active(other["id"])
        assert admin_api.show(other["id"])["segmentation_id"] != \
            admin_api.show(shared["id"])["segmentation_id"]
        listed = api.call("GET", "/os-global-networks").json()["global_networks"]
        assert {shared["id"], other["id"]} <= {n["id"] for n in listed}
    finally:
        api.delete(other["id"])


@pytest.mark.parametrize("body, status, message", [
    ({"global_network": {"cidr": "198.51.100.7/24", "regions": [R1]}}, 400, "host bits"),
    ({"global_network": {"cidr": "198.51.100.0/24", "regions": ["Nowhere"]}}, 400,
     "unknown region 'Nowhere'"),
    ({"global_network": {"cidr": "198.51.100.0/29", "regions": ALL}}, 400,
     "addresses for 3 region pools"),
    ({"global_network": {"cidr": "198.51.100.0/24", "regions": [R1], "mtu": 9000}}, 400,
     "unexpected keys in 'global_network': 'mtu'"),
    ({"global_network": {"regions": [R1]}}, 400, "missing 'global_network.cidr'"),
    ({"network": {}}, 400, "only 'global_network'"),
])
def test_bad_network_requests_are_refused_naming_the_problem(api, body, status, message):
    answer = api.call("POST", "/os-global-networks", body)
    assert answer.status_code == status, answer.text
    assert message in answer.json()["error"]["message"]


def test_unknown_and_foreign_networks_are_not_found_or_forbidden(cloud, kb, shared, tenant):
    demo_id = cloud.project_id("demo")
    member = NetAPI(kb, cloud.member_token(), demo_id)
    assert member.call("GET", f"/os-global-networks/{shared['id']}").status_code == 404
    assert member.call("DELETE", f"/os-global-networks/{shared['id']}").status_code == 404
    assert shared["id"] not in {n["id"] for n in member.call(
        "GET", "/os-global-networks").json()["global_networks"]}
    foreign = NetAPI(kb, cloud.member_token(), tenant.project_id)
    assert foreign.call("GET", "/os-global-networks").status_code == 403
    assert kb.call("GET", "/v1.1/os-global-networks/no-such-id",
                   tenant.token()).status_code == 404


def test_a_port_gets_shadows_that_follow_it_are_repaired_and_go_with_it(cloud, api, tenant,
                                                                        shared):
    net1 = shared["regions"][R1]["network_id"]
    port = tenant.conn(R1).network.create_port(network_id=net1, name="vm-a")
    answer = api.attach(shared["id"], R1, port.id)
    assert answer.status_code == 202 and answer.json()["port"]["source"] == "attached"
    seen = api.wait_port(shared["id"], port.id, regions=2)
    for region in (R2, R3):
        conn = cloud.admin(region)
        [shadow] = [s for s in shadows_in(conn, shared["regions"][region]["network_id"])
                    if s.binding_profile.get("port_id") == port.id]
        assert shadow.id == seen["shadows"][region]
        assert shadow.mac_address == port.mac_address
        assert shadow.fixed_ips[0]["ip_address"] == port.fixed_ips[0]["ip_address"]
        assert shadow.binding_host_id == "192.0.2.1"
        assert shadow.binding_profile == {"region": R1, "port_id": port.id,
                                          "tunnel_ip": "192.0.2.1"}
    # The port changes: its shadows follow (periodic poll, no API call).
    tenant.conn(R1).network.update_port(port, allowed_address_pairs=[
        {"ip_address": "203.0.113.10"}])

    def followed():
        shadow = cloud.admin(R2).network.get_port(seen["shadows"][R2])
        return [p["ip_address"] for p in shadow.allowed_address_pairs] == ["203.0.113.10"]

    wait_for(followed, timeout=20, what="shadow following the port's address pairs")
    # Drift: an operator deletes a shadow; Kingbird puts it back.
    cloud.admin(R3).network.delete_port(seen["shadows"][R3])
    wait_for(lambda: len([s for s in shadows_in(cloud.admin(R3),
                                                shared["regions"][R3]["network_id"])
                          if s.binding_profile.get("port_id") == port.id]) == 1,
             timeout=20, what="the deleted shadow recreated")
    # The port goes: so do its shadows.
    tenant.conn(R1).network.delete_port(port)
    wait_for(lambda: api.port(shared["id"], port.id) is None and not any(
        s.binding_profile.get("port_id") == port.id
        for r in (R2, R3) for s in shadows_in(cloud.admin(r),
                                              shared["regions"][r]["network_id"])),
        timeout=20, what="shadows removed with their port")


def test_ports_are_discovered_by_polling_without_attach(api, tenant, shared):
    port = tenant.conn(R2).network.create_port(network_id=shared["regions"][R2]["network_id"])
    try:
        seen = api.wait_port(shared["id"], port.id, regions=2)
        assert seen["source"] == "polled"
        assert seen["fixed_ips"] == [port.fixed_ips[0]["ip_address"]]
        address = int(ipaddress.ip_address(seen["fixed_ips"][0]))
        assert address in _pool_addresses(shared, R2)
    finally:
        tenant.conn(R2).network.delete_port(port)


def test_attach_refuses_foreign_and_unknown_ports(cloud, api, shared):
    other = cloud.admin(R1).network.create_network(name="not-global")
    try:
        stray = cloud.admin(R1).network.create_port(network_id=other.id)
        for region, port_id, status in ((R1, stray.id, 404), (R1, "no-such-port", 404),
                                        ("Nowhere", stray.id, 400)):
            answer = api.attach(shared["id"], region, port_id)
            assert answer.status_code == status, answer.text
        cloud.admin(R1).network.delete_port(stray)
    finally:
        cloud.admin(R1).network.delete_network(other)


def test_delete_is_refused_while_ports_exist_then_removes_every_part(cloud, api, tenant):
    network = api.wait_active(api.create("203.0.113.0/24", [R1, R2])["id"])
    port = tenant.conn(R2).network.create_port(network_id=network["regions"][R2]["network_id"])
    answer = api.call("DELETE", f"/os-global-networks/{network['id']}")
    assert answer.status_code == 409, answer.text
    assert port.id in answer.json()["error"]["message"]
    tenant.conn(R2).network.delete_port(port)
    api.delete(network["id"])
    for region in (R1, R2):
        assert cloud.admin(region).network.find_network(
            network["regions"][region]["network_id"]) is None


def test_a_vip_is_reserved_in_every_region_and_allowed_on_ports_of_two(cloud, api, tenant,
                                                                        shared):
    p1 = tenant.conn(R1).network.create_port(network_id=shared["regions"][R1]["network_id"])
    p2 = tenant.conn(R2).network.create_port(network_id=shared["regions"][R2]["network_id"])
    base = f"/os-global-networks/{shared['id']}/vips"
    try:
        empty = api.call("POST", base, {"vip": {"ports": []}})
        assert empty.status_code == 400 and "at least one port" in empty.text
        one = [{"region": R1, "port_id": p1.id}]
        bad = api.call("POST", base, {"vip": {"ip_address": "198.51.100.20", "ports": one}})
        assert bad.status_code == 400 and "allocation pool of RegionOne" in bad.text
        answer = api.call("POST", base, {"vip": {"ports": [
            {"region": R1, "port_id": p1.id}, {"region": R2, "port_id": p2.id}]}})
        assert answer.status_code == 202, answer.text
        vip = answer.json()["vip"]
        assert vip["ip_address"] == "198.51.100.247"  # first reserved address
        again = api.call("POST", base, {"vip": {"ip_address": vip["ip_address"], "ports": one}})
        assert again.status_code == 409

        def active():
            body = api.call("GET", f"{base}/{vip['id']}").json()["vip"]
            return body if body["status"] == "ACTIVE" else None

        body = wait_for(active, timeout=20, what="VIP active")
        assert set(body["reservations"]) == set(ALL)
        for region, port in ((R1, p1), (R2, p2)):
            pairs = cloud.admin(region).network.get_port(port.id).allowed_address_pairs
            assert [p["ip_address"] for p in pairs] == [vip["ip_address"]]
        # The standby's shadow in the active's region allows the VIP too.
        seen = api.wait_port(shared["id"], p2.id, regions=2)
        shadow = cloud.admin(R1).network.get_port(seen["shadows"][R1])
        assert [p["ip_address"] for p in shadow.allowed_address_pairs] == [vip["ip_address"]]
        # Moving the VIP to p2 only removes it from p1.
        moved = api.call("PUT", f"{base}/{vip['id']}",
                         {"vip": {"ports": [{"region": R2, "port_id": p2.id}]}})
        assert moved.status_code == 202
        wait_for(lambda: cloud.admin(R1).network.get_port(p1.id).allowed_address_pairs == [],
                 timeout=20, what="VIP removed from the first port")
        assert api.call("DELETE", f"{base}/{vip['id']}").status_code == 202
        wait_for(lambda: api.call("GET", f"{base}/{vip['id']}").status_code == 404,
                 timeout=20, what="VIP released")
        assert cloud.admin(R2).network.get_port(p2.id).allowed_address_pairs == []
    finally:
        tenant.conn(R1).network.delete_port(p1)
        tenant.conn(R2).network.delete_port(p2)


def test_a_remote_group_in_another_region_becomes_cidr_rules_kept_up_to_date(cloud, api,
                                                                            tenant, shared):
    web = tenant.conn(R1).network.create_security_group(name="web")
    dbg = tenant.conn(R2).network.create_security_group(name="db")
    base = "/os-global-security-group-rules"
    rule = {"region": R2, "security_group_id": dbg.id, "direction": "ingress",
            "protocol": "tcp", "port_range_min": 5432, "port_range_max": 5432,
            "remote_region": R1, "remote_group_id": web.id}
    member_port = tenant.conn(R1).network.create_port(
        network_id=shared["regions"][R1]["network_id"], security_group_ids=[web.id])
    try:
        foreign = cloud.admin(R1).network.create_security_group(name="not-theirs")
        answer = api.call("POST", base, {"global_security_group_rule": {
            **rule, "remote_group_id": foreign.id}})
        assert answer.status_code == 404, answer.text
        cloud.admin(R1).network.delete_security_group(foreign)
        answer = api.call("POST", base, {"global_security_group_rule": rule})
        assert answer.status_code == 202, answer.text
        rule_id = answer.json()["global_security_group_rule"]["id"]

        def prefixes():
            return sorted(r.remote_ip_prefix for r in tenant.conn(R2).network
                          .security_group_rules(security_group_id=dbg.id)
                          if r.description == f"kingbird-global-rule:{rule_id}")

        address = member_port.fixed_ips[0]["ip_address"]
        wait_for(lambda: prefixes() == [f"{address}/32"], timeout=20, what="expanded rule")
        shown = api.call("GET", f"{base}/{rule_id}").json()["global_security_group_rule"]
        assert shown["expanded"] == [f"{address}/32"] and shown["status"] == "ACTIVE"
        tenant.conn(R1).network.delete_port(member_port)
        wait_for(lambda: prefixes() == [], timeout=20, what="rule of a gone member removed")
        assert api.call("DELETE", f"{base}/{rule_id}").status_code == 202
        wait_for(lambda: api.call("GET", f"{base}/{rule_id}").status_code == 404,
                 timeout=20, what="rule deleted")
    finally:
        if tenant.conn(R1).network.find_port(member_port.id):
            tenant.conn(R1).network.delete_port(member_port)
        tenant.conn(R1).network.delete_security_group(web)
        tenant.conn(R2).network.delete_security_group(dbg)


def test_global_router_connects_distinct_subnets_through_a_transit_network(cloud, api, tenant):
    transit = api.wait_active(api.create("198.51.100.0/26", [R1, R2], name="transit")["id"])
    lans, subnets = {}, {}
    for region, cidr in ((R1, "203.0.113.0/26"), (R2, "203.0.113.64/26")):
        lans[region] = tenant.conn(region).network.create_network(name="lan")
        subnets[region] = tenant.conn(region).network.create_subnet(
            network_id=lans[region].id, cidr=cidr, ip_version=4).id
    clash = tenant.conn(R2).network.create_network(name="clash")
    lans["clash"] = clash
    clash_subnet = tenant.conn(R2).network.create_subnet(
        network_id=clash.id, cidr="198.51.100.32/27", ip_version=4).id
    base = "/os-global-routers"
    try:
        for wrong, message in (({R1: subnets[R1], R2: clash_subnet}, "overlaps transit"),
                               ({R1: subnets[R1], R3: subnets[R2]}, "does not span")):
            refused = api.call("POST", base, {"global_router": {
                "transit": {"global_network_id": transit["id"]}, "subnets": wrong}})
            assert refused.status_code == 400 and message in refused.text, refused.text
        answer = api.call("POST", base, {"global_router": {
            "name": "l3", "transit": {"global_network_id": transit["id"]},
            "subnets": subnets}})
        assert answer.status_code == 202, answer.text
        router_id = answer.json()["global_router"]["id"]
        busy = api.call("DELETE", f"/os-global-networks/{transit['id']}")
        assert busy.status_code == 409 and router_id in busy.text

        def active():
            body = api.call("GET", f"{base}/{router_id}").json()["global_router"]
            return body if body["status"] == "ACTIVE" else None

        body = wait_for(active, timeout=20, what="global router active")
        one, two = body["regions"][R1], body["regions"][R2]
        routes = cloud.admin(R1).network.get_router(one["router_id"]).routes
        assert routes == [{"destination": "203.0.113.64/26", "nexthop": two["transit_ip"]}]
        assert ipaddress.ip_address(two["transit_ip"]) in ipaddress.ip_network("198.51.100.0/26")
        assert api.call("DELETE", f"{base}/{router_id}").status_code == 202
        wait_for(lambda: api.call("GET", f"{base}/{router_id}").status_code == 404,
                 timeout=20, what="global router deleted")
        assert cloud.admin(R1).network.find_router(one["router_id"]) is None
    finally:
        for region, lan in lans.items():
            tenant.conn(R2 if region == "clash" else region).network.delete_network(lan)
        api.delete(transit["id"])
