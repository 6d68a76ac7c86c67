"""The pure rules of disaster recovery: backup chains and retention, where ports go,
what a restore point records, the steps of each workflow, request validation."""

from __future__ import annotations

import datetime as dt

import pytest

from kingbird.core import exceptions
from kingbird.dr import networks, retention, shape, steps
from kingbird.dr import validation as dr_validation


def point(seq: int, chain: str | None, status: str = "AVAILABLE", region: str = "R1",
          method: str = "snapshot-backup") -> dict:
    return {"id": f"p{seq}", "sequence": seq, "chain_id": chain, "status": status,
            "region": region, "method": method, "volumes": []}


# -- chains and retention -----------------------------------------------------------------

def test_the_first_restore_point_starts_a_chain_of_full_backups():
    assert retention.next_chain([], "R1", retention=3) is None


def test_restore_points_continue_the_chain_until_retention_then_start_a_new_one():
    points = [point(1, "p1"), point(2, "p1")]
    assert retention.next_chain(points, "R1", retention=3) == "p1"
    points.append(point(3, "p1"))
    assert retention.next_chain(points, "R1", retention=3) is None


def test_a_chain_is_not_continued_across_regions_or_from_failed_points():
    assert retention.next_chain([point(1, "p1", region="R2")], "R1", 3) is None
    assert retention.next_chain([point(1, "p1", status="ERROR")], "R1", 3) is None


def test_pruning_keeps_the_newest_and_removes_whole_chains_newest_first():
    points = [point(1, "p1"), point(2, "p1"), point(3, "p3"), point(4, "p3")]
    # Retention 2 keeps p3, p4 (their chain is p3): the p1 chain goes, p2 before p1.
    assert retention.prunable(points, 2) == ["p2", "p1"]
    # Retention 3 keeps p2, whose chain needs p1: nothing goes.
    assert retention.prunable(points, 3) == []


def test_pruning_spares_points_in_use_and_drops_old_failures():
    points = [point(1, "p1"), point(2, None, status="ERROR"), point(3, "p3"), point(4, "p3")]
    assert retention.prunable(points, 1) == ["p2", "p1"]
    assert retention.prunable(points, 1, in_use={"p1"}) == ["p2"]


def test_a_point_is_deleted_after_the_newer_ones_of_its_chain():
    points = [point(1, "p1"), point(2, "p1"), point(3, "p3")]
    assert retention.blocking_deletion(points[0], points) == ["p2"]
    assert retention.blocking_deletion(points[1], points) == []


def test_rpo_is_the_age_of_the_newest_restore_point_at_the_failure():
    taken = dt.datetime(2026, 1, 1, 12, 0, tzinfo=dt.UTC)
    assert retention.rpo_seconds(taken, taken + dt.timedelta(minutes=5)) == 300
    assert retention.rpo_seconds(None, taken) is None


# -- ports in the recovery region ------------------------------------------------------------

RECORDED = {"network_name": "vnf-net", "fixed_ips": [{"ip_address": "10.0.0.5"}]}


def net(nid: str, project: str, cidr: str = "10.0.0.0/24", name: str = "vnf-net") -> dict:
    return {"id": nid, "name": name, "project_id": project,
            "subnets": [{"id": f"s-{nid}", "cidr": cidr}]}


def test_a_port_goes_to_the_network_of_the_same_name_holding_its_address():
    placed = networks.place(RECORDED, [net("other", "p", "192.168.0.0/24"), net("n1", "p")],
                            "p")
    assert placed == networks.PortPlacement("n1", [{"subnet_id": "s-n1",
                                                    "ip_address": "10.0.0.5"}])


def test_the_projects_own_network_wins_over_a_shared_one():
    placed = networks.place(RECORDED, [net("a-shared", "other"), net("z-own", "p")], "p")
    assert placed.network_id == "z-own"


def test_a_port_without_a_matching_network_is_left_out():
    assert networks.place(RECORDED, [net("n1", "p", name="elsewhere")], "p") is None
    assert networks.place(RECORDED, [net("n1", "p", "172.16.0.0/16")], "p") is None


# -- what a restore point records ---------------------------------------------------------------

def _server(sid: str, image: str = "") -> dict:
    return {"id": sid, "name": f"vm-{sid}", "flavor": {"id": "f1"}, "key_name": "k",
            "user_id": "u", "image": image, "metadata": {"role": "db",
                                                         shape.TAG_OPERATION: "old"},
            "security_groups": [{"name": "web"}]}


def _record(servers):
    return shape.record(
        servers,
        attachments={"s1": [{"volumeId": "v-data", "device": "/dev/vdb"},
                            {"volumeId": "v-boot", "device": "/dev/vda"}]},
        volumes={"v-boot": {"id": "v-boot", "size": 1, "bootable": "true",
                            "volume_type": "t"},
                 "v-data": {"id": "v-data", "size": 2, "bootable": "false"}},
        ports={"s1": [{"id": "port1", "network_id": "n1", "mac_address": "fa:16:3e:00:00:01",
                       "fixed_ips": [{"subnet_id": "sub1", "ip_address": "10.0.0.5"}],
                       "security_groups": ["g1"]}]},
        networks={"n1": {"id": "n1", "name": "vnf-net",
                         "subnets": [{"id": "sub1", "cidr": "10.0.0.0/24"}]}},
        flavors={"f1": {"id": "f1", "name": "small", "ram": 512, "vcpus": 1, "disk": 1,
                        "extra_specs": {"hw:cpu_policy": "dedicated"}}},
        keypairs={"k": {"public_key": "ssh-ed25519 AAA", "type": "ssh", "user_id": "u"}},
        security_groups={"g1": {"id": "g1", "name": "web", "security_group_rules": [
            {"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
             "port_range_min": 22, "port_range_max": 22, "remote_group_id": "g1"}]}})


def test_the_shape_records_boot_order_volumes_ports_and_definitions():
    recorded = _record([_server("s1")])
    (server,) = recorded["servers"]
    assert [(v["id"], v["boot"], v["device"]) for v in server["volumes"]] == [
        ("v-boot", True, "/dev/vda"), ("v-data", False, "/dev/vdb")]
    assert server["metadata"] == {"role": "db"}
    assert server["ports"][0]["fixed_ips"] == [{"ip_address": "10.0.0.5",
                                                "subnet_cidr": "10.0.0.0/24"}]
    assert server["ports"][0]["security_groups"] == ["web"]
    assert recorded["flavors"]["f1"]["body"]["id"] == "f1"
    assert recorded["flavors"]["f1"]["extra_specs"] == {"hw:cpu_policy": "dedicated"}
    assert recorded["security_groups"]["web"]["rules"][0]["remote_group"] == "web"
    assert shape.group_names_used(recorded) == ["web"]


def test_a_server_booted_from_an_image_cannot_be_protected():
    with pytest.raises(shape.ShapeError, match="does not boot from a volume"):
        _record([_server("s1", image={"id": "img"})])


# -- steps -----------------------------------------------------------------------------------

def test_failover_steps_differ_by_method_and_failback_adds_capture_and_retirement():
    recorded = _record([_server("s1")])
    volumes = [{"volume_id": "v-boot", "backup_id": "b1"},
               {"volume_id": "v-data", "backup_id": "b2"}]
    option2 = steps.operation_steps("failover", "snapshot-backup", recorded, volumes,
                                    "R1", "R2")
    assert [s["name"] for s in option2] == [
        "import_backups", "restore_volumes", "ensure_resources", "create_ports",
        "boot_servers", "attach_volumes", "switch_plan"]
    assert option2[0]["items"] == ["backup b1 of volume v-boot", "backup b2 of volume v-data"]
    assert option2[3]["items"] == ["vm-s1: vnf-net 10.0.0.5"]
    assert {s["status"] for s in option2} == {"PENDING"}
    option3 = steps.operation_steps("failback", "replication", recorded, [], "R2", "R1")
    assert [s["name"] for s in option3] == [
        "reenable_replication", "capture", "retire_stale", "manage_replicas",
        "promote_replicas", "transfer_volumes", "ensure_resources", "create_ports",
        "boot_servers", "attach_volumes", "retire_recovered", "switch_plan"]
    assert steps.summary([{"status": "DONE"}, {"status": "PENDING"}]) == "1/2 steps done"


# -- request validation ----------------------------------------------------------------------

BODY = {"plan": {"name": "vnf", "servers": ["a", "b"], "source_region": "R1",
                 "recovery_region": "R2"}}


def test_a_plan_request_gets_defaults():
    spec = dr_validation.plan_request(BODY)
    assert (spec.method, spec.interval, spec.retention) == ("snapshot-backup", 3600, 3)
    assert spec.servers == ("a", "b")


@pytest.mark.parametrize(("change", "message"), [
    ({"recovery_region": "R1"}, "must differ from 'plan.source_region' (both are R1)"),
    ({"servers": []}, "'plan.servers' must be a non-empty list"),
    ({"servers": ["a", "a"]}, "names server a twice"),
    ({"method": "option-1"}, "'plan.method' must be one of snapshot-backup, replication"),
    ({"interval": "1h"}, "'plan.interval' must be an integer"),
    ({"retention": 0}, "'plan.retention' must be between 1 and 100"),
    ({"name": ""}, "'plan.name' must be a non-empty string"),
    ({"extra": 1}, "unexpected keys in 'plan': 'extra'"),
])
def test_a_bad_plan_request_names_the_field(change, message):
    with pytest.raises(exceptions.BadRequest, match=message.replace("(", r"\(").replace(
            ")", r"\)")):
        dr_validation.plan_request({"plan": {**BODY["plan"], **change}})


def test_unknown_regions_are_named():
    spec = dr_validation.plan_request(BODY)
    with pytest.raises(exceptions.BadRequest, match="unknown region 'R2' in "
                                                    "'plan.recovery_region'"):
        dr_validation.check_regions(spec, ["R1", "R3"])


def test_recovery_requests_take_a_restore_point_and_dry_run():
    assert dr_validation.recovery_request(None, "failover", True) == (None, False)
    assert dr_validation.recovery_request(
        {"failover": {"restore_point": "p1", "dry_run": True}}, "failover", True) == (
        "p1", True)
    with pytest.raises(exceptions.BadRequest, match="unexpected keys in 'failback'"):
        dr_validation.recovery_request({"failback": {"restore_point": "p1"}}, "failback",
                                       False)
