"""regionsim's Nova as openstacksdk sees it, over real sockets behind real Keystone."""

from __future__ import annotations

import json
import uuid

import pytest
from openstack import exceptions as sdk_exc

pytestmark = pytest.mark.functional

REGION = "RegionOne"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def member(cloud):
    return cloud.member(REGION)


@pytest.fixture
def network(member):
    net = member.network.create_network(name=_name("net"))
    member.network.create_subnet(network_id=net.id, cidr="10.77.0.0/24", ip_version=4)
    yield net
    for port in member.network.ports(network_id=net.id):
        member.network.delete_port(port)
    member.network.delete_network(net)


@pytest.fixture
def image(member):
    img = member.image.create_image(name=_name("img"), data=b"root-disk" * 100,
                                    disk_format="raw", container_format="bare",
                                    visibility="private", allow_duplicates=True)
    yield img
    member.image.delete_image(img, ignore_missing=True)


def _boot(member, image, network, flavor="1", **extra):
    return member.compute.create_server(name=_name("vm"), image_id=image.id, flavor_id=flavor,
                                        networks=[{"uuid": network.id}], **extra)


def test_sdk_negotiates_a_microversion_up_to_2_90(member):
    data = member.compute.get_endpoint_data()
    assert str(data.min_microversion) in ("2.1", "(2, 1)")
    assert data.max_microversion == (2, 90)


def test_default_flavors_and_admin_private_flavor_access(cloud, member):
    names = {f.name for f in member.compute.flavors()}
    assert {"m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.xlarge"} <= names
    admin = cloud.admin(REGION)
    flavor = admin.compute.create_flavor(name=_name("priv"), ram=256, vcpus=1, disk=1,
                                         is_public=False)
    try:
        with pytest.raises(sdk_exc.NotFoundException):
            member.compute.get_flavor(flavor.id)
        admin.compute.flavor_add_tenant_access(flavor, cloud.project_id("demo"))
        assert member.compute.get_flavor(flavor.id).name == flavor.name
    finally:
        admin.compute.delete_flavor(flavor)


def test_keypair_generated_listed_and_deleted(member):
    name = _name("kp")
    keypair = member.compute.create_keypair(name=name)
    try:
        assert "PRIVATE KEY" in keypair.private_key
        assert keypair.public_key.startswith("ssh-rsa ")
        assert member.compute.get_keypair(name).fingerprint == keypair.fingerprint
        assert name in [k.name for k in member.compute.keypairs()]
    finally:
        member.compute.delete_keypair(name)
    with pytest.raises(sdk_exc.NotFoundException):
        member.compute.get_keypair(name)


def test_server_lifecycle_counts_against_quota(cloud, member, image, network):
    project_id = cloud.project_id("demo")
    before = member.compute.get_quota_set(project_id, usage=True).usage["cores"]
    server = _boot(member, image, network, flavor="2")
    try:
        server = member.compute.wait_for_server(server, wait=30)
        assert server.status == "ACTIVE"
        (address,) = next(iter(server.addresses.values()))
        assert address["addr"].startswith("10.77.0.")
        quota = member.compute.get_quota_set(project_id, usage=True)
        assert quota.usage["cores"] == before + 1
    finally:
        member.compute.delete_server(server)
        member.compute.wait_for_delete(server, wait=30)
    assert member.compute.get_quota_set(project_id, usage=True).usage["cores"] == before


def test_over_quota_boot_is_refused_with_novas_message(cloud, member, image, network):
    admin = cloud.admin(REGION)
    project_id = cloud.project_id("demo")
    admin.compute.update_quota_set(project_id, instances=0)
    try:
        with pytest.raises(sdk_exc.HttpException) as caught:
            _boot(member, image, network)
        assert caught.value.status_code == 403
        assert "Quota exceeded for instances: Requested 1, but already used" in str(
            caught.value)
    finally:
        admin.compute.revert_quota_set(project_id)


def test_boot_from_volume_and_snapshot_image_records_block_device_mapping(member, network):
    volume = member.block_storage.create_volume(size=1, name=_name("root"))
    member.block_storage.wait_for_status(volume, "available", wait=30)
    server = member.compute.create_server(
        name=_name("bfv"), flavor_id="1", networks=[{"uuid": network.id}],
        block_device_mapping=[{"boot_index": 0, "uuid": volume.id, "source_type": "volume",
                               "destination_type": "volume"}])
    try:
        member.compute.wait_for_server(server, wait=30)
        image = member.compute.create_server_image(server, _name("snap"), wait=True)
        props = member.image.get_image(image.id).properties
        (mapping,) = json.loads(props["block_device_mapping"])
        snapshot = member.block_storage.get_snapshot(mapping["snapshot_id"])
        assert snapshot.volume_id == volume.id
        member.image.delete_image(image)
        member.block_storage.delete_snapshot(snapshot)
    finally:
        member.compute.delete_server(server)
        member.compute.wait_for_delete(server, wait=30)
        member.block_storage.delete_volume(volume)


def test_volume_attach_and_detach_through_nova(member, image, network):
    server = member.compute.wait_for_server(_boot(member, image, network), wait=30)
    volume = member.block_storage.create_volume(size=1, name=_name("data"))
    try:
        member.block_storage.wait_for_status(volume, "available", wait=30)
        member.compute.create_volume_attachment(server, volume_id=volume.id)
        member.block_storage.wait_for_status(volume, "in-use", wait=30)
        assert [a.volume_id for a in member.compute.volume_attachments(server)] == [volume.id]
        member.compute.delete_volume_attachment(server, volume.id)
        member.block_storage.wait_for_status(volume, "available", wait=30)
    finally:
        member.compute.delete_server(server)
        member.compute.wait_for_delete(server, wait=30)
        member.block_storage.delete_volume(volume)
