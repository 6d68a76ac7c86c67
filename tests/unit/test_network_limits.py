"""What one project may hold of cross-region networking, against in-process regionsim
regions and a real SQLite database: the ports Kingbird creates in its service
project for a project (shadows, VIP reservations) are capped per project, and a
network every region refused gives its VXLAN id back and takes one again when it
is built."""

from __future__ import annotations

import pytest
from _network_sim import SimRegions, member

from kingbird.network import addressing
from kingbird.network import repository as networks_db
from kingbird.network.l2 import GlobalNetworkReconciler
from kingbird.network.settings import NetworkingSettings, ProjectLimits
from kingbird.network.worker import NetworkWorker
from kingbird.regions.networking import RegionNetworking

R1, R2 = "RegionOne", "RegionTwo"
TUNNELS = {R1: "192.0.2.1", R2: "192.0.2.2"}


def make_worker(tx, sim, limits=ProjectLimits()) -> NetworkWorker:
    settings = NetworkingSettings(tunnels=TUNNELS, vni_ranges=((7000, 7001),), poll_interval=60,
                                  limits=limits)
    reconciler = GlobalNetworkReconciler(tx, RegionNetworking(sim), settings)
    return NetworkWorker({"network": reconciler}, tx, "engine-1", poll_interval=60,
                         lease_seconds=30, workers=1)


@pytest.fixture
def sim():
    return SimRegions([R1, R2])


def make_network(tx, project, cidr="198.51.100.0/24") -> str:
    layout = addressing.plan_addressing(addressing.parse_cidr(cidr), [R1, R2], [R1], 8)
    with tx() as session:
        return networks_db.create_global_network(
            session, project_id=project, name="n", cidr=cidr, ip_version=4,
            gateway_regions=[R1], reserved=8, parts={r: layout[r].as_dict() for r in (R1, R2)},
            ranges=((7000, 7001),))["id"]


def network(tx, network_id):
    with tx() as session:
        return networks_db.get_global_network(session, network_id)


def neutron_net(tx, network_id, region):
    return next(r["neutron_network_id"] for r in network(tx, network_id)["regions"]
                if r["region"] == region)


def kingbird_ports(sim, region):
    return [p for p in sim.ports(region) if p["device_owner"] in ("compute:shadow",
                                                                   "kingbird:vip")]


def set_network_quota(sim, project, value):
    for region in (R1, R2):
        sim.request(region, "PUT", f"/quotas/{project}", body={"quota": {"network": value}})


def test_a_projects_service_ports_are_capped_and_other_projects_are_unaffected(tx, sim):
    worker = make_worker(tx, sim, ProjectLimits(service_ports=3))
    try:
        greedy = make_network(tx, "greedy")
        worker.run_once("network", greedy)
        net1 = neutron_net(tx, greedy, R1)
        ports = [sim.request(R1, "POST", "/ports", member("greedy"),
                             {"port": {"network_id": net1}})["port"] for _ in range(2)]
        with tx() as session:  # two VIPs: a reservation in each region each
            for address in ("198.51.100.250", "198.51.100.251"):
                networks_db.create_vip(session, greedy, address,
                                       [{"region": R1, "port_id": ports[0]["id"]}])
        worker.run_once("network", greedy)
        assert len(kingbird_ports(sim, R1) + kingbird_ports(sim, R2)) == 3
        with tx() as session:
            vips = networks_db.network_vips(session, greedy)
            seen = networks_db.network_ports(session, greedy)
            assert networks_db.service_ports_held(session, "greedy") == 3
        refusals = [v["error"] for v in vips if v["error"]] + [p["error"] for p in seen
                                                                if p["error"]]
        assert refusals and all("max_service_ports_per_project = 3" in e for e in refusals)
        assert {v["status"] for v in vips} | {p["status"] for p in seen} >= {"ERROR"}
        worker.run_once("network", greedy)  # the next poll creates nothing more
        assert len(kingbird_ports(sim, R1) + kingbird_ports(sim, R2)) == 3

        # Another project's shadow is created: the first one's use is not its problem.
        other = make_network(tx, "other", cidr="203.0.113.0/24")
        worker.run_once("network", other)
        port = sim.request(R1, "POST", "/ports", member("other"),
                           {"port": {"network_id": neutron_net(tx, other, R1)}})["port"]
        worker.run_once("network", other)
        with tx() as session:
            [row] = networks_db.network_ports(session, other)
        assert row["port_id"] == port["id"] and row["status"] == "ACTIVE", row["error"]
    finally:
        worker.shutdown()


def test_a_network_every_region_refuses_releases_its_vxlan_id_until_it_is_built(tx, sim):
    worker = make_worker(tx, sim)
    try:
        set_network_quota(sim, "poor", 0)
        failed = make_network(tx, "poor")
        assert network(tx, failed)["segmentation_id"] == 7000
        worker.run_once("network", failed)
        net = network(tx, failed)
        assert net["status"] == "ERROR" and net["segmentation_id"] is None
        assert "VXLAN id was released" in net["error"] and "Quota exceeded" in net["error"]
        # Both ids of the range are free for others again.
        first, second = make_network(tx, "rich"), make_network(tx, "rich", "10.0.0.0/24")
        assert {network(tx, n)["segmentation_id"] for n in (first, second)} == {7000, 7001}
        worker.run_once("network", failed)  # none left: it waits in ERROR
        net = network(tx, failed)
        assert net["status"] == "ERROR" and "every VXLAN id" in net["error"]
        with tx() as session:
            networks_db.mark_network_deleting(session, second)
        worker.run_once("network", second)
        assert network(tx, second) is None  # deleted: its id is free
        set_network_quota(sim, "poor", 10)
        worker.run_once("network", failed)
        net = network(tx, failed)
        assert net["status"] == "ACTIVE" and net["segmentation_id"] == 7001, net["error"]
        for region in (R1, R2):
            body = sim.request(region, "GET", f"/networks/{neutron_net(tx, failed, region)}")
            assert body["network"]["provider:segmentation_id"] == 7001
    finally:
        worker.shutdown()


def test_a_network_refused_in_one_region_only_keeps_its_vxlan_id(tx, sim):
    worker = make_worker(tx, sim)
    try:
        sim.request(R2, "PUT", "/quotas/half", body={"quota": {"network": 0}})
        half = make_network(tx, "half")
        worker.run_once("network", half)
        net = network(tx, half)
        assert net["status"] == "ERROR" and net["segmentation_id"] == 7000  # used in R1
        assert neutron_net(tx, half, R1) is not None
    finally:
        worker.shutdown()
