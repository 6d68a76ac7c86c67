"""Per-project limits of cross-region networking at the API: over a limit a POST is
a 403 naming the option and stores nothing; a VIP needs at least one port."""

from __future__ import annotations

import pytest
from _api_harness import api_client, caller
from _network_sim import SimRegions, member

from kingbird.network import repository as networks_db
from kingbird.network.l2 import GlobalNetworkReconciler
from kingbird.network.settings import NetworkingSettings
from kingbird.regions.networking import RegionNetworking

R1, R2 = "RegionOne", "RegionTwo"
TUNNELS = {R1: "192.0.2.1", R2: "192.0.2.2"}


@pytest.fixture
def sim():
    return SimRegions([R1, R2])


def client(tx, sim, **limits):
    return api_client(tx, sim, regions=(R1, R2), networking__tunnel_endpoints=TUNNELS,
                      **{f"networking__{name}": value for name, value in limits.items()})


def create_network(api, project, cidr="198.51.100.0/24"):
    return api.post("/v1.1/os-global-networks", headers=caller(project), json={
        "global_network": {"cidr": cidr, "regions": [R1, R2]}})


def test_networks_over_the_project_limit_are_refused_and_nothing_is_stored(tx, sim):
    api = client(tx, sim, max_global_networks_per_project=2)
    for cidr in ("10.0.0.0/24", "10.0.1.0/24"):
        assert create_network(api, "p1", cidr).status_code == 202
    over = create_network(api, "p1", "10.0.2.0/24")
    assert over.status_code == 403
    message = over.get_json()["error"]["message"]
    assert "max_global_networks_per_project = 2" in message and "p1 holds 2" in message
    with tx() as session:
        assert networks_db.count_global_networks(session, "p1") == 2
    assert create_network(api, "p2").status_code == 202  # another project's own count
    unlimited = client(tx, sim, max_global_networks_per_project=-1)
    assert create_network(unlimited, "p1", "10.0.3.0/24").status_code == 202


def test_a_vip_needs_a_port_and_vips_over_the_project_limit_are_refused(tx, sim):
    api = client(tx, sim, max_vips_per_project=1)
    network_id = create_network(api, "p1").get_json()["global_network"]["id"]
    build = GlobalNetworkReconciler(tx, RegionNetworking(sim), NetworkingSettings(tunnels=TUNNELS))
    build(network_id, lambda: None)
    with tx() as session:
        net1 = networks_db.get_global_network(session, network_id)["regions"][0]
    port = sim.request(R1, "POST", "/ports", member("p1"),
                       {"port": {"network_id": net1["neutron_network_id"]}})["port"]
    path = f"/v1.1/os-global-networks/{network_id}/vips"
    for body, wanted in (({"vip": {}}, "missing 'vip.ports'"),
                         ({"vip": {"ports": []}}, "'vip.ports' must name at least one port"),
                         ({"vip": {"ip_address": "198.51.100.250"}}, "missing 'vip.ports'")):
        answer = api.post(path, headers=caller("p1"), json=body)
        assert answer.status_code == 400 and wanted in answer.get_json()["error"]["message"]
    ports = [{"region": R1, "port_id": port["id"]}]
    assert api.post(path, headers=caller("p1"), json={"vip": {"ports": ports}}).status_code \
        == 202
    vip_id = api.get(path, headers=caller("p1")).get_json()["vips"][0]["id"]
    emptied = api.put(f"{path}/{vip_id}", headers=caller("p1"), json={"vip": {"ports": []}})
    assert emptied.status_code == 400
    over = api.post(path, headers=caller("p1"), json={"vip": {"ports": ports}})
    assert over.status_code == 403
    assert "max_vips_per_project = 1" in over.get_json()["error"]["message"]
    with tx() as session:
        assert networks_db.count_project_vips(session, "p1") == 1


def test_rules_and_routers_over_the_limit_are_refused_before_any_region_is_asked(tx, sim):
    api = client(tx, sim, max_sg_rules_per_project=0, max_routers_per_project=0)
    rule = api.post("/v1.1/os-global-security-group-rules", headers=caller("p1"), json={
        "global_security_group_rule": {"region": R2, "security_group_id": "g2",
                                       "direction": "ingress", "remote_region": R1,
                                       "remote_group_id": "g1"}})
    assert rule.status_code == 403
    assert "max_sg_rules_per_project = 0" in rule.get_json()["error"]["message"]
    router = api.post("/v1.1/os-global-routers", headers=caller("p1"), json={
        "global_router": {"transit": {"networks": {R1: "n1", R2: "n2"}},
                          "subnets": {R1: "s1", R2: "s2"}}})
    assert router.status_code == 403
    assert "max_routers_per_project = 0" in router.get_json()["error"]["message"]
    assert sim.calls == []
