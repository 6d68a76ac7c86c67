"""The simulated Cinder, route by route, through Flask's test client.

Endpoints with a tempest.lib response schema are validated against it at 3.0
and, where tempest describes later bodies, at those microversions too.
"""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from _sim_client import ADMIN, DEMO, OTHER, Caller, b64, create_image, make_region
from _sim_client import validate as check
from tempest.lib.api_schema.response.volume import backups as backups30
from tempest.lib.api_schema.response.volume import (
    limits,
    quota_classes,
    quotas,
    versions,
    volume_types,
)
from tempest.lib.api_schema.response.volume import snapshots as snapshots30
from tempest.lib.api_schema.response.volume import volumes as volumes30
from tempest.lib.api_schema.response.volume.v3_64 import backups as backups364
from tempest.lib.api_schema.response.volume.v3_69 import volumes as volumes369

V3 = "/volume/v3"


@pytest.fixture
def region_app(tmp_path):
    return make_region(tmp_path)


@pytest.fixture
def admin(region_app):
    return Caller(region_app[1], ADMIN, "volume", None)


@pytest.fixture
def demo(region_app):
    return Caller(region_app[1], DEMO, "volume", None)


@pytest.fixture
def other(region_app):
    return Caller(region_app[1], OTHER, "volume", None)


def fault(resp) -> tuple[str, int, str]:
    (name, body), = resp.get_json().items()
    return name, body["code"], body["message"]


def new_volume(caller, size=1, **extra) -> dict:
    resp = caller.post(f"{V3}/{caller.project_id}/volumes", {"volume": {"size": size, **extra}})
    assert resp.status_code == 202, resp.get_data(as_text=True)
    return resp.get_json()["volume"]


def write(admin, volume_id: str, data: bytes) -> str:
    resp = admin.put(f"/volume/_sim/volumes/{volume_id}/content", {"data": b64(data)})
    assert resp.status_code == 200
    return resp.get_json()["digest"]


def digest_of(admin, volume_id: str) -> str:
    return admin.get(f"/volume/_sim/volumes/{volume_id}/content").get_json()["digest"]


def set_quota(admin, project_id: str, **limits_) -> None:
    resp = admin.put(f"{V3}/os-quota-sets/{project_id}", {"quota_set": limits_})
    assert resp.status_code == 200, resp.get_data(as_text=True)


# -- versions, routing, microversions ----------------------------------------

def test_version_documents_match_tempest_schemas(demo):
    check(versions.list_versions, demo.get("/volume/"))
    check(versions.volume_api_version_details, demo.get(f"{V3}/"))
    (doc,) = demo.get(f"{V3}/").get_json()["versions"]
    assert (doc["min_version"], doc["version"]) == ("3.0", "3.71")


def test_routes_work_with_and_without_project_in_url(demo):
    volume = new_volume(demo)
    assert demo.get(f"{V3}/volumes/{volume['id']}").status_code == 200
    assert demo.get(f"{V3}/{demo.project_id}/volumes/{volume['id']}").status_code == 200
    resp = demo.get(f"{V3}/{OTHER[1]}/volumes")
    assert fault(resp) == ("badRequest", 400, "Malformed request url")


def test_microversion_is_negotiated_and_echoed(demo):
    resp = demo.at("3.50").get(f"{V3}/volumes")
    assert resp.headers["OpenStack-API-Version"] == "volume 3.50"
    assert demo.get(f"{V3}/volumes").headers["OpenStack-API-Version"] == "volume 3.0"
    assert demo.at("latest").get(f"{V3}/volumes").headers[
        "OpenStack-API-Version"] == "volume 3.71"
    assert demo.at("3.99").get(f"{V3}/volumes").status_code == 406


# -- quota sets --------------------------------------------------------------

def test_quota_set_bodies_match_schemas(admin, demo):
    path = f"{V3}/os-quota-sets/{demo.project_id}"
    check(quotas.show_quota_set, demo.get(path))
    check(quotas.show_quota_set_usage, demo.get(path + "?usage=True"))
    check(quotas.show_quota_set, demo.get(path + "/defaults"))
    check(quotas.update_quota_set, admin.put(path, {"quota_set": {"volumes": 20}}))
    check(quotas.delete_quota_set, admin.delete(path))


def test_quota_usage_reports_in_use_reserved_and_allocated(demo):
    new_volume(demo, 3)
    usage = demo.get(f"{V3}/os-quota-sets/{demo.project_id}?usage=True").get_json()[
        "quota_set"]
    assert usage["volumes"] == {"limit": 10, "in_use": 1, "reserved": 0, "allocated": 0}
    assert usage["gigabytes"]["in_use"] == 3
    assert usage["volumes___DEFAULT__"] == {"limit": -1, "in_use": 1, "reserved": 0,
                                            "allocated": 0}


def test_member_reads_own_quota_only_and_cannot_update(demo, other):
    resp = demo.get(f"{V3}/os-quota-sets/{other.project_id}")
    assert fault(resp) == ("forbidden", 403, "Policy doesn't allow "
                                             "volume_extension:quotas:show to be performed.")
    assert demo.put(f"{V3}/os-quota-sets/{demo.project_id}",
                    {"quota_set": {"volumes": 1}}).status_code == 403


def test_quota_update_below_usage_is_refused(admin, demo):
    new_volume(demo, 5)
    new_volume(demo, 5)
    resp = admin.put(f"{V3}/os-quota-sets/{demo.project_id}", {"quota_set": {"volumes": 1}})
    assert fault(resp) == ("badRequest", 400, "Quota volumes limit must be equal or greater "
                           "than existing resources. Current usage is 2 and the requested "
                           "limit is 1.")
    set_quota(admin, demo.project_id, volumes=-1, gigabytes=10, per_volume_gigabytes=1)


def test_quota_update_rejects_skip_validation_and_bad_keys(admin, demo):
    path = f"{V3}/os-quota-sets/{demo.project_id}"
    assert admin.put(path, {"quota_set": {"volumes": 5},
                            "skip_validation": False}).status_code == 400
    resp = admin.put(path, {"quota_set": {"bogus": 5}})
    assert fault(resp)[2] == "Invalid input received: Bad key(s) in quota set: bogus"
    assert admin.put(path, {"quota_set": {"volumes": -2}}).status_code == 400


def test_quota_delete_reverts_to_defaults(admin, demo):
    set_quota(admin, demo.project_id, volumes=3)
    admin.delete(f"{V3}/os-quota-sets/{demo.project_id}")
    assert demo.get(f"{V3}/os-quota-sets/{demo.project_id}").get_json()[
        "quota_set"]["volumes"] == 10


def test_quota_classes_match_schemas_and_default_class_sets_defaults(admin, demo):
    check(quota_classes.show_quota_classes, admin.get(f"{V3}/os-quota-class-sets/default"))
    resp = admin.put(f"{V3}/os-quota-class-sets/default",
                     {"quota_class_set": {"volumes": 4}})
    check(quota_classes.update_quota_classes, resp)
    assert demo.get(f"{V3}/os-quota-sets/{demo.project_id}").get_json()[
        "quota_set"]["volumes"] == 4
    assert demo.get(f"{V3}/os-quota-class-sets/default").status_code == 403


def test_limits_match_schema_and_count_usage(demo):
    new_volume(demo, 2)
    resp = demo.get(f"{V3}/limits")
    check(limits.show_limits, resp)
    absolute = resp.get_json()["limits"]["absolute"]
    assert (absolute["totalVolumesUsed"], absolute["totalGigabytesUsed"]) == (1, 2)


# -- volumes -----------------------------------------------------------------

def test_volume_bodies_match_schemas_at_3_0(admin, demo):
    resp = demo.post(f"{V3}/volumes", {"volume": {"size": 1, "name": "v",
                                                  "metadata": {"a": "b"}}})
    check(volumes30.create_volume, resp)
    volume_id = resp.get_json()["volume"]["id"]
    for caller in (demo, admin):
        check(volumes30.show_volume, caller.get(f"{V3}/volumes/{volume_id}"))
    check(volumes30.list_volumes_no_detail, demo.get(f"{V3}/volumes"))
    check(volumes30.list_volumes_with_detail, demo.get(f"{V3}/volumes/detail"))
    check(volumes30.update_volume, demo.put(f"{V3}/volumes/{volume_id}",
                                            {"volume": {"name": "w"}}))
    check(volumes30.delete_volume, demo.delete(f"{V3}/volumes/{volume_id}"))


def test_volume_bodies_match_schemas_at_3_69(admin, demo):
    member, chief = demo.at("3.69"), admin.at("3.69")
    resp = member.post(f"{V3}/volumes", {"volume": {"size": 1}})
    check(volumes369.create_volume, resp)
    volume_id = resp.get_json()["volume"]["id"]
    for caller in (member, chief):
        check(volumes369.show_volume, caller.get(f"{V3}/volumes/{volume_id}"))
        check(volumes369.list_volumes_with_detail, caller.get(f"{V3}/volumes/detail"))
    body = member.get(f"{V3}/volumes/{volume_id}").get_json()["volume"]
    assert body["consumes_quota"] is True and "volume_type_id" in body


def test_volume_quota_exceeded_is_413_with_cinders_message(admin, demo):
    set_quota(admin, demo.project_id, volumes=1)
    new_volume(demo)
    resp = demo.post(f"{V3}/volumes", {"volume": {"size": 1}})
    assert resp.status_code == 413 and resp.headers["Retry-After"] == "0"
    assert resp.get_json() == {"overLimit": {
        "code": 413, "retryAfter": "0",
        "message": "Maximum number of volumes allowed (1) exceeded for quota 'volumes'."}}


def test_gigabytes_quota_exceeded_message(admin, demo):
    set_quota(admin, demo.project_id, gigabytes=5)
    new_volume(demo, 4)
    resp = demo.post(f"{V3}/volumes", {"volume": {"size": 2}})
    assert fault(resp) == ("overLimit", 413, "Requested volume or snapshot exceeds allowed "
                           "gigabytes quota. Requested 2G, quota is 5G and 4G has been "
                           "consumed.")


def test_per_volume_gigabytes_caps_one_volume(admin, demo):
    set_quota(admin, demo.project_id, per_volume_gigabytes=2)
    resp = demo.post(f"{V3}/volumes", {"volume": {"size": 3}})
    assert fault(resp)[1:] == (413, "Requested volume size 3G is larger than maximum "
                                    "allowed limit 2G.")


def test_volumes_are_scoped_to_their_project(admin, demo, other):
    volume = new_volume(demo)
    assert other.get(f"{V3}/volumes/{volume['id']}").status_code == 404
    assert other.get(f"{V3}/volumes").get_json()["volumes"] == []
    assert [v["id"] for v in admin.get(f"{V3}/volumes?all_tenants=1").get_json()[
        "volumes"]] == [volume["id"]]


def test_volume_from_image_is_bootable_and_holds_the_image(admin, demo):
    image_id = create_image(demo, b"image-bytes", name="cirros", visibility="private")
    volume = new_volume(demo, 1, imageRef=image_id)
    shown = demo.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"]
    assert shown["bootable"] == "true"
    assert shown["volume_image_metadata"]["image_id"] == image_id
    assert digest_of(admin, volume["id"]) == hashlib.sha256(b"image-bytes").hexdigest()


def test_volume_from_unknown_image_is_400(demo):
    resp = demo.post(f"{V3}/volumes", {"volume": {"size": 1, "imageRef": "nope"}})
    assert fault(resp) == ("badRequest", 400, "Invalid image identifier or unable to access "
                                              "requested image.")


def test_volume_from_another_projects_private_image_is_refused(demo, other):
    image_id = create_image(other, b"theirs", visibility="private")
    resp = demo.post(f"{V3}/volumes", {"volume": {"size": 1, "imageRef": image_id}})
    assert resp.status_code == 400


def test_volume_from_snapshot_and_clone_carry_the_content(admin, demo):
    source = new_volume(demo, 2)
    digest = write(admin, source["id"], b"precious")
    snap = demo.post(f"{V3}/snapshots", {"snapshot": {"volume_id": source["id"]}}).get_json()
    write(admin, source["id"], b"changed later")
    from_snap = new_volume(demo, 2, snapshot_id=snap["snapshot"]["id"])
    assert from_snap["snapshot_id"] == snap["snapshot"]["id"]
    assert digest_of(admin, from_snap["id"]) == digest
    clone = demo.post(f"{V3}/volumes", {"volume": {"source_volid": source["id"]}}).get_json()
    assert digest_of(admin, clone["volume"]["id"]) == hashlib.sha256(b"changed later").hexdigest()
    resp = demo.post(f"{V3}/volumes", {"volume": {"size": 1,
                                                  "snapshot_id": snap["snapshot"]["id"]}})
    assert resp.status_code == 400


def test_volume_metadata_routes(demo):
    volume = new_volume(demo, metadata={"a": "1"})
    base = f"{V3}/volumes/{volume['id']}/metadata"
    assert demo.post(base, {"metadata": {"b": "2"}}).get_json()["metadata"] == {"a": "1",
                                                                                 "b": "2"}
    assert demo.put(base, {"metadata": {"c": "3"}}).get_json()["metadata"] == {"c": "3"}
    assert demo.get(base + "/c").get_json() == {"meta": {"c": "3"}}
    assert demo.delete(base + "/c").status_code == 200
    assert demo.get(base).get_json() == {"metadata": {}}


def test_volume_with_snapshots_cannot_be_deleted_unless_cascade(demo):
    volume = new_volume(demo)
    demo.post(f"{V3}/snapshots", {"snapshot": {"volume_id": volume["id"]}})
    assert demo.delete(f"{V3}/volumes/{volume['id']}").status_code == 400
    assert demo.delete(f"{V3}/volumes/{volume['id']}?cascade=true").status_code == 202
    usage = demo.get(f"{V3}/os-quota-sets/{demo.project_id}?usage=True").get_json()[
        "quota_set"]
    assert usage["snapshots"]["in_use"] == 0 and usage["gigabytes"]["in_use"] == 0


# -- volume actions ----------------------------------------------------------

def test_extend_grows_the_volume_within_quota(admin, demo):
    volume = new_volume(demo, 1)
    action = f"{V3}/volumes/{volume['id']}/action"
    check(volumes30.extend_volume, demo.post(action, {"os-extend": {"new_size": 3}}))
    assert demo.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"]["size"] == 3
    assert demo.post(action, {"os-extend": {"new_size": 2}}).status_code == 400
    set_quota(admin, demo.project_id, gigabytes=4)
    assert demo.post(action, {"os-extend": {"new_size": 9}}).status_code == 413


def test_set_bootable_attach_and_detach(admin, demo):
    volume = new_volume(demo)
    action = f"{V3}/volumes/{volume['id']}/action"
    check(volumes30.set_bootable_volume, demo.post(action, {"os-set_bootable":
                                                            {"bootable": True}}))
    check(volumes30.attach_volume, demo.post(action, {"os-attach": {
        "instance_uuid": "0f6a9d7e-9c35-4e7b-9b0a-1b0a2c3d4e5f", "mountpoint": "/dev/vdb"}}))
    shown = demo.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"]
    assert shown["status"] == "in-use" and shown["bootable"] == "true"
    check(volumes30.detach_volume, demo.post(action, {"os-detach": {}}))
    assert demo.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"][
        "status"] == "available"
    assert demo.post(action, {"os-reset_status": {"status": "error"}}).status_code == 403
    assert admin.post(action, {"os-reset_status": {"status": "error"}}).status_code == 202


# -- snapshots ---------------------------------------------------------------

def test_snapshot_bodies_match_schemas(demo):
    volume = new_volume(demo)
    resp = demo.post(f"{V3}/snapshots", {"snapshot": {"volume_id": volume["id"],
                                                      "name": "s", "metadata": {"k": "v"}}})
    check(snapshots30.create_snapshot, resp)
    snap_id = resp.get_json()["snapshot"]["id"]
    check(snapshots30.show_snapshot, demo.get(f"{V3}/snapshots/{snap_id}"))
    check(snapshots30.list_snapshots_no_detail, demo.get(f"{V3}/snapshots"))
    check(snapshots30.list_snapshots_with_detail, demo.get(f"{V3}/snapshots/detail"))
    check(snapshots30.update_snapshot, demo.put(f"{V3}/snapshots/{snap_id}",
                                                {"snapshot": {"name": "t"}}))
    check(snapshots30.show_snapshot_metadata, demo.get(f"{V3}/snapshots/{snap_id}/metadata"))
    check(snapshots30.delete_snapshot, demo.delete(f"{V3}/snapshots/{snap_id}"))


def test_snapshot_of_in_use_volume_needs_force_before_3_66(demo):
    volume = new_volume(demo)
    demo.post(f"{V3}/volumes/{volume['id']}/action",
              {"os-attach": {"instance_uuid": "abc", "mountpoint": "/dev/vdb"}})
    body = {"snapshot": {"volume_id": volume["id"]}}
    assert demo.post(f"{V3}/snapshots", body).status_code == 400
    assert demo.post(f"{V3}/snapshots", {"snapshot": {"volume_id": volume["id"],
                                                      "force": True}}).status_code == 202
    assert demo.at("3.66").post(f"{V3}/snapshots", body).status_code == 202


def test_snapshot_quota_exceeded_message(admin, demo):
    volume = new_volume(demo)
    set_quota(admin, demo.project_id, snapshots=0)
    resp = demo.post(f"{V3}/snapshots", {"snapshot": {"volume_id": volume["id"]}})
    assert fault(resp) == ("overLimit", 413, "Maximum number of snapshots allowed (0) "
                                             "exceeded")


# -- backups -----------------------------------------------------------------

def _backup(caller, volume_id, **extra):
    return caller.post(f"{V3}/backups", {"backup": {"volume_id": volume_id, **extra}})


def test_backup_bodies_match_schemas(admin, demo):
    volume = new_volume(demo)
    resp = _backup(demo, volume["id"], name="b")
    check(backups30.create_backup, resp)
    backup_id = resp.get_json()["backup"]["id"]
    check(backups30.show_backup, demo.get(f"{V3}/backups/{backup_id}"))
    check(backups364.show_backup, admin.at("3.64").get(f"{V3}/backups/{backup_id}"))
    check(backups30.list_backups_no_detail, demo.get(f"{V3}/backups"))
    check(backups30.list_backups_with_detail, demo.get(f"{V3}/backups/detail"))
    check(backups364.list_backups_with_detail, demo.at("3.64").get(f"{V3}/backups/detail"))
    check(backups30.export_backup, admin.get(f"{V3}/backups/{backup_id}/export_record"))
    check(backups30.restore_backup, demo.post(f"{V3}/backups/{backup_id}/restore",
                                              {"restore": {"name": "r"}}))
    check(backups30.delete_backup, demo.delete(f"{V3}/backups/{backup_id}"))


def test_incremental_backup_needs_a_full_one_first(demo):
    volume = new_volume(demo)
    resp = _backup(demo, volume["id"], incremental=True)
    assert fault(resp) == ("badRequest", 400, "Invalid backup: No backups available to do "
                                              "an incremental backup.")
    full = _backup(demo, volume["id"]).get_json()["backup"]["id"]
    incr = _backup(demo, volume["id"], incremental=True).get_json()["backup"]["id"]
    assert demo.get(f"{V3}/backups/{incr}").get_json()["backup"]["is_incremental"] is True
    assert demo.get(f"{V3}/backups/{full}").get_json()["backup"]["has_dependent_backups"]
    assert demo.delete(f"{V3}/backups/{full}").status_code == 400
    assert demo.delete(f"{V3}/backups/{incr}").status_code == 202
    assert demo.delete(f"{V3}/backups/{full}").status_code == 202


def test_backup_of_in_use_volume_needs_force(demo):
    volume = new_volume(demo)
    demo.post(f"{V3}/volumes/{volume['id']}/action",
              {"os-attach": {"instance_uuid": "abc", "mountpoint": "/dev/vdb"}})
    assert _backup(demo, volume["id"]).status_code == 400
    assert _backup(demo, volume["id"], force=True).status_code == 202


def test_backup_quotas_are_enforced(admin, demo):
    volume = new_volume(demo, 3)
    set_quota(admin, demo.project_id, backup_gigabytes=2)
    resp = _backup(demo, volume["id"])
    assert fault(resp)[2] == ("Requested backup exceeds allowed Backup gigabytes quota. "
                              "Requested 3G, quota is 2G and 0G has been consumed.")
    set_quota(admin, demo.project_id, backup_gigabytes=-1, backups=0)
    assert fault(_backup(demo, volume["id"]))[2] == ("Maximum number of backups allowed (0) "
                                                     "exceeded")


def test_restore_gives_the_data_of_the_restore_point(admin, demo):
    volume = new_volume(demo, 2)
    first = write(admin, volume["id"], b"monday")
    monday = _backup(demo, volume["id"]).get_json()["backup"]["id"]
    write(admin, volume["id"], b"tuesday")
    tuesday = _backup(demo, volume["id"], incremental=True).get_json()["backup"]["id"]
    restored = demo.post(f"{V3}/backups/{monday}/restore", {"restore": {}}).get_json()
    assert restored["restore"]["volume_name"] == f"restore_backup_{monday}"
    assert digest_of(admin, restored["restore"]["volume_id"]) == first
    target = new_volume(demo, 2)
    resp = demo.post(f"{V3}/backups/{tuesday}/restore", {"restore": {"volume_id":
                                                                     target["id"]}})
    assert resp.get_json()["restore"]["volume_id"] == target["id"]
    assert digest_of(admin, target["id"]) == hashlib.sha256(b"tuesday").hexdigest()
    small = new_volume(demo, 1)
    resp = demo.post(f"{V3}/backups/{monday}/restore", {"restore": {"volume_id": small["id"]}})
    assert fault(resp)[2] == ("Invalid volume: volume size 1 is too small to restore backup "
                              "of size 2.")


def test_export_record_is_a_self_contained_base64_json(admin, demo):
    volume = new_volume(demo, 1)
    digest = write(admin, volume["id"], b"payload")
    backup_id = _backup(demo, volume["id"]).get_json()["backup"]["id"]
    assert demo.get(f"{V3}/backups/{backup_id}/export_record").status_code == 403
    record = admin.get(f"{V3}/backups/{backup_id}/export_record").get_json()["backup-record"]
    decoded = json.loads(base64.b64decode(record["backup_url"]))
    assert decoded["id"] == backup_id and decoded["content_digest"] == digest
    assert decoded["content_size"] == len(b"payload") and decoded["size"] == 1


def test_backup_exported_in_one_region_restores_in_another(tmp_path):
    _, client_one = make_region(tmp_path, "RegionOne")
    _, client_two = make_region(tmp_path, "RegionTwo")
    admin_one = Caller(client_one, ADMIN, "volume", None)
    admin_two = Caller(client_two, ADMIN, "volume", None)
    volume = new_volume(admin_one, 2)
    digest = write(admin_one, volume["id"], b"cross-region data")
    backup_id = _backup(admin_one, volume["id"]).get_json()["backup"]["id"]
    record = admin_one.get(f"{V3}/backups/{backup_id}/export_record").get_json()
    resp = admin_two.post(f"{V3}/backups/import_record", record)
    check(backups30.import_backup, resp)
    assert resp.get_json()["backup"]["id"] == backup_id
    restored = admin_two.post(f"{V3}/backups/{backup_id}/restore", {"restore": {}}).get_json()
    assert digest_of(admin_two, restored["restore"]["volume_id"]) == digest
    assert admin_two.post(f"{V3}/backups/import_record", record).status_code == 400
    usage = admin_two.get(f"{V3}/os-quota-sets/{ADMIN[1]}?usage=True").get_json()["quota_set"]
    assert usage["backups"]["in_use"] == 1


def test_import_rejects_foreign_services_and_garbage(admin):
    body = {"backup-record": {"backup_service": "other.Driver", "backup_url": "eyJ9"}}
    assert admin.post(f"{V3}/backups/import_record", body).status_code == 400
    body["backup-record"]["backup_service"] = "cinder.backup.drivers.swift.SwiftBackupDriver"
    resp = admin.post(f"{V3}/backups/import_record", body)
    assert fault(resp)[2] == "Invalid input received: Can't parse backup record."


# -- replication, types, simulator content -----------------------------------

def _replicated_type(admin) -> str:
    resp = admin.post(f"{V3}/types", {"volume_type": {
        "name": "replicated", "extra_specs": {"replication_enabled": "<is> True"}}})
    check(volume_types.create_volume_type, resp)
    return resp.get_json()["volume_type"]["name"]


def test_volume_types_match_schemas_and_extra_specs_are_admin_only(admin, demo):
    _replicated_type(admin)
    check(volume_types.list_volume_types, demo.get(f"{V3}/types"))
    listed = demo.get(f"{V3}/types").get_json()["volume_types"]
    assert {t["name"] for t in listed} == {"__DEFAULT__", "replicated"}
    assert all("extra_specs" not in t for t in listed)
    type_id = next(t["id"] for t in listed if t["name"] == "replicated")
    check(volume_types.show_volume_type, admin.get(f"{V3}/types/{type_id}"))
    assert demo.post(f"{V3}/types", {"volume_type": {"name": "x"}}).status_code == 403
    assert "volumes_replicated" in demo.get(f"{V3}/os-quota-sets/{demo.project_id}").get_json()[
        "quota_set"]


def test_replicated_type_gives_enabled_replication_status(admin, demo):
    _replicated_type(admin)
    plain = new_volume(demo)
    replicated = new_volume(demo, volume_type="replicated")
    assert plain["replication_status"] == "disabled"
    assert replicated["replication_status"] == "enabled"
    assert replicated["volume_type"] == "replicated"


def test_promote_and_reenable_a_replicated_volume(admin, demo):
    _replicated_type(admin)
    volume = new_volume(demo, volume_type="replicated")
    action = f"{V3}/volumes/{volume['id']}/action"
    assert demo.post(action, {"os-promote-replica": None}).status_code == 403
    assert admin.post(action, {"os-promote-replica": None}).status_code == 202
    assert demo.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"][
        "replication_status"] == "failed-over"
    assert admin.post(action, {"os-reenable-replica": None}).status_code == 202
    assert demo.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"][
        "replication_status"] == "enabled"
    plain = new_volume(demo)
    resp = admin.post(f"{V3}/volumes/{plain['id']}/action", {"os-promote-replica": None})
    assert resp.status_code == 400


def test_failover_host_fails_over_every_replicated_volume_and_back(admin, demo):
    _replicated_type(admin)
    volume = new_volume(demo, volume_type="replicated")
    plain = new_volume(demo)
    body = {"host": "regionsim@lvmdriver-1", "backend_id": "secondary"}
    assert demo.post(f"{V3}/os-services/failover_host", body).status_code == 403
    assert admin.post(f"{V3}/os-services/failover_host", body).status_code == 202
    status = {v["id"]: v["replication_status"]
              for v in demo.get(f"{V3}/volumes/detail").get_json()["volumes"]}
    assert status == {volume["id"]: "failed-over", plain["id"]: "disabled"}
    services = admin.get(f"{V3}/os-services").get_json()["services"]
    (backend,) = [s for s in services if s["binary"] == "cinder-volume"]
    assert backend["active_backend_id"] == "secondary"
    admin.post(f"{V3}/os-services/failover_host", {"host": "regionsim@lvmdriver-1",
                                                   "backend_id": "default"})
    assert demo.get(f"{V3}/volumes/{volume['id']}").get_json()["volume"][
        "replication_status"] == "enabled"


def test_content_routes_are_admin_only(admin, demo):
    volume = new_volume(demo)
    assert demo.get(f"/volume/_sim/volumes/{volume['id']}/content").status_code == 403
    empty = admin.get(f"/volume/_sim/volumes/{volume['id']}/content").get_json()
    assert empty == {"digest": hashlib.sha256(b"").hexdigest(), "size": 0}
    assert admin.put(f"/volume/_sim/volumes/{volume['id']}/content",
                     {"data": "not base64!"}).status_code == 400
