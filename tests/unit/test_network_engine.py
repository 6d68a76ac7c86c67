"""The networking reconcilers against in-process regionsim regions and a real SQLite
database: regional parts, shadow ports (create, follow, repair, delete), a region
that does not answer, a refused VXLAN id, VIPs, cross-region rules, global routers,
deletion, and exclusive leases."""

from __future__ import annotations

import pytest
from _network_sim import SimRegions, member

from kingbird.network import addressing
from kingbird.network import policy_repository as net_policies_db
from kingbird.network import reconcile_leases as reconcile_db
from kingbird.network import repository as networks_db
from kingbird.network.l2 import GlobalNetworkReconciler
from kingbird.network.policy_reconciler import GlobalRouterReconciler, SecurityGroupRuleReconciler
from kingbird.network.settings import NetworkingSettings
from kingbird.network.worker import NetworkWorker
from kingbird.regions.networking import RegionNetworking

R1, R2, R3 = "RegionOne", "RegionTwo", "RegionThree"
PROJECT = "tenant-a"
SETTINGS = NetworkingSettings(tunnels={R1: "192.0.2.1", R2: "192.0.2.2", R3: "192.0.2.3"},
                              vni_ranges=((5000, 5009),), poll_interval=60)


@pytest.fixture
def sim():
    return SimRegions([R1, R2, R3])


@pytest.fixture
def worker(tx, sim):
    neutron = RegionNetworking(sim)
    reconcilers = {"network": GlobalNetworkReconciler(tx, neutron, SETTINGS),
                   "sg_rule": SecurityGroupRuleReconciler(tx, neutron),
                   "router": GlobalRouterReconciler(tx, neutron)}
    w = NetworkWorker(reconcilers, tx, "engine-1", poll_interval=60, lease_seconds=30,
                      workers=1)
    yield w
    w.shutdown()


def make_network(tx, regions=(R1, R2, R3), cidr="198.51.100.0/24", gateways=(R1,),
                 reserved=8) -> str:
    net = addressing.parse_cidr(cidr)
    layout = addressing.plan_addressing(net, list(regions), list(gateways), reserved)
    with tx() as session:
        return networks_db.create_global_network(
            session, project_id=PROJECT, name="backup", cidr=cidr, ip_version=4,
            gateway_regions=list(gateways), reserved=reserved,
            parts={r: layout[r].as_dict() for r in regions},
            ranges=SETTINGS.vni_ranges)["id"]


def network(tx, network_id):
    with tx() as session:
        return networks_db.get_global_network(session, network_id)


def part(tx, network_id, region):
    return next(r for r in network(tx, network_id)["regions"] if r["region"] == region)


def user_port(sim, region, network_id, **body):
    return sim.request(region, "POST", "/ports", member(PROJECT),
                       {"port": {"network_id": network_id, **body}})["port"]


def shadows_in(sim, region, net_id):
    return [p for p in sim.ports(region, network_id=net_id)
            if p["device_owner"] == "compute:shadow"]


def test_regional_parts_share_the_segment_and_split_the_cidr(tx, sim, worker):
    network_id = make_network(tx)
    assert worker.run_once("network", network_id)
    net = network(tx, network_id)
    assert net["status"] == "ACTIVE" and net["segmentation_id"] == 5000
    pools = []
    for row in net["regions"]:
        body = sim.request(row["region"], "GET", f"/networks/{row['neutron_network_id']}")
        assert body["network"]["provider:segmentation_id"] == 5000
        assert body["network"]["project_id"] == PROJECT
        subnet = sim.request(row["region"], "GET", f"/subnets/{row['neutron_subnet_id']}")
        assert subnet["subnet"]["cidr"] == "198.51.100.0/24"
        pools.append(subnet["subnet"]["allocation_pools"][0])
    assert pools[0]["start"] == "198.51.100.2" and pools[2]["end"] == "198.51.100.246"
    assert part(tx, network_id, R1)["gateway_ip"] == "198.51.100.1"
    # A second reconcile creates nothing more.
    before = len(sim.calls)
    worker.run_once("network", network_id)
    assert not [c for c in sim.calls[before:] if c[1] != "GET"]
    # The tenant widens its pool over its neighbour's: the next reconcile sets it back.
    row = part(tx, network_id, R2)
    sim.request(R2, "PUT", f"/subnets/{row['neutron_subnet_id']}", member(PROJECT), {"subnet": {
        "allocation_pools": [{"start": "198.51.100.2", "end": "198.51.100.250"}]}})
    worker.run_once("network", network_id)
    subnet = sim.request(R2, "GET", f"/subnets/{row['neutron_subnet_id']}")["subnet"]
    assert subnet["allocation_pools"] == row["allocation_pools"]


def test_a_port_is_shadowed_followed_repaired_and_its_shadows_removed(tx, sim, worker):
    network_id = make_network(tx)
    worker.run_once("network", network_id)
    net1, net2 = (part(tx, network_id, r)["neutron_network_id"] for r in (R1, R2))
    port = user_port(sim, R1, net1)
    worker.run_once("network", network_id)
    [shadow] = shadows_in(sim, R2, net2)
    assert shadow["mac_address"] == port["mac_address"]
    assert shadow["fixed_ips"][0]["ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert shadow["binding:host_id"] == "192.0.2.1"
    assert shadow["binding:profile"]["port_id"] == port["id"]
    with tx() as session:
        [row] = networks_db.network_ports(session, network_id)
    assert row["status"] == "ACTIVE" and set(row["shadows"]) == {R2, R3}

    sim.request(R1, "PUT", f"/ports/{port['id']}", member(PROJECT), {"port": {
        "allowed_address_pairs": [{"ip_address": "203.0.113.9"}]}})
    worker.run_once("network", network_id)
    [shadow] = shadows_in(sim, R2, net2)
    assert shadow["allowed_address_pairs"][0]["ip_address"] == "203.0.113.9"

    sim.request(R2, "DELETE", f"/ports/{shadow['id']}")  # drift: someone deletes a shadow
    worker.run_once("network", network_id)
    assert len(shadows_in(sim, R2, net2)) == 1

    sim.request(R1, "DELETE", f"/ports/{port['id']}", member(PROJECT))
    worker.run_once("network", network_id)
    assert shadows_in(sim, R2, net2) == [] and shadows_in(
        sim, R3, part(tx, network_id, R3)["neutron_network_id"]) == []
    with tx() as session:
        assert networks_db.network_ports(session, network_id) == []


def test_a_region_that_does_not_answer_keeps_its_ports_shadows(tx, sim, worker):
    network_id = make_network(tx)
    worker.run_once("network", network_id)
    net1, net2 = (part(tx, network_id, r)["neutron_network_id"] for r in (R1, R2))
    user_port(sim, R1, net1)
    worker.run_once("network", network_id)
    sim.down.add(R1)
    worker.run_once("network", network_id)
    assert len(shadows_in(sim, R2, net2)) == 1
    net = network(tx, network_id)
    assert net["status"] == "ERROR" and "RegionOne" in net["error"]
    sim.down.clear()
    worker.run_once("network", network_id)
    assert network(tx, network_id)["status"] == "ACTIVE"


def test_a_vxlan_id_taken_in_a_region_is_blocked_and_the_network_moves(tx, sim, worker):
    sim.request(R2, "POST", "/networks", body={"network": {
        "name": "squatter", "provider:network_type": "vxlan", "provider:segmentation_id": 5000}})
    network_id = make_network(tx)
    worker.run_once("network", network_id)
    assert network(tx, network_id)["segmentation_id"] == 5001
    worker.run_once("network", network_id)
    net = network(tx, network_id)
    assert net["status"] == "ACTIVE"
    for row in net["regions"]:
        body = sim.request(row["region"], "GET", f"/networks/{row['neutron_network_id']}")
        assert body["network"]["provider:segmentation_id"] == 5001
    assert len(sim.request(R1, "GET", "/networks")["networks"]) == 1  # the first one is gone
    assert make_network(tx, cidr="203.0.113.0/24") and \
        network(tx, make_network(tx, cidr="10.0.0.0/24"))["segmentation_id"] == 5003


def test_a_vip_is_reserved_everywhere_and_allowed_on_its_ports(tx, sim, worker):
    network_id = make_network(tx, regions=(R1, R2))
    worker.run_once("network", network_id)
    net1, net2 = (part(tx, network_id, r)["neutron_network_id"] for r in (R1, R2))
    p1, p2 = user_port(sim, R1, net1), user_port(sim, R2, net2)
    with tx() as session:
        vip = networks_db.create_vip(session, network_id, "198.51.100.250",
                                     [{"region": R1, "port_id": p1["id"]},
                                      {"region": R2, "port_id": p2["id"]}])
    worker.run_once("network", network_id)
    with tx() as session:
        stored = networks_db.get_vip(session, network_id, vip["id"])
    assert stored["status"] == "ACTIVE", stored["error"]
    for region, net_id, holder in ((R1, net1, p1), (R2, net2, p2)):
        ports = sim.ports(region, network_id=net_id)
        [reservation] = [p for p in ports if p["device_owner"] == "kingbird:vip"]
        assert reservation["fixed_ips"][0]["ip_address"] == "198.51.100.250"
        mine = next(p for p in ports if p["id"] == holder["id"])
        assert mine["allowed_address_pairs"] == [{"ip_address": "198.51.100.250",
                                                  "mac_address": holder["mac_address"]}]
        [shadow] = [p for p in ports if p["device_owner"] == "compute:shadow"]
        assert shadow["allowed_address_pairs"][0]["ip_address"] == "198.51.100.250"
    with tx() as session:
        networks_db.update_vip(session, vip["id"], status="DELETING")
    worker.run_once("network", network_id)
    with tx() as session:
        assert networks_db.get_vip(session, network_id, vip["id"]) is None
    for region, net_id in ((R1, net1), (R2, net2)):
        ports = sim.ports(region, network_id=net_id)
        assert not [p for p in ports if p["device_owner"] == "kingbird:vip"]
        assert all(p["allowed_address_pairs"] == [] for p in ports)


def test_deleting_removes_kingbird_ports_and_regional_parts_then_forgets(tx, sim, worker):
    network_id = make_network(tx)
    worker.run_once("network", network_id)
    net1 = part(tx, network_id, R1)["neutron_network_id"]
    port = user_port(sim, R1, net1)
    worker.run_once("network", network_id)
    sim.request(R1, "DELETE", f"/ports/{port['id']}", member(PROJECT))
    with tx() as session:
        networks_db.mark_network_deleting(session, network_id)
    worker.run_once("network", network_id)
    assert network(tx, network_id) is None
    for region in (R1, R2, R3):
        assert sim.request(region, "GET", "/networks")["networks"] == []
        assert sim.ports(region) == []


def test_a_remote_group_expands_into_cidr_rules_that_follow_its_members(tx, sim, worker):
    web = sim.request(R1, "POST", "/security-groups", member(PROJECT),
                      {"security_group": {"name": "web"}})["security_group"]
    dbg = sim.request(R2, "POST", "/security-groups", member(PROJECT),
                      {"security_group": {"name": "db"}})["security_group"]
    lan = sim.request(R1, "POST", "/networks", member(PROJECT), {"network": {"name": "lan"}})
    sim.request(R1, "POST", "/subnets", member(PROJECT), {"subnet": {
        "network_id": lan["network"]["id"], "cidr": "203.0.113.0/24", "ip_version": 4}})
    member_port = user_port(sim, R1, lan["network"]["id"], security_groups=[web["id"]])
    with tx() as session:
        rule = net_policies_db.create_sg_rule(session, {
            "project_id": PROJECT, "region": R2, "security_group_id": dbg["id"],
            "direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
            "port_range_min": 5432, "port_range_max": 5432, "remote_region": R1,
            "remote_group_id": web["id"]})
    worker.run_once("sg_rule", rule["id"])

    def expanded():
        rules = sim.request(R2, "GET", "/security-group-rules",
                            security_group_id=dbg["id"])["security_group_rules"]
        return sorted(r["remote_ip_prefix"] for r in rules
                      if r["description"] == f"kingbird-global-rule:{rule['id']}")

    address = member_port["fixed_ips"][0]["ip_address"]
    assert expanded() == [f"{address}/32"]
    second = user_port(sim, R1, lan["network"]["id"], security_groups=[web["id"]])
    worker.run_once("sg_rule", rule["id"])
    assert len(expanded()) == 2
    sim.request(R1, "DELETE", f"/ports/{second['id']}", member(PROJECT))
    worker.run_once("sg_rule", rule["id"])
    assert expanded() == [f"{address}/32"]
    with tx() as session:
        assert net_policies_db.get_sg_rule(session, rule["id"])["status"] == "ACTIVE"
        net_policies_db.mark_sg_rule_deleting(session, rule["id"])
    worker.run_once("sg_rule", rule["id"])
    assert expanded() == []
    with tx() as session:
        assert net_policies_db.get_sg_rule(session, rule["id"]) is None


def test_global_router_routes_each_region_to_the_others_through_the_transit(tx, sim, worker):
    transit = make_network(tx, regions=(R1, R2), gateways=())
    worker.run_once("network", transit)
    subnets = {}
    for region, cidr in ((R1, "203.0.113.0/26"), (R2, "203.0.113.64/26")):
        lan = sim.request(region, "POST", "/networks", member(PROJECT),
                          {"network": {"name": "lan"}})["network"]
        subnets[region] = sim.request(region, "POST", "/subnets", member(PROJECT), {"subnet": {
            "network_id": lan["id"], "cidr": cidr, "ip_version": 4}})["subnet"]["id"]
    with tx() as session:
        router = net_policies_db.create_router(session, {
            "project_id": PROJECT, "name": "l3", "transit_network_id": transit,
            "transit_networks": {}, "subnets": subnets})
    worker.run_once("router", router["id"])
    with tx() as session:
        stored = net_policies_db.get_router(session, router["id"])
    assert stored["status"] == "ACTIVE", stored["error"]
    r1, r2 = stored["state"][R1], stored["state"][R2]
    routes1 = sim.request(R1, "GET", f"/routers/{r1['router_id']}")["router"]["routes"]
    assert routes1 == [{"destination": "203.0.113.64/26", "nexthop": r2["transit_ip"]}]
    # The routers' transit ports live on the global network, so they get shadows too.
    worker.run_once("network", transit)
    with tx() as session:
        ports = networks_db.network_ports(session, transit)
    assert {p["port_id"] for p in ports} == {r1["transit_port_id"], r2["transit_port_id"]}
    with tx() as session:
        net_policies_db.mark_router_deleting(session, router["id"])
    worker.run_once("router", router["id"])
    with tx() as session:
        assert net_policies_db.get_router(session, router["id"]) is None
    assert sim.request(R1, "GET", "/routers")["routers"] == []


def test_an_object_leased_by_another_engine_is_left_alone(tx, worker):
    network_id = make_network(tx)
    with tx() as session:
        assert reconcile_db.due_objects(session, "network") == [network_id]
        assert reconcile_db.claim_object(session, "network", network_id, "engine-2", 30)
        assert reconcile_db.due_objects(session, "network") == []
    assert worker.run_once("network", network_id) is False
    assert network(tx, network_id)["status"] == "BUILD"


def test_a_reconciled_object_is_due_again_only_after_the_poll_interval(tx, worker):
    network_id = make_network(tx)
    worker.run_once("network", network_id)
    with tx() as session:
        assert reconcile_db.due_objects(session, "network") == []
        networks_db.request_network_reconcile(session, network_id)
        assert reconcile_db.due_objects(session, "network") == [network_id]


def test_a_reconcile_whose_lease_was_taken_over_stops_at_its_next_step(tx):
    network_id = make_network(tx)
    steps = []

    def reconciler(object_id, keep_alive):
        steps.append("first")
        with tx() as session:  # engine-2 takes the object over (engine-1's lease expired)
            session.execute(networks_db.networks_table.update()
                            .where(networks_db.networks_table.c.id == object_id)
                            .values(lease_owner="engine-2"))
        engine.renew_leases()
        keep_alive()
        steps.append("second")

    engine = NetworkWorker({"network": reconciler}, tx, "engine-1", poll_interval=60,
                           lease_seconds=30, workers=1)
    try:
        assert engine.run_once("network", network_id)
    finally:
        engine.shutdown()
    assert steps == ["first"]
    with tx() as session:
        assert reconcile_db.renew_object_leases(session, "network", [network_id], "engine-1",
                                                30) == []
        assert reconcile_db.renew_object_leases(session, "network", [network_id], "engine-2",
                                                30) == [network_id]  # the holder renews
