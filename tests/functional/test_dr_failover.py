"""Geo-site disaster recovery end to end: a 3-VM VNF with boot and data volumes
holding known bytes is protected, RegionOne is lost, an admin fails the VNF over
to RegionTwo, and it comes back with its networks, fixed IPs and the data of the
chosen restore point; then it fails back. Option 2 (snapshot-backup) and
Option 3 (replication) of the user guide.

Prints the figures of the report: RPO, RTO, backup bytes of a full and of an
incremental restore point.
"""

from __future__ import annotations

import datetime as dt
import secrets
import time

import pytest
from demo_support import Credentials
from dr_helpers import (
    ONE,
    TWO,
    DrAPI,
    addresses,
    backup_bytes,
    digest,
    elapsed,
    ensure_replicated_type,
    make_tenant,
    make_vnf,
    servers_in,
    unique,
    write,
    write_contents,
)
from kb_http import KingbirdHTTP, wait_for


@pytest.fixture(scope="module")
def kb(cloud) -> KingbirdHTTP:
    return KingbirdHTTP(cloud.kingbird_root)


@pytest.fixture
def region_one_back(cloud):
    """Whatever happens, RegionOne is up again after the test."""
    yield
    cloud.sim("POST", f"/regions/{ONE}/up")


def _parse(moment: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(moment)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _check_recovered(cloud, tenant, vnf, region: str, expected: dict[str, str]) -> None:
    """The VNF runs in ``region``: same names, networks and IPs, volumes attached in
    the recorded places, each holding the expected bytes."""
    found = {s.name: s for s in servers_in(tenant, region)}
    assert sorted(found) == [s["name"] for s in vnf.servers]
    conn = tenant.conn(region)
    for server in vnf.servers:
        recovered = found[server["name"]]
        assert recovered.status == "ACTIVE"
        assert addresses(recovered) == [(vnf.network, server["ip"])]
        assert recovered.key_name == vnf.key_name
        attached = {a.device: a.volume_id for a in conn.compute.volume_attachments(recovered)}
        assert sorted(attached) == ["/dev/vda", "/dev/vdb"]
        assert digest(cloud, region, attached["/dev/vda"]) == expected[server["boot"]]
        assert digest(cloud, region, attached["/dev/vdb"]) == expected[server["data"]]
    flavor = cloud.admin(region).compute.get_flavor(vnf.flavor_id)
    assert flavor.extra_specs == {"hw:cpu_policy": "dedicated"}


def test_a_plan_is_refused_naming_the_problem(cloud, kb):
    tenant = make_tenant(cloud, [ONE])
    api = DrAPI(kb, tenant.project_id)
    token = tenant.token()
    conn = tenant.conn(ONE)
    root = conn.block_storage.create_volume(size=1, name="root")
    conn.block_storage.wait_for_status(root, "available", wait=30)
    server = conn.compute.create_server(
        name="lone", flavor_id="1", networks="none",
        block_device_mapping=[{"boot_index": 0, "uuid": root.id, "source_type": "volume",
                               "destination_type": "volume"}])
    conn.compute.wait_for_server(server, wait=30)
    base = {"name": "p", "servers": [server.id], "source_region": ONE,
            "recovery_region": TWO}
    cases = [
        ({**base, "recovery_region": ONE}, 400, "must differ from 'plan.source_region'"),
        ({**base, "recovery_region": "Atlantis"}, 400, "unknown region 'Atlantis'"),
        ({**base, "servers": ["no-such-server"]}, 404, "server no-such-server not found"),
        ({**base, "method": "option-1"}, 400, "'plan.method' must be one of"),
        ({**base, "retention": 0}, 400, "'plan.retention' must be between 1"),
        ({**base, "interval": 5}, 400, "'plan.interval' must be between 60"),
        ({**base, "method": "replication"}, 400, "does not replicate"),
        ({**base, "colour": "blue"}, 400, "unexpected keys in 'plan': 'colour'"),
    ]
    for body, status, message in cases:
        answer = api.create_plan(token, **body)
        assert answer.status_code == status, (body, answer.text)
        assert message in answer.json()["error"]["message"], answer.text
    first = api.create_plan(token, **base)
    assert first.status_code == 201, first.text
    again = api.create_plan(token, **{**base, "name": "again"})
    assert again.status_code == 409
    assert f"already protected by plan {first.json()['plan']['id']}" in again.text
    # Another project's member, naming the protected server, gets the answer of a
    # server that does not exist: not that it exists, nor which plan protects it.
    stranger = unique("dr-stranger")
    password = secrets.token_urlsafe(12)
    cloud.provisioner().ensure_user(stranger, password, stranger, role="member")
    stranger_token = Credentials(cloud.admin_creds.auth_url, stranger, password,
                                 stranger).session().get_token()
    stranger_api = DrAPI(kb, cloud.project_id(stranger))
    for server_id in (server.id, "no-such-server"):
        answer = stranger_api.create_plan(stranger_token, **{**base, "servers": [server_id]})
        assert answer.status_code == 404, answer.text
        assert answer.json()["error"]["message"] == (
            f"server {server_id} not found in {ONE} (project {stranger_api.tenant})")
    # Failover is an administrator's decision.
    plan_id = first.json()["plan"]["id"]
    assert api.call("POST", f"/plans/{plan_id}/failover", token).status_code == 403
    api.wait_points(token, plan_id, 1)
    deleted = api.call("DELETE", f"/plans/{plan_id}", token)
    assert deleted.status_code == 202


def test_snapshot_backup_failover_restores_the_chosen_restore_point(cloud, kb,
                                                                    region_one_back):
    tenant = make_tenant(cloud, [ONE, TWO])
    vnf = make_vnf(cloud, tenant, replicated=False)
    api = DrAPI(kb, tenant.project_id)
    token = tenant.token()
    version0 = write_contents(cloud, vnf, 0)
    created = api.create_plan(token, name="vnf", servers=[s["id"] for s in vnf.servers],
                              source_region=ONE, recovery_region=TWO,
                              method="snapshot-backup", interval=3600, retention=2)
    assert created.status_code == 201, created.text
    plan_id = created.json()["plan"]["id"]
    first = api.wait_points(token, plan_id, 1)[0]  # scheduled at once
    version1 = write_contents(cloud, vnf, 1)
    second = api.take_point(token, plan_id)
    write_contents(cloud, vnf, 2)  # after the last restore point: lost with RegionOne

    points = api.points(token, plan_id)
    assert [p["status"] for p in points] == ["AVAILABLE", "AVAILABLE"]
    assert [p["incremental"] for p in points] == [False, True]
    assert all(p["size_gb"] == 6 and p["volumes"] == 6 for p in points)
    full = [backup_bytes(cloud, ONE, b["backup_id"])
            for b in api.point(token, plan_id, first["id"])["backups"]]
    incremental = [backup_bytes(cloud, ONE, b["backup_id"])
                   for b in api.point(token, plan_id, second["id"])["backups"]]
    # The temporary snapshots and snapshot images are gone.
    conn = tenant.conn(ONE)
    assert list(conn.block_storage.snapshots()) == []
    assert not [i for i in conn.image.images(owner=tenant.project_id)]

    admin = cloud.admin_token()
    dry = api.call("POST", f"/plans/{plan_id}/failover", admin,
                   {"failover": {"dry_run": True}})
    assert dry.status_code == 200, dry.text
    assert dry.json()["dry_run"]["restore_point"] == second["id"]
    assert [s["name"] for s in dry.json()["dry_run"]["steps"]] == [
        "import_backups", "restore_volumes", "ensure_resources", "create_ports",
        "boot_servers", "attach_volumes", "switch_plan"]
    assert servers_in(tenant, TWO) == []

    cloud.sim("POST", f"/regions/{ONE}/down")
    failed_at = dt.datetime.now(dt.UTC)
    rpo = (failed_at - _parse(second["taken_at"])).total_seconds()
    start = time.monotonic()
    answer = api.call("POST", f"/plans/{plan_id}/failover", admin)
    assert answer.status_code == 202, answer.text
    operation = api.wait_operation(token, answer.json()["operation"]["id"])
    rto = elapsed(start)
    assert operation["status"] == "SUCCESS", (operation["error"], operation["steps"])
    assert {s["status"] for s in operation["steps"]} == {"DONE"}
    assert operation["progress"] == "7/7 steps done"
    _check_recovered(cloud, tenant, vnf, TWO, {**version0, **version1})
    plan = api.plan(token, plan_id)
    assert plan["status"] == "FAILED_OVER" and plan["current_region"] == TWO
    print(f"\n[DR figures] snapshot-backup: RPO {rpo:.1f} s (age of the newest restore "
          f"point at failure), RTO {rto:.2f} s (failover wall time, 3 VMs, 6 volumes); "
          f"backup bytes: full restore point {sum(full)} B, incremental {sum(incremental)} B "
          f"({100 * sum(incremental) / sum(full):.1f} %)")
    assert sum(incremental) < sum(full) / 10

    # RegionOne comes back; the VNF, changed meanwhile in RegionTwo, returns home.
    cloud.sim("POST", f"/regions/{ONE}/up")
    after = {}
    recovered = {s.name: s for s in servers_in(tenant, TWO)}
    for server in vnf.servers:
        attached = {a.device: a.volume_id
                    for a in tenant.conn(TWO).compute.volume_attachments(
                        recovered[server["name"]])}
        after[server["data"]] = write(cloud, TWO, attached["/dev/vdb"],
                                      f"written in {TWO} by {server['name']}".encode())
        after[server["boot"]] = version0[server["boot"]]
    answer = api.call("POST", f"/plans/{plan_id}/failback", admin)
    assert answer.status_code == 202, answer.text
    operation = api.wait_operation(token, answer.json()["operation"]["id"])
    assert operation["status"] == "SUCCESS", (operation["error"], operation["steps"])
    _check_recovered(cloud, tenant, vnf, ONE, after)
    assert servers_in(tenant, TWO) == []
    plan = api.plan(token, plan_id)
    assert plan["status"] == "ACTIVE" and plan["current_region"] == ONE


def test_replication_failover_promotes_the_replicas(cloud, kb, region_one_back):
    for region in (ONE, TWO):
        ensure_replicated_type(cloud, region)
    tenant = make_tenant(cloud, [ONE, TWO])
    vnf = make_vnf(cloud, tenant, replicated=True)
    api = DrAPI(kb, tenant.project_id)
    token = tenant.token()
    version0 = write_contents(cloud, vnf, 0)
    created = api.create_plan(token, name="vnf-r", servers=[s["id"] for s in vnf.servers],
                              source_region=ONE, recovery_region=TWO, method="replication",
                              interval=3600, retention=2)
    assert created.status_code == 201, created.text
    plan_id = created.json()["plan"]["id"]
    point = api.wait_points(token, plan_id, 1)[0]
    assert point["size_gb"] == 6 and not point["incremental"]
    assert all(b["replica"] for b in api.point(token, plan_id, point["id"])["backups"])
    # Replication carries writes made after the restore point: nothing is lost.
    version1 = write_contents(cloud, vnf, 1)

    cloud.sim("POST", f"/regions/{ONE}/down")
    start = time.monotonic()
    admin = cloud.admin_token()
    answer = api.call("POST", f"/plans/{plan_id}/failover", admin)
    assert answer.status_code == 202, answer.text
    operation = api.wait_operation(token, answer.json()["operation"]["id"])
    rto = elapsed(start)
    assert operation["status"] == "SUCCESS", (operation["error"], operation["steps"])
    assert [s["name"] for s in operation["steps"]][:3] == [
        "manage_replicas", "promote_replicas", "transfer_volumes"]
    _check_recovered(cloud, tenant, vnf, TWO, {**version0, **version1})
    for volume in tenant.conn(TWO).block_storage.volumes(details=True):
        assert volume.replication_status == "failed-over"
    print(f"\n[DR figures] replication: RPO 0 s (writes after the restore point were "
          f"replicated), RTO {rto:.2f} s (failover wall time, 3 VMs, 6 volumes)")

    cloud.sim("POST", f"/regions/{ONE}/up")
    answer = api.call("POST", f"/plans/{plan_id}/failback", admin)
    assert answer.status_code == 202, answer.text
    operation = api.wait_operation(token, answer.json()["operation"]["id"])
    assert operation["status"] == "SUCCESS", (operation["error"], operation["steps"])
    _check_recovered(cloud, tenant, vnf, ONE, {**version0, **version1})
    assert servers_in(tenant, TWO) == []


def test_old_restore_points_are_pruned_and_a_failed_failover_rolls_back(cloud, kb):
    tenant = make_tenant(cloud, [ONE, TWO])
    vnf = make_vnf(cloud, tenant, replicated=False, count=1)
    expected = write_contents(cloud, vnf, 0)
    api = DrAPI(kb, tenant.project_id)
    token = tenant.token()
    created = api.create_plan(token, name="one", servers=[vnf.servers[0]["id"]],
                              source_region=ONE, recovery_region=TWO, retention=1)
    assert created.status_code == 201, created.text
    plan_id = created.json()["plan"]["id"]
    first = api.wait_points(token, plan_id, 1)[0]
    old_backups = [b["backup_id"] for b in api.point(token, plan_id, first["id"])["backups"]]
    second = api.take_point(token, plan_id)
    # Retention 1: the first restore point goes, with its backups.
    wait_for(lambda: [p["id"] for p in api.points(token, plan_id)] == [second["id"]],
             timeout=30, what="the first restore point pruned")
    conn = tenant.conn(ONE)
    assert not {b.id for b in conn.block_storage.backups()} & set(old_backups)

    # The fixed IP is taken in RegionTwo: the failover fails at create_ports and
    # removes the volumes it restored.
    blocker = tenant.conn(TWO).network.create_port(
        network_id=next(n.id for n in tenant.conn(TWO).network.networks(name=vnf.network)),
        fixed_ips=[{"ip_address": vnf.servers[0]["ip"]}])
    admin = cloud.admin_token()
    answer = api.call("POST", f"/plans/{plan_id}/failover", admin)
    assert answer.status_code == 202, answer.text
    assert api.call("POST", f"/plans/{plan_id}/failover", admin).status_code == 409
    failed = api.wait_operation(token, answer.json()["operation"]["id"])
    assert failed["status"] == "FAILURE"
    assert failed["error"].startswith(f"create_ports: {vnf.servers[0]['ip']} is already used "
                                      f"in {TWO} by port {blocker.id}"), failed["error"]
    assert "2 restored volumes" in failed["error"]
    assert [s["status"] for s in failed["steps"]][:4] == ["DONE", "DONE", "DONE", "FAILED"]
    assert list(tenant.conn(TWO).block_storage.volumes()) == []
    assert servers_in(tenant, TWO) == []
    plan = api.plan(token, plan_id)
    assert plan["status"] == "ACTIVE" and "already used" in plan["error"]

    # Freed, the same restore point fails over.
    tenant.conn(TWO).network.delete_port(blocker)
    answer = api.call("POST", f"/plans/{plan_id}/failover", admin,
                      {"failover": {"restore_point": second["id"]}})
    operation = api.wait_operation(token, answer.json()["operation"]["id"])
    assert operation["status"] == "SUCCESS", (operation["error"], operation["steps"])
    (recovered,) = servers_in(tenant, TWO)
    assert addresses(recovered) == [(vnf.network, vnf.servers[0]["ip"])]
    attached = {a.device: a.volume_id
                for a in tenant.conn(TWO).compute.volume_attachments(recovered)}
    assert digest(cloud, TWO, attached["/dev/vdb"]) == expected[vnf.servers[0]["data"]]
