"""``block_device_mapping_v2`` of server create: validate first, then build.

Validation runs before anything is created so a bad mapping is a clean 400.
Building asks the region's Cinder for new volumes (from an image, a snapshot
or blank) and attaches every mapped volume; a Cinder refusal at that point
(over quota) fails the build and leaves the server in ERROR, as on Nova where
volumes are made by the compute host after the API answered.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from regionsim.services.cinder.common import CinderError
from regionsim.services.nova.common import bad_request, parse_int
from regionsim.web import caller

_SOURCES = ("image", "volume", "snapshot", "blank")


@dataclass
class Plan:
    """The validated mappings: the root one (if volume-backed) and all to attach."""

    boot_volume: dict | None = None
    entries: list[dict] = field(default_factory=list)


def _entry(raw) -> dict:
    if not isinstance(raw, dict):
        raise bad_request(f"Invalid input for field/attribute block_device_mapping_v2. "
                          f"Value: {raw}.")
    source = raw.get("source_type")
    destination = raw.get("destination_type", "volume" if source != "image" else "local")
    if source not in _SOURCES or destination not in ("volume", "local"):
        raise bad_request("Block Device Mapping is Invalid: Invalid source_type field.")
    boot_index = raw.get("boot_index")
    boot_index = None if boot_index in (None, "none", "None") else parse_int(
        "boot_index", boot_index)
    size = raw.get("volume_size")
    return {"source": source, "destination": destination, "uuid": raw.get("uuid"),
            "boot_index": boot_index, "size": None if size is None else parse_int(
                "volume_size", size, minimum=1),
            "delete_on_termination": bool(raw.get("delete_on_termination", False)),
            "device_name": raw.get("device_name"), "tag": raw.get("tag")}


def _check_volume(cinder, volume_id: str, project_id: str) -> None:
    volume = cinder.get_volume(volume_id) if volume_id else None
    if volume is None or (volume["project_id"] != project_id and not caller().is_admin):
        raise bad_request(f"Volume {volume_id} could not be found.")
    if volume["status"] != "available":
        raise bad_request(f"Invalid volume: volume '{volume_id}' status must be 'available'. "
                          f"Currently in '{volume['status']}'")


def plan_block_devices(nova, spec: dict, project_id: str) -> Plan:
    """Validate the request's mappings without creating anything."""
    raw = spec.get("block_device_mapping_v2") or []
    if not isinstance(raw, list):
        raise bad_request("Invalid input for field/attribute block_device_mapping_v2.")
    plan = Plan()
    cinder = nova.cinder()
    for entry in (_entry(item) for item in raw):
        if entry["destination"] == "local":
            if entry["source"] == "image" and entry["boot_index"] == 0:
                spec.setdefault("imageRef", entry["uuid"])
            continue
        if entry["source"] == "volume":
            _check_volume(cinder, entry["uuid"], project_id)
        elif entry["source"] == "snapshot":
            snapshot = cinder.get_snapshot(entry["uuid"] or "")
            if snapshot is None or (snapshot["project_id"] != project_id
                                    and not caller().is_admin):
                raise bad_request(f"Snapshot {entry['uuid']} could not be found.")
        else:
            if not entry["size"]:
                raise bad_request("Images with destination_type 'volume' need to have a "
                                  "non-zero size specified" if entry["source"] == "image"
                                  else "Blank volumes need a non-zero volume_size")
            if entry["source"] == "image":
                glance = nova.glance()
                image = glance.get_image(entry["uuid"] or "")
                if image is None or not glance.image_visible_to(image, project_id,
                                                                caller().is_admin):
                    raise bad_request(f"Image {entry['uuid']} could not be found.")
        if entry["boot_index"] == 0:
            plan.boot_volume = entry
        plan.entries.append(entry)
    plan.entries.sort(key=lambda e: (e["boot_index"] is None or e["boot_index"] < 0,
                                     e["boot_index"] or 0))
    return plan


def fail_build(server: dict, reason: str) -> None:
    """Put a server in ERROR the way a failed Nova build leaves it."""
    server.update(status="ERROR", vm_state="error", power_state=0, launched_at=None)
    server["fault"] = {"code": 500, "created": server["created"].strftime(
        "%Y-%m-%dT%H:%M:%SZ"), "message": f"Build of instance {server['id']} aborted: "
        f"{reason}"}


def next_device(server: dict) -> str:
    """The next free ``/dev/vdX``; ``vda`` is the root disk of an image-backed server."""
    taken = {v["device"] for v in server["volumes"]}
    if server["image_id"]:
        taken.add("/dev/vda")
    for letter in "abcdefghijklmnopqrstuvwxyz":
        device = f"/dev/vd{letter}"
        if device not in taken:
            return device
    raise bad_request("No free disk device names for prefix 'vd'")


def attach_volume(cinder, server: dict, volume_id: str, *, delete_on_termination: bool,
                  boot_index: int | None, tag: str | None = None,
                  device: str | None = None) -> dict:
    """Attach a volume in Cinder and record the mapping on the server."""
    device = device or next_device(server)
    attachment_id = cinder.attach(volume_id, server["id"], device)
    mapping = {"volume_id": volume_id, "device": device, "boot_index": boot_index,
               "delete_on_termination": delete_on_termination, "tag": tag,
               "attachment_id": attachment_id or str(uuid.uuid4()),
               "bdm_uuid": str(uuid.uuid4())}
    server["volumes"].append(mapping)
    return mapping


def realize_block_devices(nova, server: dict, plan: Plan) -> None:
    """Create and attach the planned volumes; a Cinder refusal fails the build."""
    cinder = nova.cinder()
    for entry in plan.entries:
        try:
            if entry["source"] == "volume":
                volume_id = entry["uuid"]
            else:
                volume = cinder.create_volume_for_boot(
                    server["project_id"], entry["size"],
                    entry["uuid"] if entry["source"] == "image" else None,
                    snapshot_id=entry["uuid"] if entry["source"] == "snapshot" else None,
                    user_id=server["user_id"])
                volume_id = volume["id"]
        except CinderError as exc:
            fail_build(server, f"Volume could not be created: {exc.message}")
            return
        device = "/dev/vda" if entry["boot_index"] == 0 else None
        attach_volume(cinder, server, volume_id, boot_index=entry["boot_index"],
                      delete_on_termination=entry["delete_on_termination"],
                      tag=entry["tag"], device=device)
