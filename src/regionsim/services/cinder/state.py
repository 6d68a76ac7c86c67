"""The per-region state of the simulated Cinder and what Nova may ask of it.

Every volume, snapshot and backup carries a *content* (``content_digest``,
sha256 hex, and ``content_size`` in bytes) so tests can prove that a volume
made from a snapshot, an image or a backup holds its source's data. All
methods expect the region lock to be held (routes take it; Nova calls in while
holding it).
"""

from __future__ import annotations

import hashlib
import threading

from regionsim.region import Region
from regionsim.services.cinder import content, quota, replicas
from regionsim.services.cinder.common import (
    AZ,
    BACKEND_HOST,
    CinderError,
    bad_request,
    not_found,
    now,
    over_limit,
)

EMPTY_DIGEST = hashlib.sha256(b"").hexdigest()
DEFAULT_TYPE = "__DEFAULT__"
_DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")


def replicated(volume_type: dict) -> bool:
    """A type asks for replication with the extra spec ``replication_enabled='<is> True'``."""
    spec = str(volume_type["extra_specs"].get("replication_enabled", "")).lower()
    return spec.replace("<is>", "").strip() == "true"


class State:
    """Volumes, snapshots, backups, volume types and quotas of one region."""

    def __init__(self, region: Region):
        self.region = region
        self.lock = region.lock
        self.quotas = quota.QuotaStore()
        default = {"id": region.new_id(), "name": DEFAULT_TYPE,
                   "description": "Default Volume Type", "is_public": True,
                   "extra_specs": {}, "qos_specs_id": None, "projects": set()}
        self.types: dict[str, dict] = {default["id"]: default}
        self.volumes: dict[str, dict] = {}
        self.volumes_by_project: dict[str, dict[str, dict]] = {}
        self.snapshots: dict[str, dict] = {}
        self.snapshots_by_project: dict[str, dict[str, dict]] = {}
        self.backups: dict[str, dict] = {}
        self.backups_by_project: dict[str, dict[str, dict]] = {}
        self.active_backend_id: str | None = None
        # Replica LUNs of other regions' volumes on this region's backend, by name.
        self.replicas: dict[str, dict] = {}
        self.replica_lock = threading.Lock()
        self.transfers: dict[str, dict] = {}

    # -- volume types and quota ------------------------------------------------

    def type_named(self, name_or_id: str | None) -> dict | None:
        """A volume type by id or name (``None``: the default type)."""
        if name_or_id is None:
            name_or_id = DEFAULT_TYPE
        if name_or_id in self.types:
            return self.types[name_or_id]
        return next((t for t in self.types.values() if t["name"] == name_or_id), None)

    def quota_keys(self) -> tuple[str, ...]:
        """Every quota resource of this region, per-type ones included."""
        return quota.all_keys(t["name"] for t in self.types.values())

    def limits(self, project_id: str) -> dict[str, int]:
        """Every limit in force for a project."""
        return self.quotas.limits(project_id, self.quota_keys())

    def reserve(self, project_id: str, deltas: dict[str, int], resource: str,
                size: int) -> None:
        """Count ``deltas`` against the project, or raise Cinder's 413."""
        limits = self.limits(project_id)
        usage = self.quotas.in_use(project_id)
        overs = quota.over_limits(limits, usage, deltas)
        if overs:
            raise over_limit(quota.over_quota_message(overs[0], resource, limits, usage,
                                                      size))
        self.quotas.add_usage(project_id, deltas)

    def absolute_limits(self, project_id: str) -> dict[str, int]:
        """Cinder's ``GET /limits`` absolute section for a project."""
        limits = self.limits(project_id)
        used = self.quotas.in_use(project_id)
        return {"maxTotalVolumes": limits["volumes"],
                "maxTotalSnapshots": limits["snapshots"],
                "maxTotalVolumeGigabytes": limits["gigabytes"],
                "maxTotalBackups": limits["backups"],
                "maxTotalBackupGigabytes": limits["backup_gigabytes"],
                "totalVolumesUsed": used.get("volumes", 0),
                "totalGigabytesUsed": used.get("gigabytes", 0),
                "totalSnapshotsUsed": used.get("snapshots", 0),
                "totalBackupsUsed": used.get("backups", 0),
                "totalBackupGigabytesUsed": used.get("backup_gigabytes", 0)}

    # -- volumes ---------------------------------------------------------------

    def create_volume(self, project_id: str, user_id: str, size: int, *,
                      type_name: str | None = None, name: str | None = None,
                      description: str | None = None, metadata: dict | None = None,
                      content: tuple[str, int] = (EMPTY_DIGEST, 0),
                      bootable: bool = False, source: dict | None = None,
                      az: str | None = None, replica_of: str | None = None) -> dict:
        """Reserve quota and record an ``available`` volume.

        ``source`` may hold ``snapshot_id``, ``source_volid``, ``image_id`` and
        ``volume_image_metadata`` of what the volume was made from;
        ``replica_of`` names the replica LUN a managed volume is (see ``replicas``).
        """
        volume_type = self.type_named(type_name)
        if volume_type is None:
            raise not_found(f"Volume type with name {type_name} could not be found.")
        per_volume = self.limits(project_id)["per_volume_gigabytes"]
        if per_volume != quota.UNLIMITED and size > per_volume:
            raise over_limit(f"Requested volume size {size}G is larger than maximum allowed "
                             f"limit {per_volume}G.")
        self.reserve(project_id, quota.volume_deltas(size, volume_type["name"]), "volumes",
                     size)
        created = now()
        source = source or {}
        volume = {
            "id": self.region.new_id(), "project_id": project_id, "user_id": user_id,
            "name": name, "description": description, "size": size, "status": "available",
            "type_id": volume_type["id"], "type_name": volume_type["name"],
            "metadata": dict(metadata or {}), "bootable": bootable,
            "snapshot_id": source.get("snapshot_id"), "source_volid": source.get("source_volid"),
            "image_metadata": source.get("volume_image_metadata"),
            "created_at": created, "updated_at": None, "attachments": [],
            "multiattach": False, "availability_zone": az or AZ,
            "replication_status": "enabled" if replicated(volume_type) else "disabled",
            "content_digest": content[0], "content_size": content[1],
            "snapshot_ids": set(), "backup_ids": set(), "host": f"{BACKEND_HOST}#lvmdriver-1",
            "replica_of": replica_of,
        }
        if replica_of is not None:
            volume["replication_status"] = "inactive"
        self.volumes[volume["id"]] = volume
        self.volumes_by_project.setdefault(project_id, {})[volume["id"]] = volume
        self.replicate(volume)
        return volume

    def delete_volume(self, volume: dict, cascade: bool = False) -> None:
        """Delete a detached volume (and, with ``cascade``, its snapshots); frees quota."""
        if volume["status"] not in _DELETABLE or volume["attachments"] or (
                volume["snapshot_ids"] and not cascade):
            raise bad_request(
                "Invalid volume: Volume status must be available or error or error_restoring "
                "or error_extending or error_managing and must not be migrating, attached, "
                "belong to a group, have snapshots, awaiting a transfer, or be disassociated "
                "from snapshots after volume transfer.")
        for snapshot_id in list(volume["snapshot_ids"]):
            self.delete_snapshot(self.snapshots[snapshot_id])
        replicas.retract(self, volume)
        self.volumes.pop(volume["id"], None)
        self.volumes_by_project.get(volume["project_id"], {}).pop(volume["id"], None)
        self.quotas.remove_usage(volume["project_id"],
                                 quota.volume_deltas(volume["size"], volume["type_name"]))

    def extend_volume(self, volume: dict, new_size: int) -> None:
        """Grow a volume, counting the new gigabytes against its project."""
        if new_size <= volume["size"]:
            raise bad_request(f"New size for extend must be greater than current size. "
                              f"(current: {volume['size']}, extended: {new_size}).")
        grow = new_size - volume["size"]
        self.reserve(volume["project_id"], {"gigabytes": grow,
                                            f"gigabytes_{volume['type_name']}": grow},
                     "volumes", grow)
        volume["size"] = new_size
        volume["updated_at"] = now()
        self.replicate(volume)

    def set_content(self, volume: dict, data: bytes) -> None:
        """Make ``data`` the bytes the volume holds (the simulator's content route)."""
        volume["content_digest"] = content.remember(data)
        volume["content_size"] = len(data)
        self.replicate(volume)

    def replicate(self, volume: dict) -> None:
        """Copy a replicating volume's current data to the other regions' backends."""
        replicas.push(self, volume)

    # -- snapshots -------------------------------------------------------------

    def create_snapshot(self, volume: dict, user_id: str, *, name: str | None = None,
                        description: str | None = None, metadata: dict | None = None,
                        force: bool = False) -> dict:
        """Snapshot a volume (``force`` for an in-use one); counts snapshots and gigabytes."""
        if volume["status"] not in ("available", "in-use") or (
                volume["status"] == "in-use" and not force):
            raise bad_request(f"Invalid volume: Volume {volume['id']} status must be "
                              f"available, but current status is: {volume['status']}.")
        self.reserve(volume["project_id"],
                     quota.snapshot_deltas(volume["size"], volume["type_name"]),
                     "snapshots", volume["size"])
        snapshot = {
            "id": self.region.new_id(), "project_id": volume["project_id"],
            "user_id": user_id, "volume_id": volume["id"], "size": volume["size"],
            "name": name, "description": description, "metadata": dict(metadata or {}),
            "status": "available", "created_at": now(), "updated_at": None,
            "type_name": volume["type_name"], "content_digest": volume["content_digest"],
            "content_size": volume["content_size"],
        }
        self.snapshots[snapshot["id"]] = snapshot
        self.snapshots_by_project.setdefault(snapshot["project_id"], {})[
            snapshot["id"]] = snapshot
        volume["snapshot_ids"].add(snapshot["id"])
        return snapshot

    def delete_snapshot(self, snapshot: dict) -> None:
        """Forget a snapshot and give its quota back."""
        self.snapshots.pop(snapshot["id"], None)
        self.snapshots_by_project.get(snapshot["project_id"], {}).pop(snapshot["id"], None)
        volume = self.volumes.get(snapshot["volume_id"])
        if volume is not None:
            volume["snapshot_ids"].discard(snapshot["id"])
        self.quotas.remove_usage(snapshot["project_id"],
                                 quota.snapshot_deltas(snapshot["size"],
                                                       snapshot["type_name"]))

    # -- attachments -----------------------------------------------------------

    def attach(self, volume_id: str, server_id: str, device: str,
               host_name: str | None = None) -> str:
        """Mark a volume ``in-use`` by a server; returns the attachment id (Nova contract)."""
        volume = self.volumes[volume_id]
        if volume["status"] != "available":
            raise bad_request(f"Invalid volume: Volume {volume_id} status must be available "
                              f"or downloading to reserve, but the current status is "
                              f"{volume['status']}.")
        attachment_id = self.region.new_id()
        volume["attachments"].append({
            "id": volume_id, "attachment_id": attachment_id, "volume_id": volume_id,
            "server_id": server_id, "host_name": host_name, "device": device,
            "attached_at": now()})
        volume["status"] = "in-use"
        volume["updated_at"] = now()
        return attachment_id

    def detach(self, volume_id: str, server_id: str | None = None,
               attachment_id: str | None = None) -> None:
        """Drop a server's attachment (Nova contract); the volume is ``available`` again."""
        volume = self.volumes.get(volume_id)
        if volume is None:
            return
        volume["attachments"] = [
            a for a in volume["attachments"]
            if not (a["server_id"] == server_id or a["attachment_id"] == attachment_id)]
        if not volume["attachments"] and volume["status"] == "in-use":
            volume["status"] = "available"
        volume["updated_at"] = now()

    # -- contract with Nova ----------------------------------------------------

    def get_volume(self, volume_id: str) -> dict | None:
        """The internal record of a volume (contract with Nova)."""
        return self.volumes.get(volume_id)

    def get_snapshot(self, snapshot_id: str) -> dict | None:
        """The internal record of a snapshot (Nova's snapshot block devices)."""
        return self.snapshots.get(snapshot_id)

    def create_volume_for_boot(self, project_id: str, size: int, image_id: str | None,
                               *, snapshot_id: str | None = None,
                               user_id: str = "") -> dict:
        """A volume Nova's ``block_device_mapping_v2`` asks for (image, snapshot or blank).

        :raises CinderError: over quota, or the source is unusable.
        """
        if snapshot_id:
            snapshot = self.snapshots[snapshot_id]
            return self.volume_from_snapshot(project_id, user_id, snapshot, size, {})
        if image_id:
            # Nova checked the image is visible to the server's caller already.
            return self.volume_from_image(project_id, user_id, image_id, size, {},
                                          is_admin=True)
        return self.create_volume(project_id, user_id, size)

    def volume_from_snapshot(self, project_id: str, user_id: str, snapshot: dict,
                             size: int | None, options: dict) -> dict:
        """A volume holding a snapshot's content, at least the snapshot's size."""
        if snapshot["status"] != "available":
            raise bad_request("Invalid snapshot: Originating snapshot status must be one "
                              "of 'available' values")
        size = snapshot["size"] if size is None else size
        if size < snapshot["size"]:
            raise bad_request(f"Invalid input received: Volume size '{size}'GB cannot be "
                              f"smaller than the snapshot size {snapshot['size']}GB. They "
                              "must be >= original snapshot size.")
        source = self.volumes.get(snapshot["volume_id"]) or {}
        options.setdefault("type_name", snapshot["type_name"])
        return self.create_volume(project_id, user_id, size,
                                  content=(snapshot["content_digest"], snapshot["content_size"]),
                                  bootable=source.get("bootable", False),
                                  source={"snapshot_id": snapshot["id"],
                                          "volume_image_metadata": source.get(
                                              "image_metadata")}, **options)

    def volume_from_image(self, project_id: str, user_id: str, image_id: str, size: int,
                          options: dict, is_admin: bool = False) -> dict:
        """A bootable volume holding an image's bytes, with its image metadata."""
        glance = self.region.service("glance")
        image = glance.get_image(image_id)
        if image is None or image["status"] != "active" or \
                not glance.image_visible_to(image, project_id, is_admin):
            raise bad_request("Invalid image identifier or unable to access requested image.")
        image_gb = -(-(image.get("size") or 0) // 2**30)
        if image_gb > size:
            raise bad_request(f"Invalid input received: Size of specified image {image_gb}GB "
                              f"is larger than volume size {size}GB.")
        if (image.get("min_disk") or 0) > size:
            raise bad_request(f"Invalid input received: Image minDisk size "
                              f"{image['min_disk']} is larger than the volume size {size}.")
        meta = {k: str(v) for k, v in (image.get("properties") or {}).items()}
        meta.update({"image_id": image_id, "image_name": image.get("name") or "",
                     "checksum": image.get("checksum") or "",
                     "container_format": image.get("container_format") or "",
                     "disk_format": image.get("disk_format") or "",
                     "min_disk": str(image.get("min_disk") or 0),
                     "min_ram": str(image.get("min_ram") or 0),
                     "size": str(image.get("size") or 0)})
        return self.create_volume(project_id, user_id, size, bootable=True,
                                  content=(glance.image_content_digest(image_id),
                                           image.get("size") or 0),
                                  source={"image_id": image_id, "volume_image_metadata": meta},
                                  **options)

    def delete_volume_for_server(self, volume_id: str) -> None:
        """Nova's ``delete_on_termination``: drop the volume and its snapshots."""
        volume = self.volumes.get(volume_id)
        if volume is not None and not volume["attachments"]:
            try:
                self.delete_volume(volume, cascade=True)
            except CinderError:
                volume["status"] = "error_deleting"

    def snapshot_for_image(self, volume_id: str, name: str, user_id: str) -> dict:
        """A forced snapshot of an attached volume for Nova's ``createImage``."""
        volume = self.volumes[volume_id]
        return self.create_snapshot(volume, user_id, name=name,
                                    description=volume["description"], force=True)
