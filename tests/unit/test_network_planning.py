"""Shadow-port planning, VIP pairs and reservations, cross-region rule expansion and
L3 routes: plain values in, plans out."""

from __future__ import annotations

from kingbird.network import routes, secgroups, vips
from kingbird.network.shadows import SHADOW_OWNER, VIP_OWNER, Port, plan_shadows, shadow_spec

R1, R2, R3 = "RegionOne", "RegionTwo", "RegionThree"
TUNNELS = {R1: "192.0.2.1", R2: "192.0.2.2", R3: "192.0.2.3"}


def port(pid, region, mac, *ips, owner="compute:nova", pairs=(), security=True):
    return Port(id=pid, region=region, mac=mac, ips=tuple(sorted(ips)),
                pairs=tuple(sorted(pairs)), port_security=security, device_owner=owner)


def shadow_of(source: Port, region: str, sid: str, **changes) -> Port:
    spec = shadow_spec(source, TUNNELS[source.region])
    body = spec.create_body()
    values = dict(id=sid, region=region, mac=spec.mac, ips=spec.ips, pairs=spec.pairs,
                  port_security=spec.port_security, device_owner=SHADOW_OWNER,
                  device_id=source.id, host=spec.tunnel_ip, name=body["name"],
                  profile=spec.profile)
    values.update(changes)
    return Port(**values)


VM1 = port("p1", R1, "fa:16:3e:00:00:01", "198.51.100.2")
VM2 = port("p2", R2, "fa:16:3e:00:00:02", "198.51.100.90")


def test_a_port_gets_one_shadow_in_every_other_region_bound_to_its_tunnel_endpoint():
    plan = plan_shadows([R1, R2, R3], {R1: [VM1], R2: [], R3: []}, TUNNELS)
    assert sorted(region for region, _ in plan.creates) == sorted([R2, R3])
    body = plan.creates[0][1].create_body()
    assert body["mac_address"] == VM1.mac
    assert body["fixed_ips"] == [{"ip_address": "198.51.100.2"}]
    assert body["device_owner"] == "compute:shadow"
    assert body["binding:host_id"] == "192.0.2.1"
    assert body["binding:profile"] == {"region": R1, "port_id": "p1", "tunnel_ip": "192.0.2.1"}
    assert body["security_groups"] == []
    assert plan.shadows[(R1, "p1")] == {R2: None, R3: None}
    assert not plan.updates and not plan.deletes


def test_shadows_in_sync_need_nothing_and_are_reported():
    observed = {R1: [VM1, shadow_of(VM2, R1, "s21")], R2: [VM2, shadow_of(VM1, R2, "s12")]}
    plan = plan_shadows([R1, R2], observed, TUNNELS)
    assert plan.empty()
    assert plan.shadows == {(R1, "p1"): {R2: "s12"}, (R2, "p2"): {R1: "s21"}}


def test_a_shadow_follows_new_addresses_and_pairs_of_its_port():
    moved = port("p1", R1, VM1.mac, "198.51.100.3", pairs=[("198.51.100.250", VM1.mac)])
    plan = plan_shadows([R1, R2], {R1: [moved], R2: [shadow_of(VM1, R2, "s12")]}, TUNNELS)
    assert plan.updates == [(R2, "s12", {
        "fixed_ips": [{"ip_address": "198.51.100.3"}],
        "allowed_address_pairs": [{"ip_address": "198.51.100.250", "mac_address": VM1.mac}]})]


def test_a_shadow_with_another_mac_is_replaced_and_deletion_comes_first():
    stale = shadow_of(VM1, R2, "s12", mac="fa:16:3e:99:99:99")
    plan = plan_shadows([R1, R2], {R1: [VM1], R2: [stale]}, TUNNELS)
    assert plan.deletes == [(R2, "s12")]
    assert [(r, s.source_id) for r, s in plan.creates] == [(R2, "p1")]


def test_a_shadow_whose_port_is_gone_is_deleted():
    plan = plan_shadows([R1, R2], {R1: [], R2: [shadow_of(VM1, R2, "s12")]}, TUNNELS)
    assert plan.deletes == [(R2, "s12")]


def test_shadows_of_a_region_that_did_not_answer_are_kept():
    plan = plan_shadows([R1, R2], {R2: [shadow_of(VM1, R2, "s12")]}, TUNNELS)
    assert plan.empty()


def test_nothing_is_created_in_a_region_that_did_not_answer():
    plan = plan_shadows([R1, R2, R3], {R1: [VM1], R2: []}, TUNNELS)
    assert [r for r, _ in plan.creates] == [R2]
    assert plan.shadows[(R1, "p1")][R3] is None


def test_duplicate_shadows_are_pruned_to_one():
    plan = plan_shadows([R1, R2], {R1: [VM1], R2: [shadow_of(VM1, R2, "a"),
                                                    shadow_of(VM1, R2, "b")]}, TUNNELS)
    assert plan.deletes == [(R2, "b")] and not plan.creates


def test_shadows_vips_and_dhcp_ports_are_never_shadowed_themselves():
    others = [port("d", R1, "fa:16:3e:00:00:0d", "198.51.100.4", owner="network:dhcp"),
              port("v", R1, "fa:16:3e:00:00:0e", "198.51.100.250", owner=VIP_OWNER),
              shadow_of(VM2, R1, "s21")]
    plan = plan_shadows([R1, R2], {R1: others, R2: [VM2]}, TUNNELS)
    assert plan.empty()


def test_a_router_interface_is_shadowed_like_any_port():
    gateway = port("gw", R1, "fa:16:3e:00:00:10", "198.51.100.1",
                   owner="network:router_interface")
    plan = plan_shadows([R1, R2], {R1: [gateway], R2: []}, TUNNELS)
    assert [s.source_id for _, s in plan.creates] == ["gw"]


def test_an_address_used_in_two_regions_is_a_conflict_not_a_shadow():
    clash = port("px", R2, "fa:16:3e:00:00:22", "198.51.100.2")
    plan = plan_shadows([R1, R2], {R1: [VM1], R2: [clash]}, TUNNELS)
    assert not plan.creates
    assert "address 198.51.100.2 is also used by port px in RegionTwo" in \
        plan.conflicts[(R1, "p1")]
    assert (R2, "px") in plan.conflicts


def test_port_security_off_drops_pairs_from_the_shadow():
    open_port = port("p9", R1, "fa:16:3e:00:00:09", "198.51.100.9", security=False,
                     pairs=[("198.51.100.250", "fa:16:3e:00:00:09")])
    body = shadow_spec(open_port, "192.0.2.1").create_body()
    assert body["port_security_enabled"] is False and body["allowed_address_pairs"] == []


def test_a_shadow_that_drifted_in_binding_is_set_back():
    drifted = shadow_of(VM1, R2, "s12", host="elsewhere", profile={"region": R1,
                                                                    "port_id": "p1"})
    plan = plan_shadows([R1, R2], {R1: [VM1], R2: [drifted]}, TUNNELS)
    assert plan.updates == [(R2, "s12", {
        "binding:host_id": "192.0.2.1",
        "binding:profile": {"region": R1, "port_id": "p1", "tunnel_ip": "192.0.2.1"}})]


def test_port_from_neutron_reads_the_admin_view():
    body = {"id": "p", "mac_address": "FA:16:3E:00:00:01", "device_owner": SHADOW_OWNER,
            "fixed_ips": [{"subnet_id": "s", "ip_address": "198.51.100.5"}],
            "allowed_address_pairs": [{"ip_address": "198.51.100.250"}],
            "binding:host_id": "192.0.2.1",
            "binding:profile": {"region": R1, "port_id": "q", "tunnel_ip": "192.0.2.1"}}
    read = Port.from_neutron(R2, body)
    assert read.mac == "fa:16:3e:00:00:01"
    assert read.pairs == (("198.51.100.250", "fa:16:3e:00:00:01"),)
    assert read.shadow_of == (R1, "q") and not read.is_source


# -- VIPs ---------------------------------------------------------------------------

def test_vip_pairs_are_added_and_removed_while_user_pairs_stay():
    holder = port("p1", R1, "fa:16:3e:00:00:01", "198.51.100.2",
                  pairs=[("203.0.113.7", "fa:16:3e:00:00:01")])
    pairs = vips.wanted_pairs(holder, {"198.51.100.250"}, {"198.51.100.250"})
    assert pairs == [{"ip_address": "203.0.113.7", "mac_address": "fa:16:3e:00:00:01"},
                     {"ip_address": "198.51.100.250", "mac_address": "fa:16:3e:00:00:01"}]
    holding = port("p1", R1, holder.mac, "198.51.100.2",
                   pairs=[("198.51.100.250/32", holder.mac)])
    assert vips.wanted_pairs(holding, set(), {"198.51.100.250"}) == []
    assert vips.wanted_pairs(holding, {"198.51.100.250"}, {"198.51.100.250"}) is None


def test_reservations_are_created_once_and_stale_ones_deleted():
    kept = Port(id="r1", region=R1, mac="m", ips=("198.51.100.250",), device_owner=VIP_OWNER,
                device_id="vip-a")
    stale = Port(id="r2", region=R1, mac="n", ips=("198.51.100.251",), device_owner=VIP_OWNER,
                 device_id="vip-gone")
    plan = vips.plan_reservations({"vip-a": "198.51.100.250", "vip-b": "198.51.100.252"},
                                  [kept, stale, VM1])
    assert plan.held == {"vip-a": "r1"}
    assert plan.deletes == ["r2"]
    assert plan.creates == [("vip-b", "198.51.100.252")]


# -- security groups and routes ---------------------------------------------------

def test_remote_group_members_expand_to_host_prefixes_of_the_rule_version():
    members = [{"fixed_ips": [{"ip_address": "198.51.100.5"}, {"ip_address": "2001:db8::5"}],
                "allowed_address_pairs": [{"ip_address": "198.51.100.250"},
                                          {"ip_address": "203.0.113.0/28"}]}]
    assert secgroups.member_prefixes(members, "IPv4") == {
        "198.51.100.5/32", "198.51.100.250/32", "203.0.113.0/28"}
    assert secgroups.member_prefixes(members, "IPv6") == {"2001:db8::5/128"}


def test_rule_plan_creates_missing_and_deletes_stale_and_duplicate_rules():
    create, delete = secgroups.plan_rules(
        {"198.51.100.5/32", "198.51.100.6/32"},
        {"198.51.100.5/32": ["r5", "r5bis"], "198.51.100.9/32": ["r9"]})
    assert create == ["198.51.100.6/32"]
    assert sorted(delete) == ["r5bis", "r9"]


def test_expanded_rule_copies_the_spec_and_carries_the_marker():
    spec = {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
            "port_range_min": 5432, "port_range_max": 5432, "region": "ignored"}
    assert secgroups.rule_body(spec, "198.51.100.5/32", "g1") == {
        "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp", "port_range_min": 5432,
        "port_range_max": 5432, "remote_ip_prefix": "198.51.100.5/32",
        "description": "kingbird-global-rule:g1"}


def test_each_region_routes_to_every_other_subnet_through_its_router():
    sites = {R1: routes.Site("203.0.113.0/26", "198.51.100.10"),
             R2: routes.Site("203.0.113.64/26", "198.51.100.90"),
             R3: routes.Site("203.0.113.128/26", "198.51.100.170")}
    plan = routes.plan_routes(sites)
    assert plan[R1] == [{"destination": "203.0.113.128/26", "nexthop": "198.51.100.170"},
                        {"destination": "203.0.113.64/26", "nexthop": "198.51.100.90"}]
    assert len(plan[R2]) == 2 and len(plan[R3]) == 2


def test_route_merge_keeps_user_routes_and_replaces_kingbirds():
    user = {"destination": "0.0.0.0/0", "nexthop": "203.0.113.1"}
    old = {"destination": "203.0.113.64/26", "nexthop": "198.51.100.80"}
    new = {"destination": "203.0.113.64/26", "nexthop": "198.51.100.90"}
    assert routes.merge_routes([user, old], [new], [old]) == [user, new]
    assert routes.merge_routes([user, new], [new], [new]) is None
