"""Resource synchronisation jobs over HTTP against the demo cloud: every resource
type copied and compared in every target, force, templates, a region down, and
the user guide's curl lines. Refusals, listing and deleting: ``test_sync_api``."""

# Fixtures are imported from sync_helpers and used as test arguments:
# ruff: noqa: F811

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import time

import pytest
from sync_helpers import (  # noqa: F401 (fixtures)
    SOURCE,
    TARGETS,
    THREE,
    TWO,
    admin_id,
    admin_sync,
    by_target,
    curl_commands,
    kb,
    keypair,
    keypair_set,
    member_sync,
    outcomes,
    tenant,
    unique,
)

# --- each resource type ------------------------------------------------------------


def test_keypair_is_copied_with_its_public_key_to_every_target(member_sync, keypair, tenant):
    entries = member_sync.run(keypair_set([keypair]))
    assert {e["sync_status"] for e in entries} == {"SUCCESS"}
    assert {e["target_region"] for e in entries} == set(TARGETS)
    assert all(e["error"] is None and e["source_region"] == SOURCE for e in entries)
    source = tenant.conn(SOURCE).compute.get_keypair(keypair)
    for region in TARGETS:
        copy = tenant.conn(region).compute.get_keypair(keypair)
        assert (copy.public_key, copy.fingerprint, copy.type) == (
            source.public_key, source.fingerprint, source.type)
        assert copy.user_id == source.user_id


def test_private_flavor_is_copied_with_id_sizes_specs_and_access(admin_sync, cloud, tenant):
    admin = cloud.admin(SOURCE).compute
    name = unique("flavor")
    flavor = admin.create_flavor(name=name, ram=768, vcpus=3, disk=7, ephemeral=2, swap=256,
                                 rxtx_factor=1.5, is_public=False)
    admin.create_flavor_extra_specs(flavor, {"hw:cpu_policy": "dedicated", "quota:x": "1"})
    admin.flavor_add_tenant_access(flavor, tenant.project_id)
    entries = admin_sync.run({"resources": [name], "resource_type": "flavor",
                              "source": SOURCE, "target": TARGETS, "force": False})
    assert {e["sync_status"] for e in entries} == {"SUCCESS"}, [e["error"] for e in entries]

    def described(region):
        compute = cloud.admin(region).compute
        f = compute.get_flavor(flavor.id)
        access = sorted(a["tenant_id"] for a in compute.get_flavor_access(f))
        return (f.id, f.name, f.ram, f.vcpus, f.disk, f.ephemeral, f.swap, f.rxtx_factor,
                f.is_public, dict(compute.fetch_flavor_extra_specs(f).extra_specs), access)

    expected = described(SOURCE)
    assert expected[-1] == [tenant.project_id]
    for region in TARGETS:
        assert described(region) == expected


def test_image_bytes_and_metadata_are_copied_and_the_checksum_matches(member_sync, tenant):
    data = os.urandom(5 * 1024 * 1024 + 123)
    name = unique("image")
    image = tenant.conn(SOURCE).image.create_image(
        name=name, data=data, disk_format="qcow2", container_format="bare",
        visibility="private", min_disk=1, min_ram=128, os_distro="cirros",
        hw_disk_bus="virtio", allow_duplicates=True)
    entries = member_sync.run({"resources": [name], "resource_type": "image",
                               "source": SOURCE, "target": TARGETS, "force": "False"})
    assert {e["sync_status"] for e in entries} == {"SUCCESS"}, [e["error"] for e in entries]
    source = tenant.conn(SOURCE).image.get_image(image.id)
    for region in TARGETS:
        glance = tenant.conn(region).image
        (copy,) = list(glance.images(name=name))
        assert copy.id == source.id and copy.owner == tenant.project_id
        assert (copy.checksum, copy.hash_value, copy.size) == (
            source.checksum, source.hash_value, len(data))
        assert (copy.disk_format, copy.container_format, copy.visibility, copy.min_disk,
                copy.min_ram) == ("qcow2", "bare", "private", 1, 128)
        raw = glance.get(f"/images/{copy.id}").json()
        assert (raw["os_distro"], raw["hw_disk_bus"]) == ("cirros", "virtio")
        body = glance.get(f"/images/{copy.id}/file").content
        assert hashlib.md5(body, usedforsecurity=False).hexdigest() == source.checksum


def test_security_group_and_rules_are_copied_with_remote_groups_mapped(member_sync, tenant):
    network = tenant.conn(SOURCE).network
    other = network.create_security_group(name=unique("db"), description="databases")
    group = network.create_security_group(name=unique("web"), description="web tier")
    for fields in ({"protocol": "tcp", "port_range_min": 443, "port_range_max": 443,
                    "remote_ip_prefix": "0.0.0.0/0"},
                   {"protocol": "tcp", "port_range_min": 22, "port_range_max": 22,
                    "remote_group_id": group.id},
                   {"protocol": "tcp", "port_range_min": 5432, "port_range_max": 5432,
                    "remote_group_id": other.id, "direction": "egress"},
                   {"protocol": "icmp", "ethertype": "IPv6", "remote_ip_prefix": "::/0"}):
        network.create_security_group_rule(security_group_id=group.id,
                                           **{"direction": "ingress", "ethertype": "IPv4",
                                              **fields})
    entries = member_sync.run({"resources": [group.name], "resource_type": "security_group",
                               "source": SOURCE, "target": TARGETS})
    assert {e["sync_status"] for e in entries} == {"SUCCESS"}, [e["error"] for e in entries]

    def described(region):
        net = tenant.conn(region).network
        (g,) = list(net.security_groups(name=group.name))
        names = {s.id: s.name for s in net.security_groups()}
        rules = sorted(tuple(str(r.get(k)) for k in (
            "direction", "ethertype", "protocol", "port_range_min", "port_range_max",
            "remote_ip_prefix")) + (names.get(r.get("remote_group_id")),)
            for r in g.security_group_rules)
        return g.description, rules

    expected = described(SOURCE)
    assert len(expected[1]) == 6  # two automatic egress rules and ours
    for region in TARGETS:
        assert described(region) == expected


# --- force -------------------------------------------------------------------------


def test_force_false_refuses_an_existing_keypair_and_force_true_replaces_it(
        member_sync, keypair, tenant):
    tenant.conn(TWO).compute.create_keypair(name=keypair)  # another key, same name
    before = tenant.conn(TWO).compute.get_keypair(keypair).public_key
    entries = by_target(member_sync.run(keypair_set([keypair], force=False)))
    assert entries[TWO]["sync_status"] == "FAILURE"
    assert "already exists" in entries[TWO]["error"]
    assert entries[THREE]["sync_status"] == "SUCCESS"
    assert tenant.conn(TWO).compute.get_keypair(keypair).public_key == before

    entries = by_target(member_sync.run(keypair_set([keypair], force=True)))
    assert entries[TWO]["sync_status"] == "SUCCESS" and entries[TWO]["error"] is None
    source = tenant.conn(SOURCE).compute.get_keypair(keypair).public_key
    assert tenant.conn(TWO).compute.get_keypair(keypair).public_key == source


def test_a_job_with_a_failed_entry_is_a_failure(member_sync, keypair, tenant):
    tenant.conn(THREE).compute.create_keypair(name=keypair)
    job_id = member_sync.start(keypair_set([keypair], force="False"))
    member_sync.wait(job_id)
    assert member_sync.job_status(job_id) == "FAILURE"


@pytest.mark.parametrize("force", [True, "True", False, "False"])
def test_force_takes_booleans_and_the_clients_strings(member_sync, keypair, force):
    entries = member_sync.run(keypair_set([keypair], targets=[TWO], force=force))
    assert [e["sync_status"] for e in entries] == ["SUCCESS"]


# --- templates -----------------------------------------------------------------------


def test_a_template_syncs_several_types_and_regions_in_one_job(member_sync, keypair, tenant):
    group = tenant.conn(SOURCE).network.create_security_group(name=unique("tpl"))
    job_id = member_sync.start({"Sync": [
        {"resource_type": "keypair", "resources": [keypair], "source": SOURCE,
         "target": [TWO], "force": "True"},
        {"resource_type": "security_group", "resources": [group.name], "source": SOURCE,
         "target": [TWO, THREE]},
    ]})
    entries = member_sync.wait(job_id)
    assert outcomes(entries) == {(keypair, TWO): "SUCCESS", (group.name, TWO): "SUCCESS",
                                 (group.name, THREE): "SUCCESS"}, [e["error"] for e in entries]
    assert {e["resource_type"] for e in entries} == {"keypair", "security_group"}
    assert member_sync.job_status(job_id) == "SUCCESS"
    assert tenant.conn(TWO).compute.get_keypair(keypair)
    assert list(tenant.conn(THREE).network.security_groups(name=group.name))


# --- a region down -------------------------------------------------------------------


def test_entries_for_a_region_that_is_down_fail_with_the_reason(
        member_sync, cloud, keypair, tenant):
    cloud.sim("POST", f"/regions/{THREE}/down").raise_for_status()
    try:
        job_id = member_sync.start(keypair_set([keypair]))
        entries = by_target(member_sync.wait(job_id, timeout=90))
    finally:
        cloud.sim("POST", f"/regions/{THREE}/up").raise_for_status()
    assert entries[TWO]["sync_status"] == "SUCCESS"
    assert entries[THREE]["sync_status"] == "FAILURE"
    assert THREE in entries[THREE]["error"]
    assert "connection" in entries[THREE]["error"]
    assert member_sync.job_status(job_id) == "FAILURE"
    assert tenant.conn(TWO).compute.get_keypair(keypair)


# --- the user guide's curl lines -----------------------------------------------------


def test_user_guide_sync_curl_lines_work(cloud, tenant, keypair):
    """The guide's lines with its placeholders filled in: ``<True/False>`` as the bare
    ``True`` the original service evaluated, and the last line's ``job_id`` as
    ``$job_id``."""
    commands = curl_commands("Resource Synchronization API")
    assert len(commands) == 5
    port = re.search(r":(\d+)$", cloud.kingbird_root).group(1)
    env = {"kb_token": tenant.token(), "tenant_id": tenant.project_id,
           "kb_ip_addr": "127.0.0.1", "PATH": "/usr/bin:/bin"}
    fill = {"<Keypair_name>": keypair, "<True/False>": "True",
            '<"Source_Region">': f'"{SOURCE}"',
            '<"List_of_target_regions">': f'"{TWO}", "{THREE}"',
            "os-sync/job_id": "os-sync/$job_id"}

    def run(command: str) -> tuple[str, str]:
        for placeholder, value in fill.items():
            command = command.replace(placeholder, value)
        line = command.replace(":8118/", f":{port}/") + " -s -w '\\n%{http_code}'"
        result = subprocess.run(["bash", "-c", line], env=env, capture_output=True,
                                text=True, timeout=60)
        body, _, code = result.stdout.rpartition("\n")
        return code, body

    create, listing, active, detail, delete = commands
    code, body = run(create)
    assert code == "200", body
    env["job_id"] = job_id = json.loads(body)["job_status"]["id"]
    for command in (listing, active, detail):
        code, body = run(command)
        assert code == "200", f"{command}\n{body}"
    deadline = time.monotonic() + 60
    while '"IN_PROGRESS"' in run(detail)[1]:
        assert time.monotonic() < deadline
        time.sleep(0.3)
    assert '"FAILURE"' not in run(detail)[1]
    assert job_id in run(listing)[1]
    code, body = run(delete)
    assert code == "200", body
    assert run(detail)[0] == "404"
