"""How the simulated Cinder renders volumes, snapshots and backups per microversion.

As in Cinder, create and update answers use the base view; ``show`` and
``detail`` add the extension attributes (tenant, host, migration status, image
metadata, snapshot progress). Microversions add: 3.13 ``group_id``, 3.21
``provider_id`` (admin), 3.48 ``service_uuid``/``shared_targets``, 3.61
``cluster_name`` (admin), 3.63 ``volume_type_id``, 3.64 ``encryption_key_id``,
3.65 ``consumes_quota``; snapshots 3.14 ``group_snapshot_id``, 3.41
``user_id``; backups 3.18 project attribute (admin), 3.43 ``metadata``, 3.56
``user_id``, 3.64 ``encryption_key_id``.
"""

from __future__ import annotations

import uuid

from regionsim.services.cinder.common import at_least, iso, links
from regionsim.web import caller

SERVICE_UUID = str(uuid.uuid5(uuid.NAMESPACE_URL, "regionsim-cinder-volume"))


def _attachments(volume: dict) -> list[dict]:
    return [{**a, "attached_at": iso(a["attached_at"])} for a in volume["attachments"]]


def volume_view(volume: dict, extended: bool) -> dict:
    is_admin = caller().is_admin
    body = {
        "id": volume["id"], "status": volume["status"], "size": volume["size"],
        "availability_zone": volume["availability_zone"],
        "created_at": iso(volume["created_at"]), "updated_at": iso(volume["updated_at"]),
        "attachments": _attachments(volume), "name": volume["name"],
        "description": volume["description"], "volume_type": volume["type_name"],
        "snapshot_id": volume["snapshot_id"], "source_volid": volume["source_volid"],
        "metadata": dict(volume["metadata"]),
        "links": links("volumes", volume["id"], volume["project_id"]),
        "user_id": volume["user_id"], "bootable": str(volume["bootable"]).lower(),
        "encrypted": False, "replication_status": volume["replication_status"],
        "consistencygroup_id": None, "multiattach": volume["multiattach"],
    }
    if is_admin:
        body["migration_status"] = None
    if at_least(13):
        body["group_id"] = None
    if at_least(21) and is_admin:
        body["provider_id"] = None
    if at_least(48):
        body["service_uuid"] = SERVICE_UUID
        body["shared_targets"] = False
    if at_least(61) and is_admin:
        body["cluster_name"] = None
    if at_least(63):
        body["volume_type_id"] = volume["type_id"]
    if at_least(64):
        body["encryption_key_id"] = None
    if at_least(65):
        body["consumes_quota"] = True
    if extended:
        body["os-vol-tenant-attr:tenant_id"] = volume["project_id"]
        if is_admin:
            body["os-vol-host-attr:host"] = volume["host"]
            body["os-vol-mig-status-attr:migstat"] = None
            body["os-vol-mig-status-attr:name_id"] = None
        if volume["image_metadata"] is not None:
            body["volume_image_metadata"] = dict(volume["image_metadata"])
    return body


def volume_summary(volume: dict) -> dict:
    return {"id": volume["id"], "name": volume["name"],
            "links": links("volumes", volume["id"], volume["project_id"])}


def snapshot_view(snapshot: dict, extended: bool) -> dict:
    body = {"id": snapshot["id"], "created_at": iso(snapshot["created_at"]),
            "updated_at": iso(snapshot["updated_at"]), "name": snapshot["name"],
            "description": snapshot["description"], "volume_id": snapshot["volume_id"],
            "status": snapshot["status"], "size": snapshot["size"],
            "metadata": dict(snapshot["metadata"])}
    if at_least(14):
        body["group_snapshot_id"] = None
    if at_least(41):
        body["user_id"] = snapshot["user_id"]
    if at_least(65):
        body["consumes_quota"] = True
    if extended:
        body["os-extended-snapshot-attributes:progress"] = "100%"
        body["os-extended-snapshot-attributes:project_id"] = snapshot["project_id"]
    return body


def backup_summary(backup: dict) -> dict:
    return {"id": backup["id"], "name": backup["name"],
            "links": links("backups", backup["id"], backup["project_id"])}


def backup_view(state, backup: dict) -> dict:
    body = backup_summary(backup)
    body.update({
        "status": backup["status"], "size": backup["size"],
        "object_count": backup["object_count"],
        "availability_zone": backup["availability_zone"], "container": backup["container"],
        "created_at": iso(backup["created_at"]), "updated_at": iso(backup["updated_at"]),
        "description": backup["description"], "fail_reason": None,
        "volume_id": backup["volume_id"], "is_incremental": backup["parent_id"] is not None,
        "has_dependent_backups": bool(backup["children"]),
        "snapshot_id": backup["snapshot_id"], "data_timestamp": iso(backup["data_timestamp"]),
    })
    if at_least(18) and caller().is_admin:
        body["os-backup-project-attr:project_id"] = backup["project_id"]
    if at_least(43):
        body["metadata"] = dict(backup["metadata"])
    if at_least(56):
        body["user_id"] = backup["user_id"]
    if at_least(64):
        body["encryption_key_id"] = None
    return body


def type_view(volume_type: dict) -> dict:
    return {"id": volume_type["id"], "name": volume_type["name"],
            "description": volume_type["description"],
            "is_public": volume_type["is_public"],
            "os-volume-type-access:is_public": volume_type["is_public"],
            "extra_specs": dict(volume_type["extra_specs"]),
            "qos_specs_id": volume_type["qos_specs_id"]}
