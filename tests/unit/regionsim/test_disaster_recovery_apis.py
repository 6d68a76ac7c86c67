"""The regionsim APIs a geo-site disaster recovery drives: servers plugged into
existing ports, incremental backups that write only changed blocks, volume
replication to other regions and managing a replica there, volume transfers."""

from __future__ import annotations

import hashlib

import pytest
from _sim_client import ADMIN, DEMO, OTHER, Caller, b64, create_image, create_network
from _sim_client import make_region as _make_region

from regionsim.services.cinder.content import BLOCK_SIZE

V3 = "/volume/v3"
NOVA = "/compute/v2.1"
PORTS = "/networking/v2.0/ports"


@pytest.fixture
def one(tmp_path):
    return _make_region(tmp_path, "RegionOne")


@pytest.fixture
def two(tmp_path, one):
    region, client = _make_region(tmp_path, "RegionTwo")
    peers = {"RegionOne": one[0], "RegionTwo": region}
    one[0].peers = region.peers = peers
    return region, client


def callers(region_app, service: str, version: str | None = None):
    return (Caller(region_app[1], ADMIN, service, version),
            Caller(region_app[1], DEMO, service, version))


def new_volume(caller, size=1, **extra) -> dict:
    resp = caller.post(f"{V3}/volumes", {"volume": {"size": size, **extra}})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    return resp.get_json()["volume"]


def write(admin, volume_id: str, data: bytes) -> str:
    resp = admin.put(f"/volume/_sim/volumes/{volume_id}/content", {"data": b64(data)})
    assert resp.status_code == 200
    return resp.get_json()["digest"]


def digest_of(admin, volume_id: str) -> str:
    return admin.get(f"/volume/_sim/volumes/{volume_id}/content").get_json()["digest"]


def replicated_type(admin) -> None:
    resp = admin.post(f"{V3}/types", {"volume_type": {
        "name": "replicated", "extra_specs": {"replication_enabled": "<is> True"}}})
    assert resp.status_code == 200, resp.get_data(as_text=True)


# -- Nova: servers plugged into existing ports ----------------------------------

def test_a_server_boots_on_a_given_port_and_leaves_it_when_deleted(one):
    admin, demo = callers(one, "compute")
    network = create_network(demo, "10.1.0.0/24")
    image = create_image(admin)
    port = demo.post(PORTS, {"port": {"network_id": network, "fixed_ips": [
        {"ip_address": "10.1.0.42"}]}}).get_json()["port"]
    body = {"server": {"name": "vm", "imageRef": image, "flavorRef": "1",
                       "networks": [{"port": port["id"]}]}}
    resp = demo.post(f"{NOVA}/servers", body)
    assert resp.status_code == 202, resp.get_data(as_text=True)
    server_id = resp.get_json()["server"]["id"]
    shown = demo.get(f"{NOVA}/servers/{server_id}").get_json()["server"]
    assert shown["addresses"]["private"][0]["addr"] == "10.1.0.42"
    assert demo.get(f"{PORTS}/{port['id']}").get_json()["port"]["device_id"] == server_id
    again = demo.post(f"{NOVA}/servers", body)
    assert again.status_code == 409
    assert demo.delete(f"{NOVA}/servers/{server_id}").status_code == 204
    kept = demo.get(f"{PORTS}/{port['id']}").get_json()["port"]
    assert kept["device_id"] == "" and kept["fixed_ips"][0]["ip_address"] == "10.1.0.42"


def test_another_projects_port_is_not_found(one):
    admin, demo = callers(one, "compute")
    other = Caller(one[1], OTHER, "compute", None)
    network = create_network(other, "10.2.0.0/24")
    port = other.post(PORTS, {"port": {"network_id": network}}).get_json()["port"]
    resp = demo.post(f"{NOVA}/servers", {"server": {
        "name": "vm", "imageRef": create_image(admin), "flavorRef": "1",
        "networks": [{"port": port["id"]}]}})
    assert resp.status_code == 400
    assert f"Port {port['id']} could not be found." in resp.get_data(as_text=True)


# -- Cinder: incremental backups write the changed blocks only -------------------

def test_incremental_backup_stores_only_the_changed_blocks(one):
    admin, demo = callers(one, "volume")
    volume = new_volume(demo)
    data = bytes(range(256)) * (BLOCK_SIZE // 256) * 8
    write(admin, volume["id"], data)
    full = demo.post(f"{V3}/backups", {"backup": {"volume_id": volume["id"]}}).get_json()
    changed = data[:BLOCK_SIZE] + b"x" * BLOCK_SIZE + data[2 * BLOCK_SIZE:]
    write(admin, volume["id"], changed)
    inc = demo.post(f"{V3}/backups", {"backup": {"volume_id": volume["id"],
                                                 "incremental": True}}).get_json()
    same = demo.post(f"{V3}/backups", {"backup": {"volume_id": volume["id"],
                                                  "incremental": True}}).get_json()
    stored = {name: admin.get(f"/volume/_sim/backups/{b['backup']['id']}").get_json()
              for name, b in (("full", full), ("inc", inc), ("same", same))}
    assert stored["full"]["stored_bytes"] == len(data) and not stored["full"]["incremental"]
    assert stored["inc"]["stored_bytes"] == BLOCK_SIZE and stored["inc"]["incremental"]
    assert stored["same"]["stored_bytes"] == 0
    assert demo.get(f"/volume/_sim/backups/{full['backup']['id']}").status_code == 403


# -- Cinder: replication to other regions, manage, promote ----------------------

def test_replicated_volume_appears_as_a_manageable_volume_in_the_other_region(one, two):
    admin1, demo1 = callers(one, "volume", "3.8")
    admin2, demo2 = callers(two, "volume", "3.8")
    replicated_type(admin1)
    replicated_type(admin2)
    volume = new_volume(demo1, 2, volume_type="replicated")
    plain = new_volume(demo1)
    digest = write(admin1, volume["id"], b"replicated data")
    write(admin1, plain["id"], b"local data")
    listing = admin2.get(f"{V3}/manageable_volumes/detail?host=regionsim@lvmdriver-1")
    assert listing.status_code == 200
    rows = listing.get_json()["manageable-volumes"]
    assert rows == [{"reference": {"source-name": f"volume-{volume['id']}"}, "size": 2,
                     "safe_to_manage": True, "reason_not_safe": None, "cinder_id": None,
                     "extra_info": None}]
    assert demo2.get(f"{V3}/manageable_volumes?host=regionsim@lvmdriver-1").status_code == 403
    assert admin2.get(f"{V3}/manageable_volumes").status_code == 400
    assert admin2.at("3.7").get(
        f"{V3}/manageable_volumes?host=regionsim@lvmdriver-1").status_code == 404
    managed = admin2.post(f"{V3}/manageable_volumes", {"volume": {
        "host": "regionsim@lvmdriver-1#lvmdriver-1",
        "ref": {"source-name": f"volume-{volume['id']}"}, "name": "recovered"}})
    assert managed.status_code == 202, managed.get_data(as_text=True)
    managed = managed.get_json()["volume"]
    assert managed["replication_status"] == "inactive" and managed["size"] == 2
    assert digest_of(admin2, managed["id"]) == digest
    again = admin2.post(f"{V3}/manageable_volumes", {"volume": {
        "host": "regionsim@lvmdriver-1", "ref": {"source-name": f"volume-{volume['id']}"}}})
    assert again.status_code == 400
    # Replication goes on until promotion; promotion takes the last data.
    newer = write(admin1, volume["id"], b"written after the manage")
    action = f"{V3}/volumes/{managed['id']}/action"
    assert admin2.post(action, {"os-reenable-replica": None}).status_code == 400
    assert admin2.post(action, {"os-promote-replica": None}).status_code == 202
    assert digest_of(admin2, managed["id"]) == newer
    write(admin1, volume["id"], b"after the promotion")
    assert digest_of(admin2, managed["id"]) == newer
    # Re-enabled, the promoted volume replicates back to the first region.
    assert admin2.post(action, {"os-reenable-replica": None}).status_code == 202
    back = admin1.get(f"{V3}/manageable_volumes?host=regionsim@lvmdriver-1").get_json()
    assert {"source-name": f"volume-{managed['id']}"} in [
        r["reference"] for r in back["manageable-volumes"]]


def test_deleting_a_volume_drops_its_unmanaged_replicas(one, two):
    admin1, demo1 = callers(one, "volume", "3.8")
    admin2, _ = callers(two, "volume", "3.8")
    replicated_type(admin1)
    volume = new_volume(demo1, volume_type="replicated")
    assert demo1.delete(f"{V3}/volumes/{volume['id']}").status_code == 202
    rows = admin2.get(f"{V3}/manageable_volumes?host=regionsim@lvmdriver-1").get_json()
    assert rows["manageable-volumes"] == []


# -- Cinder: volume transfers -----------------------------------------------------

def test_a_transferred_volume_moves_to_the_accepting_project(one):
    admin, demo = callers(one, "volume")
    volume = new_volume(admin, 2)
    digest = write(admin, volume["id"], b"for the project")
    transfer = admin.post(f"{V3}/os-volume-transfer", {"transfer": {
        "volume_id": volume["id"], "name": "handover"}})
    assert transfer.status_code == 202
    transfer = transfer.get_json()["transfer"]
    shown = admin.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"]
    assert shown["status"] == "awaiting-transfer"
    wrong = demo.post(f"{V3}/os-volume-transfer/{transfer['id']}/accept",
                      {"accept": {"auth_key": "nope"}})
    assert wrong.status_code == 400
    accepted = demo.post(f"{V3}/os-volume-transfer/{transfer['id']}/accept",
                         {"accept": {"auth_key": transfer["auth_key"]}})
    assert accepted.status_code == 202
    mine = demo.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"]
    assert mine["status"] == "available" and mine["os-vol-tenant-attr:tenant_id"] == DEMO[1]
    assert digest_of(admin, volume["id"]) == digest
    usage = demo.get(f"{V3}/os-quota-sets/{DEMO[1]}?usage=True").get_json()["quota_set"]
    assert usage["gigabytes"]["in_use"] == 2
    gone = admin.get(f"{V3}/os-quota-sets/{ADMIN[1]}?usage=True").get_json()["quota_set"]
    assert gone["gigabytes"]["in_use"] == 0
    assert hashlib.sha256(b"for the project").hexdigest() == digest
