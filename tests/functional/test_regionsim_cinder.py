"""regionsim's Cinder as openstacksdk sees it, over real sockets behind real Keystone."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
import requests
from openstack import exceptions as sdk_exc

pytestmark = pytest.mark.functional

REGION = "RegionOne"


def _name(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def _content_url(conn, volume_id: str) -> str:
    base = conn.block_storage.get_endpoint().split("/volume/")[0]
    return f"{base}/volume/_sim/volumes/{volume_id}/content"


def _write(cloud, conn, volume_id: str, data: bytes) -> str:
    resp = requests.put(_content_url(conn, volume_id), timeout=30,
                        json={"data": base64.b64encode(data).decode()},
                        headers={"X-Auth-Token": cloud.admin_token()})
    resp.raise_for_status()
    return resp.json()["digest"]


def _digest(cloud, conn, volume_id: str) -> str:
    resp = requests.get(_content_url(conn, volume_id), timeout=30,
                        headers={"X-Auth-Token": cloud.admin_token()})
    resp.raise_for_status()
    return resp.json()["digest"]


def test_sdk_negotiates_a_microversion_up_to_3_71(cloud):
    data = cloud.member(REGION).block_storage.get_endpoint_data()
    assert data.max_microversion == (3, 71)


def test_quota_usage_follows_volumes(cloud):
    member = cloud.member(REGION)
    project_id = cloud.project_id("demo")
    before = member.block_storage.get_quota_set(project_id, usage=True).usage["gigabytes"]
    volume = member.block_storage.create_volume(size=2, name=_name("v"))
    try:
        member.block_storage.wait_for_status(volume, "available", wait=30)
        quota = member.block_storage.get_quota_set(project_id, usage=True)
        assert quota.usage["gigabytes"] == before + 2
    finally:
        member.block_storage.delete_volume(volume)


def test_over_quota_volume_is_413(cloud):
    admin = cloud.admin(REGION)
    member = cloud.member(REGION)
    project_id = cloud.project_id("demo")
    used = member.block_storage.get_quota_set(project_id, usage=True).usage["volumes"]
    admin.block_storage.update_quota_set(project_id, volumes=used)
    try:
        with pytest.raises(sdk_exc.HttpException) as caught:
            member.block_storage.create_volume(size=1)
        assert caught.value.status_code == 413
        assert f"Maximum number of volumes allowed ({used}) exceeded" in str(caught.value)
    finally:
        admin.block_storage.revert_quota_set(project_id)


def test_snapshot_and_volume_from_snapshot_keep_the_data(cloud):
    member = cloud.member(REGION)
    volume = member.block_storage.create_volume(size=1, name=_name("src"))
    member.block_storage.wait_for_status(volume, "available", wait=30)
    digest = _write(cloud, member, volume.id, b"snapshot me")
    snapshot = member.block_storage.create_snapshot(volume_id=volume.id, name=_name("s"))
    copy = member.block_storage.create_volume(snapshot_id=snapshot.id, size=1)
    try:
        member.block_storage.wait_for_status(copy, "available", wait=30)
        assert _digest(cloud, member, copy.id) == digest
    finally:
        member.block_storage.delete_volume(copy)
        member.block_storage.delete_snapshot(snapshot)
        member.block_storage.wait_for_delete(snapshot, wait=30)
        member.block_storage.delete_volume(volume)


def test_backup_exported_in_one_region_is_restored_in_another(cloud):
    one, two = cloud.admin("RegionOne"), cloud.admin("RegionTwo")
    volume = one.block_storage.create_volume(size=1, name=_name("dr"))
    one.block_storage.wait_for_status(volume, "available", wait=30)
    digest = _write(cloud, one, volume.id, b"disaster recovery payload")
    backup = one.block_storage.create_backup(volume_id=volume.id, name=_name("b"))
    one.block_storage.wait_for_status(backup, "available", wait=30)
    _write(cloud, one, volume.id, b"later change")
    incremental = one.block_storage.create_backup(volume_id=volume.id, is_incremental=True)
    one.block_storage.wait_for_status(incremental, "available", wait=30)
    record = one.block_storage.export_backup(backup)["backup-record"]
    # openstacksdk 4.22's import_backup posts to the wrong URL; call the API directly.
    resp = two.block_storage.post("/backups/import_record", json={"backup-record": record},
                                  raise_exc=False)
    assert resp.status_code == 201, resp.text
    imported = two.block_storage.get_backup(backup.id)
    restored = two.block_storage.restore_backup(imported, name=_name("restored"))
    try:
        assert _digest(cloud, two, restored.volume_id) == digest
        assert _digest(cloud, one, volume.id) == hashlib.sha256(b"later change").hexdigest()
    finally:
        two.block_storage.delete_volume(restored.volume_id)
        two.block_storage.delete_backup(imported)
        one.block_storage.delete_backup(incremental)
        one.block_storage.delete_backup(backup)
        one.block_storage.delete_volume(volume)


def test_replicated_type_and_per_volume_promotion(cloud):
    admin = cloud.admin(REGION)
    vtype = admin.block_storage.create_type(name=_name("repl"),
                                            extra_specs={"replication_enabled": "<is> True"})
    volume = admin.block_storage.create_volume(size=1, volume_type=vtype.name)
    try:
        admin.block_storage.wait_for_status(volume, "available", wait=30)
        assert admin.block_storage.get_volume(volume.id).replication_status == "enabled"
        resp = admin.block_storage.post(f"/volumes/{volume.id}/action",
                                        json={"os-promote-replica": None}, raise_exc=False)
        assert resp.status_code == 202
        assert admin.block_storage.get_volume(volume.id).replication_status == "failed-over"
    finally:
        admin.block_storage.delete_volume(volume)
        admin.block_storage.wait_for_delete(volume, wait=30)
        admin.block_storage.delete_type(vtype)
