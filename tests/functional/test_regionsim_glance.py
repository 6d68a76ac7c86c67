"""regionsim's Glance as openstacksdk sees it, over real sockets behind real Keystone."""

from __future__ import annotations

import hashlib
import os
import uuid

import pytest
from openstack import exceptions as sdk_exc

pytestmark = pytest.mark.functional

REGION = "RegionOne"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_upload_download_update_and_delete(cloud):
    conn = cloud.member(REGION)
    data = os.urandom(512 * 1024)
    image = conn.image.create_image(name=_name("img"), data=data, disk_format="raw",
                                    container_format="bare", visibility="private",
                                    allow_duplicates=True)
    try:
        image = conn.image.get_image(image.id)
        assert image.status == "active" and image.size == len(data)
        assert image.checksum == hashlib.md5(data).hexdigest()
        assert image.hash_algo == "sha512"
        assert image.hash_value == hashlib.sha512(data).hexdigest()
        assert image.owner == cloud.project_id("demo")
        assert conn.image.download_image(image).content == data
        updated = conn.image.update_image(image, name=image.name + "-x", min_ram=128,
                                          hw_disk_bus="scsi")
        assert updated.min_ram == 128
        assert conn.image.get_image(image.id).hw_disk_bus == "scsi"
        assert [i.id for i in conn.image.images(name=updated.name)] == [image.id]
        with pytest.raises(sdk_exc.NotFoundException):
            cloud.admin("RegionTwo").image.get_image(image.id)
    finally:
        conn.image.delete_image(image)
    with pytest.raises(sdk_exc.NotFoundException):
        conn.image.get_image(image.id)


def test_large_image_streams_through(cloud, tmp_path):
    conn = cloud.member(REGION)
    path = tmp_path / "big.raw"
    md5 = hashlib.md5()
    with open(path, "wb") as out:
        for _ in range(64):
            chunk = os.urandom(1024 * 1024)
            md5.update(chunk)
            out.write(chunk)
    image = conn.image.create_image(name=_name("big"), filename=str(path), disk_format="raw",
                                    container_format="bare", allow_duplicates=True)
    try:
        assert conn.image.get_image(image.id).checksum == md5.hexdigest()
        response = conn.image.download_image(image, stream=True)
        got = hashlib.md5()
        for chunk in response.iter_content(1024 * 1024):
            got.update(chunk)
        assert got.hexdigest() == md5.hexdigest()
        assert response.headers["Content-MD5"] == md5.hexdigest()
    finally:
        conn.image.delete_image(image)


def test_public_image_needs_admin(cloud):
    with pytest.raises(sdk_exc.ForbiddenException):
        cloud.member(REGION).image.create_image(name=_name("pub"), visibility="public",
                                                allow_duplicates=True)


def test_shared_image_members(cloud):
    owner, other = cloud.member(REGION), cloud.admin(REGION)
    admin_project = cloud.project_id("admin")
    image = owner.image.create_image(name=_name("shared"), data=b"shared-bytes",
                                     disk_format="raw", container_format="bare",
                                     visibility="shared", allow_duplicates=True)
    try:
        member = owner.image.add_member(image, member_id=admin_project)
        assert member.status == "pending"
        other.image.update_member(member, image, status="accepted")
        listed = [i.id for i in other.image.images(visibility="shared", owner=image.owner)]
        assert image.id in listed
        assert [m.member_id for m in owner.image.members(image)] == [admin_project]
        owner.image.remove_member(member, image)
    finally:
        owner.image.delete_image(image)
