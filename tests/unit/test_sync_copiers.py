"""The copiers against in-memory regions: what they write, and that a resumed entry
never does its work twice."""

from __future__ import annotations

import os

import pytest
from _sync_fakes import (
    SCOPE,
    FakeFlavors,
    FakeGroups,
    FakeImages,
    FakeKeypairs,
    FakeProgress,
    task,
)

from kingbird.core.exceptions import LeaseLost, RegionError, WorkFailed
from kingbird.sync.flavor import FlavorCopier
from kingbird.sync.image import ImageCopier
from kingbird.sync.keypair import KeypairCopier
from kingbird.sync.security_group import SecurityGroupCopier

USER, PROJECT = SCOPE.user_id, SCOPE.project_id

# --- keypairs ------------------------------------------------------------------------


@pytest.fixture
def keypairs():
    fake = FakeKeypairs()
    fake.store[("R1", USER, "k")] = {"name": "k", "public_key": "ssh-rsa AAA", "type": "ssh"}
    return fake


def test_keypair_is_created_for_the_same_user_with_the_same_key(keypairs):
    progress = FakeProgress()
    KeypairCopier(keypairs).copy(task("k", progress=progress))
    assert keypairs.get("R2", USER, "k")["public_key"] == "ssh-rsa AAA"
    assert progress.saved == [{"action": "create"}]


def test_an_existing_keypair_is_refused_without_force(keypairs):
    keypairs.store[("R2", USER, "k")] = {"name": "k", "public_key": "ssh-rsa BBB"}
    with pytest.raises(WorkFailed, match="already exists in R2"):
        KeypairCopier(keypairs).copy(task("k"))
    assert keypairs.writes.total == 0


def test_force_replaces_a_different_keypair_and_keeps_an_equal_one(keypairs):
    keypairs.store[("R2", USER, "k")] = {"name": "k", "public_key": "ssh-rsa BBB"}
    KeypairCopier(keypairs).copy(task("k", force=True))
    assert keypairs.get("R2", USER, "k")["public_key"] == "ssh-rsa AAA"
    writes = keypairs.writes.total
    KeypairCopier(keypairs).copy(task("k", force=True))
    assert keypairs.writes.total == writes


def test_a_resumed_keypair_entry_finds_its_own_copy_and_does_nothing(keypairs):
    KeypairCopier(keypairs).copy(task("k"))
    keypairs.writes.count.clear()
    KeypairCopier(keypairs).copy(task("k", progress=FakeProgress({"action": "create"})))
    assert keypairs.writes.total == 0


def test_a_keypair_gone_from_the_source_fails_the_entry(keypairs):
    with pytest.raises(WorkFailed, match="keypair nope not found in R1"):
        KeypairCopier(keypairs).copy(task("nope"))


def test_nothing_is_written_once_the_lease_is_lost(keypairs):
    with pytest.raises(LeaseLost):
        KeypairCopier(keypairs).copy(task("k", progress=FakeProgress(lose_after_checks=0)))
    assert keypairs.writes.total == 0


# --- flavors -------------------------------------------------------------------------

FLAVOR = {"id": "f1", "name": "gold", "ram": 1024, "vcpus": 2, "disk": 10,
          "OS-FLV-EXT-DATA:ephemeral": 1, "swap": 128, "rxtx_factor": 1.0,
          "os-flavor-access:is_public": False, "description": None}


@pytest.fixture
def flavors():
    fake = FakeFlavors()
    fake.add("R1", FLAVOR, specs={"hw:cpu_policy": "dedicated"}, access=["pa", "pb"])
    return fake


def test_flavor_is_created_with_its_id_specs_and_access(flavors):
    FlavorCopier(flavors).copy(task("gold"))
    assert flavors.get("R2", "f1")["swap"] == 128
    assert flavors.extra_specs("R2", "f1") == {"hw:cpu_policy": "dedicated"}
    assert flavors.access("R2", "f1") == ["pa", "pb"]


def test_a_resumed_flavor_entry_completes_the_copy_without_recreating_it(flavors):
    flavors.add("R2", FLAVOR, specs={}, access=["pa"])  # created, then the engine died
    FlavorCopier(flavors).copy(task("f1", progress=FakeProgress({"action": "create"})))
    assert flavors.writes.count["create"] == 0 and flavors.writes.count["delete"] == 0
    assert flavors.extra_specs("R2", "f1") == {"hw:cpu_policy": "dedicated"}
    assert flavors.access("R2", "f1") == ["pa", "pb"]


def test_force_recreates_a_flavor_of_another_size_and_drops_a_clashing_name(flavors):
    flavors.add("R2", {**FLAVOR, "ram": 4096}, specs={"old": "1"})
    flavors.add("R2", {**FLAVOR, "id": "other", "name": "gold2"})
    FlavorCopier(flavors).copy(task("gold", force=True))
    assert flavors.get("R2", "f1")["ram"] == 1024
    assert flavors.extra_specs("R2", "f1") == {"hw:cpu_policy": "dedicated"}
    assert flavors.get("R2", "other") is not None


def test_an_equal_flavor_without_force_is_refused(flavors):
    flavors.add("R2", FLAVOR, specs={"hw:cpu_policy": "dedicated"}, access=["pa", "pb"])
    with pytest.raises(WorkFailed, match="already exists"):
        FlavorCopier(flavors).copy(task("gold"))


# --- images --------------------------------------------------------------------------

DATA = os.urandom(5 * 1024 + 17)
IMAGE = {"id": "11111111-1111-1111-1111-111111111111", "name": "cirros", "owner": PROJECT,
         "visibility": "private", "protected": True, "disk_format": "qcow2",
         "container_format": "bare", "min_disk": 1, "min_ram": 64, "tags": [],
         "os_hidden": False, "os_distro": "cirros"}


@pytest.fixture
def images():
    fake = FakeImages()
    fake.add("R1", IMAGE, DATA)
    return fake


def copier(images) -> ImageCopier:
    return ImageCopier(images, chunk_size=1024)


def test_image_is_streamed_in_chunks_and_keeps_its_id_and_metadata(images):
    copier(images).copy(task("cirros"))
    copy = images.get("R2", IMAGE["id"])
    assert images.data[("R2", IMAGE["id"])] == DATA
    assert images.largest_chunk == 1024
    assert copy["owner"] == PROJECT and copy["protected"] is True
    assert copy["os_distro"] == "cirros" and copy["min_ram"] == 64
    assert all(d.closed for d in images.opened)


def test_a_resumed_image_entry_keeps_a_complete_copy(images):
    progress = FakeProgress()
    copier(images).copy(task("cirros", progress=progress))
    images.writes.count.clear()
    copier(images).copy(task("cirros", progress=FakeProgress(progress.checkpoint)))
    assert images.writes.count["create"] == 0 and images.writes.count["upload"] == 0
    assert len(images.by_name("R2", PROJECT, "cirros")) == 1


def test_a_resumed_image_entry_replaces_its_partial_copy(images):
    partial = {**IMAGE, "id": "22222222-2222-2222-2222-222222222222", "protected": False}
    images.create("R2", partial)  # queued, no data: the engine died mid-upload
    checkpoint = {"image_id": partial["id"], "replaces": []}
    copier(images).copy(task("cirros", progress=FakeProgress(checkpoint)))
    found = images.by_name("R2", PROJECT, "cirros")
    assert len(found) == 1 and found[0]["status"] == "active"
    assert images.data[("R2", found[0]["id"])] == DATA


def test_a_transient_download_failure_starts_the_copy_again(images):
    # The bytes cannot be streamed twice: the attempt fails (its partial copy
    # deleted) and the entry's next attempt, resumed, starts from a new download.
    images.download_failures = [2048]
    progress = FakeProgress()
    with pytest.raises(RegionError, match="interrupted") as failed:
        copier(images).copy(task("cirros", progress=progress))
    assert failed.value.transient
    assert images.by_name("R2", PROJECT, "cirros") == []
    copier(images).copy(task("cirros", progress=FakeProgress(progress.checkpoint)))
    (copy,) = images.by_name("R2", PROJECT, "cirros")
    assert images.data[("R2", copy["id"])] == DATA
    assert images.writes.count["upload"] == 2


def test_a_copy_with_the_wrong_checksum_is_deleted_and_fails(images):
    images.corrupt_uploads = True
    with pytest.raises(WorkFailed, match="checksum"):
        copier(images).copy(task("cirros"))
    assert images.by_name("R2", PROJECT, "cirros") == []


def test_an_existing_image_is_refused_without_force_and_replaced_with_it(images):
    old = {**IMAGE, "id": "33333333-3333-3333-3333-333333333333", "protected": True}
    images.add("R2", old, b"old bytes")
    with pytest.raises(WorkFailed, match="already exists"):
        copier(images).copy(task("cirros"))
    copier(images).copy(task("cirros", force=True))
    (copy,) = images.by_name("R2", PROJECT, "cirros")
    assert copy["id"] == IMAGE["id"] and images.data[("R2", copy["id"])] == DATA


def test_the_upload_stops_when_the_lease_is_lost(images):
    with pytest.raises(LeaseLost):
        copier(images).copy(task("cirros", progress=FakeProgress(lose_after_checks=3)))


def test_a_source_image_that_is_not_active_fails_the_entry(images):
    images.add("R1", {**IMAGE, "id": "44444444-4444-4444-4444-444444444444", "name": "q",
                      "status": "queued", "size": None})
    with pytest.raises(WorkFailed, match="queued"):
        copier(images).copy(task("q"))


def test_a_non_transient_failure_is_not_retried(images):
    def refuse(*args, **kwargs):
        raise RegionError("R2", "upload: HTTP 413: too large", transient=False)

    images.upload = refuse
    with pytest.raises(RegionError, match="413"):
        copier(images).copy(task("cirros"))
    assert images.by_name("R2", PROJECT, "cirros") == []


# --- security groups -----------------------------------------------------------------


@pytest.fixture
def groups():
    fake = FakeGroups()
    other = fake.add("R1", PROJECT, "db", "databases")
    fake.add("R1", PROJECT, "web", "web servers", rules=[
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 80,
         "port_range_max": 80, "remote_ip_prefix": "0.0.0.0/0"},
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 22,
         "port_range_max": 22, "remote_group_id": "self"},
        {"direction": "egress", "protocol": "tcp", "port_range_min": 5432,
         "port_range_max": 5432, "remote_group_id": other["id"]},
    ])
    return fake


def summary(groups, region, name):
    (group,) = groups.by_name(region, PROJECT, name)
    names = {g["id"]: g["name"] for g in groups.groups[region].values()}
    return group["description"], sorted(
        (str(r["direction"]), str(r["ethertype"]), str(r["protocol"]), str(r["port_range_min"]),
         str(names.get(r["remote_group_id"]))) for r in groups.rules(region, group["id"]))


def test_group_and_rules_are_copied_with_remote_groups_mapped(groups):
    SecurityGroupCopier(groups).copy(task("web"))
    assert summary(groups, "R2", "web") == summary(groups, "R1", "web")
    assert groups.by_name("R2", PROJECT, "db")[0]["description"] == "databases"


def test_a_resumed_group_entry_adds_only_the_missing_rules(groups):
    SecurityGroupCopier(groups).copy(task("web"))
    (copy,) = groups.by_name("R2", PROJECT, "web")
    victim = next(r for r in groups.rules("R2", copy["id"]) if r["port_range_min"] == 80)
    groups.rule_rows["R2"].pop(victim["id"])
    groups.writes.count.clear()
    SecurityGroupCopier(groups).copy(task("web", progress=FakeProgress({"action": "create"})))
    assert dict(groups.writes.count) == {"create_rule": 1}
    assert summary(groups, "R2", "web") == summary(groups, "R1", "web")


def test_force_brings_an_existing_group_in_line(groups):
    groups.add("R2", PROJECT, "web", "old", rules=[
        {"direction": "ingress", "protocol": "udp", "port_range_min": 53,
         "port_range_max": 53}])
    with pytest.raises(WorkFailed, match="already exists"):
        SecurityGroupCopier(groups).copy(task("web"))
    SecurityGroupCopier(groups).copy(task("web", force=True))
    assert summary(groups, "R2", "web") == summary(groups, "R1", "web")


def test_a_default_group_neutron_made_meanwhile_is_filled_in(groups):
    groups.add("R1", PROJECT, "default", "Default security group", rules=[
        {"direction": "ingress", "protocol": "tcp", "port_range_min": 8080,
         "port_range_max": 8080}])
    create = groups.create

    def neutron_makes_default_first(region, project_id, name, description):
        if name == "default":
            create(region, project_id, name, description)
            raise RegionError(region, "create security group default: HTTP 409: exists",
                              status=409)
        return create(region, project_id, name, description)

    groups.create = neutron_makes_default_first
    SecurityGroupCopier(groups).copy(task("default"))
    assert summary(groups, "R2", "default") == summary(groups, "R1", "default")
