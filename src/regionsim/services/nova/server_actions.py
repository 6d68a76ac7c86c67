"""Server actions and ``os-volume_attachments`` of the simulated Nova.

``createImage`` follows Nova: an image-backed server gives a Glance snapshot
image; a volume-backed one gives a zero-size image whose
``block_device_mapping`` property (a JSON list, as Nova's Glance client
serialises it) names one Cinder snapshot per attached volume.
"""

from __future__ import annotations

import json

from flask import request

from regionsim.services.cinder.common import CinderError
from regionsim.services.nova.blockdev import attach_volume
from regionsim.services.nova.common import (
    API_PREFIX,
    at_least,
    bad_request,
    body_object,
    conflict,
    forbidden,
    not_found,
    now,
    route,
    state,
)
from regionsim.services.nova.servers import find_server
from regionsim.services.nova.views import attachment
from regionsim.web import caller, json_body, json_response


def _require_vm_state(server: dict, action: str, *allowed: str) -> None:
    if server["vm_state"] not in allowed:
        raise conflict(f"Cannot '{action}' instance {server['id']} while it is in vm_state "
                       f"{server['vm_state']}")


def _image_mapping(volume: dict, snapshot: dict) -> dict:
    """What ``BlockDeviceMapping.get_image_mapping()`` keeps of a snapshotted volume."""
    return {"boot_index": volume["boot_index"], "connection_info": None,
            "delete_on_termination": volume["delete_on_termination"],
            "destination_type": "volume", "device_name": volume["device"],
            "device_type": None, "disk_bus": None, "guest_format": None,
            "image_id": None, "no_device": None, "snapshot_id": snapshot["id"],
            "source_type": "snapshot", "tag": volume["tag"], "volume_id": None,
            "volume_size": snapshot["size"], "volume_type": None}


def _create_image(nova, server: dict, spec: dict) -> str:
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise bad_request(f"Invalid input for field/attribute name. Value: {name}.")
    metadata = spec.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise bad_request(f"Invalid input for field/attribute metadata. Value: {metadata}.")
    _require_vm_state(server, "createImage", "active", "stopped")
    who = caller()
    glance = nova.glance()
    properties = {"image_type": "snapshot", "instance_uuid": server["id"],
                  "user_id": who.user_id, "base_image_ref": server["image_id"]}
    if who.project_id != server["project_id"]:
        properties["instance_owner"] = server["project_id"]
    properties.update({k: str(v) for k, v in metadata.items()})
    base = glance.get_image(server["image_id"]) if server["image_id"] else None
    min_ram = (base or {}).get("min_ram") or 0
    if server["image_id"]:
        image = glance.create_snapshot_image(who.project_id, name, properties,
                                             server["flavor"]["disk"], min_ram)
        return image["id"]
    cinder = nova.cinder()
    volumes = [v for v in server["volumes"]]
    limits = cinder.absolute_limits(server["project_id"])
    if limits["maxTotalSnapshots"] != -1 and \
            limits["totalSnapshotsUsed"] + len(volumes) > limits["maxTotalSnapshots"]:
        raise forbidden("Quota exceeded for resources: snapshots")
    mapping = []
    for volume in volumes:
        try:
            snapshot = cinder.snapshot_for_image(volume["volume_id"], f"snapshot for {name}",
                                                 who.user_id)
        except CinderError as exc:
            raise forbidden(exc.message) from None
        mapping.append(_image_mapping(volume, snapshot))
    properties.pop("base_image_ref")
    properties.update({"root_device_name": server["root_device_name"], "bdm_v2": "True",
                       "block_device_mapping": json.dumps(mapping)})
    image = glance.create_snapshot_image(who.project_id, name, properties,
                                         server["flavor"]["disk"], min_ram)
    return image["id"]


def _power(server: dict, action: str, vm_state: str, status: str, power: int) -> None:
    server.update(vm_state=vm_state, status=status, power_state=power, updated=now())


@route("/servers/<server_id>/action", methods=("POST",))
def server_action(server_id: str):
    body = json_body()
    if not body or len(body) != 1:
        raise bad_request("There is no such action: None")
    action, spec = next(iter(body.items()))
    nova = state()
    with nova.lock:
        server = find_server(server_id)
        if action == "createImage":
            image_id = _create_image(nova, server, spec or {})
            if at_least(45):
                return json_response({"image_id": image_id}, 202)
            location = f"{request.host_url.rstrip('/')}{API_PREFIX}/images/{image_id}"
            return json_response(None, 202, {"Location": location})
        if action == "os-stop":
            _require_vm_state(server, "stop", "active", "error")
            _power(server, action, "stopped", "SHUTOFF", 4)
        elif action == "os-start":
            _require_vm_state(server, "start", "stopped")
            _power(server, action, "active", "ACTIVE", 1)
        elif action == "reboot":
            if not isinstance(spec, dict) or spec.get("type") not in ("HARD", "SOFT"):
                raise bad_request("Invalid input for field/attribute reboot.")
            _require_vm_state(server, "reboot", "active", "stopped", "error")
            _power(server, action, "active", "ACTIVE", 1)
        else:
            raise bad_request(f"There is no such action: {action}")
    return json_response(None, 202)


# -- os-volume_attachments --

@route("/servers/<server_id>/os-volume_attachments")
def list_volume_attachments(server_id: str):
    with state().lock:
        server = find_server(server_id)
        return json_response({"volumeAttachments": [attachment(server, v)
                                                    for v in server["volumes"]]})


def _mapping(server: dict, volume_id: str) -> dict:
    for volume in server["volumes"]:
        if volume["volume_id"] == volume_id:
            return volume
    raise not_found(f"No volume Block Device Mapping with id {volume_id}.")


@route("/servers/<server_id>/os-volume_attachments/<volume_id>")
def show_volume_attachment(server_id: str, volume_id: str):
    with state().lock:
        server = find_server(server_id)
        return json_response({"volumeAttachment": attachment(server,
                                                             _mapping(server, volume_id))})


@route("/servers/<server_id>/os-volume_attachments", methods=("POST",))
def attach_volume_route(server_id: str):
    spec = body_object("volumeAttachment")
    volume_id = spec.get("volumeId")
    if not isinstance(volume_id, str):
        raise bad_request(f"Invalid input for field/attribute volumeId. Value: {volume_id}.")
    nova = state()
    with nova.lock:
        server = find_server(server_id)
        _require_vm_state(server, "attach_volume", "active", "stopped")
        cinder = nova.cinder()
        volume = cinder.get_volume(volume_id)
        if volume is None or (volume["project_id"] != server["project_id"]
                              and not caller().is_admin):
            raise not_found(f"Volume {volume_id} could not be found.")
        if volume["status"] != "available":
            raise bad_request(f"Invalid volume: volume '{volume_id}' status must be "
                              f"'available'. Currently in '{volume['status']}'")
        delete = bool(spec.get("delete_on_termination", False)) if at_least(79) else False
        mapping = attach_volume(cinder, server, volume_id, delete_on_termination=delete,
                                boot_index=None, tag=spec.get("tag") if at_least(49) else None)
        return json_response({"volumeAttachment": attachment(server, mapping)})


@route("/servers/<server_id>/os-volume_attachments/<volume_id>", methods=("DELETE",))
def detach_volume_route(server_id: str, volume_id: str):
    nova = state()
    with nova.lock:
        server = find_server(server_id)
        mapping = _mapping(server, volume_id)
        if mapping["boot_index"] == 0:
            raise bad_request("Cannot detach a root device volume")
        nova.cinder().detach(volume_id, server["id"])
        server["volumes"].remove(mapping)
    return json_response(None, 202)
