"""Backups of the simulated Cinder, and their export to another region.

A backup records the content of its volume (or snapshot) when it was taken;
an incremental one needs an earlier backup of the same volume, as Cinder
requires. ``export_record`` gives Cinder's ``{backup_service, backup_url}``
where ``backup_url`` is a self-contained record: base64 of JSON holding the
backup's fields, its content digest and size. ``import_record`` in any region
of the simulator recreates the backup (same id, importer's project) so it can
be restored there: the data "lives in the backup store" as it would in a
Swift or Ceph backup repository shared between regions.

Like Cinder's chunked drivers, an incremental backup writes only the blocks that
changed since its parent (see ``content``); how many bytes a backup wrote is
shown by the simulator-only ``GET /volume/_sim/backups/{id}``.
"""

from __future__ import annotations

import base64
import binascii
import json

from regionsim.services.cinder import content, quota
from regionsim.services.cinder.common import (
    AZ,
    at_least,
    bad_request,
    body_object,
    iso,
    listed,
    now,
    parse_int,
    require_admin,
    route,
    state,
    to_bool,
    visible,
)
from regionsim.services.cinder.views import backup_summary, backup_view
from regionsim.services.cinder.volumes import find_volume, parse_metadata, parse_text
from regionsim.web import caller, json_response

BACKUP_SERVICE = "cinder.backup.drivers.swift.SwiftBackupDriver"
RECORD_FORMAT = "regionsim-backup-record/1"
_RECORD_FIELDS = ("id", "name", "description", "size", "volume_id", "snapshot_id",
                  "parent_id", "container", "object_count", "metadata", "content_digest",
                  "content_size", "bootable", "image_metadata", "stored_bytes")


def find_backup(backup_id: str) -> dict:
    return visible(state().backups.get(backup_id), "Backup", backup_id)


def _add(cinder, backup: dict) -> None:
    cinder.backups[backup["id"]] = backup
    cinder.backups_by_project.setdefault(backup["project_id"], {})[backup["id"]] = backup
    parent = cinder.backups.get(backup["parent_id"] or "")
    if parent is not None:
        parent["children"].add(backup["id"])


def _latest_of_volume(cinder, volume_id: str, project_id: str) -> dict | None:
    candidates = [b for b in cinder.backups_by_project.get(project_id, {}).values()
                  if b["volume_id"] == volume_id and b["status"] == "available"]
    return max(candidates, key=lambda b: (b["data_timestamp"], b["created_at"]), default=None)


@route("/backups", methods=("POST",))
def create_backup():
    spec = body_object("backup")
    who = caller()
    cinder = state()
    incremental = to_bool("incremental", spec.get("incremental"))
    force = to_bool("force", spec.get("force"))
    with cinder.lock:
        volume = find_volume(str(spec.get("volume_id")))
        if volume["status"] not in ("available", "in-use"):
            raise bad_request(f'Invalid volume: Volume to be backed up must be available or '
                              f'in-use, but the current status is "{volume["status"]}".')
        if volume["status"] == "in-use" and not force:
            raise bad_request("Invalid volume: Backing up an in-use volume must use the force "
                              "flag.")
        source = volume
        if spec.get("snapshot_id"):
            source = visible(cinder.snapshots.get(spec["snapshot_id"]), "Snapshot",
                             spec["snapshot_id"])
            if source["volume_id"] != volume["id"]:
                raise bad_request("Invalid snapshot: Snapshot does not belong to the volume.")
        parent = None
        if incremental:
            parent = _latest_of_volume(cinder, volume["id"], volume["project_id"])
            if parent is None:
                raise bad_request("Invalid backup: No backups available to do an incremental "
                                  "backup.")
        cinder.reserve(volume["project_id"], quota.backup_deltas(volume["size"]), "backups",
                       volume["size"])
        created = now()
        backup = {
            "id": cinder.region.new_id(), "project_id": volume["project_id"],
            "user_id": who.user_id, "volume_id": volume["id"],
            "snapshot_id": spec.get("snapshot_id"),
            "name": parse_text(spec, "name"), "description": parse_text(spec, "description"),
            "size": volume["size"], "status": "available",
            "container": spec.get("container") or "volumebackups",
            "object_count": max(1, volume["size"]), "created_at": created,
            "updated_at": created, "data_timestamp": created,
            "availability_zone": (spec.get("availability_zone") if at_least(51) else None) or AZ,
            "metadata": parse_metadata(spec.get("metadata")) if at_least(43) else {},
            "parent_id": parent["id"] if parent else None, "children": set(),
            "content_digest": source["content_digest"], "content_size": source["content_size"],
            "bootable": volume["bootable"], "image_metadata": volume["image_metadata"],
            "stored_bytes": content.changed_bytes(
                (source["content_digest"], source["content_size"]),
                (parent["content_digest"], parent["content_size"]) if parent else None),
        }
        _add(cinder, backup)
        return json_response({"backup": backup_summary(backup)}, 202)


def _listed() -> list[dict]:
    cinder = state()
    return listed(cinder.backups_by_project, cinder.backups, "volume_id", "name")


@route("/backups")
def list_backups():
    with state().lock:
        return json_response({"backups": [backup_summary(b) for b in _listed()]})


@route("/backups/detail")
def list_backups_detail():
    cinder = state()
    with cinder.lock:
        return json_response({"backups": [backup_view(cinder, b) for b in _listed()]})


@route("/backups/<backup_id>")
def show_backup(backup_id: str):
    cinder = state()
    with cinder.lock:
        return json_response({"backup": backup_view(cinder, find_backup(backup_id))})


@route("/backups/<backup_id>", methods=("DELETE",))
def delete_backup(backup_id: str):
    cinder = state()
    with cinder.lock:
        backup = find_backup(backup_id)
        if backup["status"] not in ("available", "error"):
            raise bad_request("Invalid backup: Backup status must be available or error")
        if backup["children"]:
            raise bad_request("Invalid backup: Incremental backups exist for this backup.")
        cinder.backups.pop(backup_id)
        cinder.backups_by_project.get(backup["project_id"], {}).pop(backup_id, None)
        parent = cinder.backups.get(backup["parent_id"] or "")
        if parent is not None:
            parent["children"].discard(backup_id)
        cinder.quotas.remove_usage(backup["project_id"], quota.backup_deltas(backup["size"]))
    return json_response(None, 202)


@route("/backups/<backup_id>/restore", methods=("POST",))
def restore_backup(backup_id: str):
    spec = body_object("restore")
    who = caller()
    cinder = state()
    with cinder.lock:
        backup = find_backup(backup_id)
        if backup["status"] != "available":
            raise bad_request("Invalid backup: Backup status must be available")
        if spec.get("volume_id"):
            volume = find_volume(spec["volume_id"])
            if volume["status"] != "available":
                raise bad_request("Invalid volume: Volume to be restored to must be available")
            if volume["size"] < backup["size"]:
                raise bad_request(f"Invalid volume: volume size {volume['size']} is too small "
                                  f"to restore backup of size {backup['size']}.")
        else:
            name = parse_text(spec, "name") or f"restore_backup_{backup_id}"
            volume = cinder.create_volume(who.project_id, who.user_id, backup["size"],
                                          name=name,
                                          description=parse_text(spec, "description"))
        volume["content_digest"] = backup["content_digest"]
        volume["content_size"] = backup["content_size"]
        volume["bootable"] = backup["bootable"]
        volume["image_metadata"] = backup["image_metadata"]
        volume["updated_at"] = now()
        cinder.replicate(volume)
        return json_response({"restore": {"backup_id": backup_id, "volume_id": volume["id"],
                                          "volume_name": volume["name"]}}, 202)


def encode_record(backup: dict, region_name: str) -> str:
    """The ``backup_url`` of an exported backup: base64 of a JSON record."""
    record = {key: backup[key] for key in _RECORD_FIELDS}
    record.update(format=RECORD_FORMAT, source_region=region_name,
                  created_at=iso(backup["created_at"]),
                  data_timestamp=iso(backup["data_timestamp"]))
    return base64.b64encode(json.dumps(record, sort_keys=True).encode()).decode()


def decode_record(url: str) -> dict:
    try:
        record = json.loads(base64.b64decode(url.encode(), validate=True))
    except (binascii.Error, ValueError, TypeError, AttributeError):
        record = None
    if not isinstance(record, dict) or record.get("format") != RECORD_FORMAT or \
            not all(key in record for key in _RECORD_FIELDS):
        raise bad_request("Invalid input received: Can't parse backup record.")
    return record


@route("/backups/<backup_id>/export_record")
def export_record(backup_id: str):
    require_admin("backup:export-import")
    cinder = state()
    with cinder.lock:
        backup = find_backup(backup_id)
        if backup["status"] != "available":
            raise bad_request("Invalid backup: Backup status must be available and not "
                              "restoring.")
        url = encode_record(backup, cinder.region.name)
    return json_response({"backup-record": {"backup_service": BACKUP_SERVICE,
                                            "backup_url": url}})


@route("/backups/import_record", methods=("POST",))
def import_record():
    require_admin("backup:backup-import")
    spec = body_object("backup-record")
    service, url = spec.get("backup_service"), spec.get("backup_url")
    if not isinstance(service, str) or not isinstance(url, str):
        raise bad_request("Invalid input received: Incorrect request body format.")
    if service != BACKUP_SERVICE:
        raise bad_request(f"Invalid input received: Import record failed, cannot find backup "
                          f"service to perform the import. Request service {service}.")
    record = decode_record(url)
    who = caller()
    cinder = state()
    with cinder.lock:
        if record["id"] in cinder.backups:
            raise bad_request("Invalid backup: Backup already exists in database.")
        size = parse_int("size", record["size"], minimum=0)
        created = now()
        backup = {key: record[key] for key in _RECORD_FIELDS}
        backup.update({"project_id": who.project_id, "user_id": who.user_id, "size": size,
                       "status": "available", "created_at": created, "updated_at": created,
                       "data_timestamp": created, "availability_zone": AZ,
                       "metadata": dict(record["metadata"] or {}), "children": set()})
        # Cinder does not reserve quota on import; the backup still counts as usage.
        cinder.quotas.add_usage(who.project_id, quota.backup_deltas(size))
        _add(cinder, backup)
        return json_response({"backup": backup_summary(backup)}, 201)
