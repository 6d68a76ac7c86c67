"""Pure decisions of the copiers: what to do in a target, and what equal means."""

from __future__ import annotations

import pytest

from kingbird.regions.copying import Action, decide
from kingbird.sync import flavor, image, keypair, security_group


@pytest.mark.parametrize(("exists", "same", "force", "resumed", "expected"), [
    (False, False, False, False, Action.CREATE),
    (False, False, True, True, Action.CREATE),
    (True, False, False, False, Action.REFUSE),
    (True, True, False, False, Action.REFUSE),  # there before the job: not ours to keep
    (True, False, True, False, Action.REPLACE),
    (True, True, True, False, Action.DONE),
    (True, True, False, True, Action.DONE),  # our own earlier, complete work
    (True, False, False, True, Action.REPLACE),  # our own earlier, unfinished work
])
def test_decide(exists, same, force, resumed, expected):
    assert decide(exists, same, force, resumed) is expected


def test_keypairs_are_equal_by_public_key_and_type():
    a = {"public_key": "ssh-rsa AAAA x\n", "type": "ssh"}
    assert keypair.same_keypair(a, {"public_key": "ssh-rsa AAAA x", "type": "ssh"})
    assert not keypair.same_keypair(a, {"public_key": "ssh-rsa BBBB x", "type": "ssh"})
    assert not keypair.same_keypair(a, {"public_key": "ssh-rsa AAAA x", "type": "x509"})


FLAVOR = {"id": "f1", "name": "m1.small", "ram": 2048, "vcpus": 1, "disk": 20,
          "OS-FLV-EXT-DATA:ephemeral": 0, "swap": "", "rxtx_factor": 1.0,
          "os-flavor-access:is_public": False, "description": None}


def test_flavor_core_reads_the_wires_variants_alike():
    assert flavor.flavor_core(FLAVOR) == flavor.flavor_core({**FLAVOR, "swap": 0, "id": "x"})
    assert flavor.flavor_core(FLAVOR)["swap"] == 0
    assert flavor.flavor_core({**FLAVOR, "swap": 512}) != flavor.flavor_core(FLAVOR)


def test_flavor_create_body_keeps_the_id_and_every_size():
    body = flavor.create_body(flavor.flavor_core({**FLAVOR, "swap": 256, "description": "d"}),
                              "f1")
    assert body == {"id": "f1", "name": "m1.small", "ram": 2048, "vcpus": 1, "disk": 20,
                    "OS-FLV-EXT-DATA:ephemeral": 0, "swap": 256, "rxtx_factor": 1.0,
                    "os-flavor-access:is_public": False, "description": "d"}
    assert "description" not in flavor.create_body(flavor.flavor_core(FLAVOR), "f1")


def test_extra_spec_and_access_changes():
    assert flavor.spec_changes({"a": "1", "b": "2"}, {"a": "0", "c": "3"}) == (
        {"a": "1", "b": "2"}, ["c"])
    assert flavor.spec_changes({"a": "1"}, {"a": "1"}) == ({}, [])
    assert flavor.access_changes(["p1", "p2"], ["p2", "p3"]) == (["p1"], ["p3"])


SRC = "src-group"
DST = "dst-group"


def rule(rule_id, **fields):
    base = {"id": rule_id, "direction": "ingress", "ethertype": "IPv4", "protocol": None,
            "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
            "remote_group_id": None, "remote_address_group_id": None, "description": ""}
    return {**base, **fields}


EGRESS = [rule("e4", direction="egress"), rule("e6", direction="egress", ethertype="IPv6")]


def test_plan_rules_creates_the_missing_rules_with_remote_groups_mapped():
    source = EGRESS + [rule("s1", protocol="tcp", port_range_min=22, port_range_max=22,
                            remote_group_id=SRC)]
    target = [rule("t4", direction="egress"),
              rule("t6", direction="egress", ethertype="IPv6")]
    to_delete, to_create = security_group.plan_rules(source, target, {SRC: DST})
    assert to_delete == []
    assert to_create == [{"direction": "ingress", "ethertype": "IPv4", "protocol": "tcp",
                          "port_range_min": 22, "port_range_max": 22,
                          "remote_group_id": DST, "description": ""}]


def test_plan_rules_deletes_rules_the_source_lacks():
    target = EGRESS + [rule("old", protocol="udp", port_range_min=53, port_range_max=53)]
    assert security_group.plan_rules(EGRESS, target, {SRC: DST}) == (["old"], [])


def test_plan_rules_of_equal_groups_is_empty():
    source = EGRESS + [rule("s", protocol="TCP", remote_ip_prefix="10.0.0.0/8",
                            remote_group_id=None)]
    target = EGRESS + [rule("t", protocol="tcp", remote_ip_prefix="10.0.0.0/8")]
    assert security_group.plan_rules(source, target, {SRC: DST}) == ([], [])


IMAGE = {"id": "i1", "name": "cirros", "status": "active", "visibility": "shared",
         "protected": True, "os_hidden": False, "owner": "p1", "checksum": "c" * 32,
         "os_hash_algo": "sha512", "os_hash_value": "h" * 128, "size": 10,
         "virtual_size": 10, "min_disk": 1, "min_ram": 64, "disk_format": "qcow2",
         "container_format": "bare", "created_at": "t", "updated_at": "t", "tags": ["x"],
         "self": "/v2/images/i1", "file": "/v2/images/i1/file", "schema": "/v2/schemas/image",
         "os_distro": "cirros", "hw_disk_bus": "virtio", "os_glance_import_task": "t1"}


def test_image_properties_are_the_extra_keys_only():
    assert image.properties(IMAGE) == {"os_distro": "cirros", "hw_disk_bus": "virtio"}


def test_the_image_record_belongs_to_the_project_and_is_protected_only_later():
    record = image.image_record(IMAGE, "p2", "new-id")
    assert record == {"id": "new-id", "owner": "p2", "protected": False, "name": "cirros",
                      "disk_format": "qcow2", "container_format": "bare",
                      "visibility": "shared", "min_disk": 1, "min_ram": 64, "tags": ["x"],
                      "os_hidden": False, "os_distro": "cirros", "hw_disk_bus": "virtio"}


def test_same_data_needs_an_active_image_with_the_sources_checksums():
    assert image.same_data(IMAGE, {**IMAGE, "id": "other"})
    assert not image.same_data(IMAGE, {**IMAGE, "status": "queued"})
    assert not image.same_data(IMAGE, {**IMAGE, "checksum": "d" * 32})
    assert not image.same_data(IMAGE, {**IMAGE, "os_hash_value": "g" * 128})
    assert not image.same_data(IMAGE, {**IMAGE, "size": 11})
    assert not image.same_data({**IMAGE, "checksum": None, "os_hash_value": None},
                               {**IMAGE, "checksum": None, "os_hash_value": None})


def test_same_image_compares_metadata_too():
    assert image.same_image(IMAGE, {**IMAGE, "id": "i2", "owner": "p2"})
    assert not image.same_image(IMAGE, {**IMAGE, "min_ram": 128})
    assert not image.same_image(IMAGE, {**IMAGE, "os_distro": "ubuntu"})
    assert not image.same_image(IMAGE, {**IMAGE, "protected": False})
