"""``POST /volumes/{id}/action`` of the simulated Cinder.

Actions: ``os-attach``, ``os-detach``, ``os-extend``, ``os-set_bootable``,
``os-reset_status`` and ``os-force_delete`` (admin), and the per-volume
replication actions ``os-promote-replica`` / ``os-reenable-replica`` (admin;
see ``replication``).
"""

from __future__ import annotations

from regionsim.services.cinder import replication
from regionsim.services.cinder.common import (
    at_least,
    bad_request,
    parse_int,
    require_admin,
    route,
    state,
    to_bool,
)
from regionsim.services.cinder.volumes import find_volume
from regionsim.web import json_body, json_response

_ADMIN_RULE = "volume_extension:volume_admin_actions:{}"


def _attach(cinder, volume: dict, spec: dict):
    server_id = spec.get("instance_uuid")
    host_name = spec.get("host_name")
    if not server_id and not host_name:
        raise bad_request("Invalid request to attach volume to an invalid target")
    mountpoint = spec.get("mountpoint")
    if not mountpoint:
        raise bad_request("Must specify 'mountpoint'")
    cinder.attach(volume["id"], server_id, mountpoint, host_name=host_name)


def _detach(cinder, volume: dict, spec: dict):
    attachment_id = (spec or {}).get("attachment_id")
    if attachment_id is None and len(volume["attachments"]) > 1:
        raise bad_request("Invalid volume: Volume has multiple attachments; attachment_id "
                          "is required")
    if attachment_id is None and volume["attachments"]:
        attachment_id = volume["attachments"][0]["attachment_id"]
    if not any(a["attachment_id"] == attachment_id for a in volume["attachments"]):
        raise bad_request(f"Invalid volume: Volume {volume['id']} status must be in-use to "
                          f"detach, but the current status is {volume['status']}.")
    cinder.detach(volume["id"], attachment_id=attachment_id)


def _extend(cinder, volume: dict, spec: dict):
    new_size = parse_int("new_size", (spec or {}).get("new_size"), minimum=1)
    allowed = ("available", "in-use") if at_least(42) else ("available",)
    if volume["status"] not in allowed:
        raise bad_request(f"Invalid volume: Volume {volume['id']} status must be "
                          f"{' or '.join(allowed)} to extend, currently {volume['status']}.")
    cinder.extend_volume(volume, new_size)


def _reset_status(cinder, volume: dict, spec: dict):
    require_admin(_ADMIN_RULE.format("reset_status"))
    status = (spec or {}).get("status")
    valid = ("creating", "available", "deleting", "error", "error_deleting",
             "error_managing", "managing", "attaching", "in-use", "detaching",
             "maintenance", "reserved")
    if status not in valid:
        raise bad_request(f"Must specify a valid status, got {status}")
    volume["status"] = status


def _force_delete(cinder, volume: dict, spec):
    require_admin(_ADMIN_RULE.format("force_delete"))
    for attachment in list(volume["attachments"]):
        cinder.detach(volume["id"], attachment_id=attachment["attachment_id"])
    volume["status"] = "available"
    cinder.delete_volume(volume, cascade=True)


_ACTIONS = {"os-attach": (_attach, 202), "os-detach": (_detach, 202),
            "os-extend": (_extend, 202), "os-reset_status": (_reset_status, 202),
            "os-force_delete": (_force_delete, 202),
            "os-promote-replica": (replication.promote, 202),
            "os-reenable-replica": (replication.reenable, 202)}


@route("/volumes/<volume_id>/action", methods=("POST",))
def volume_action(volume_id: str):
    body = json_body()
    if not body or len(body) != 1:
        raise bad_request("Invalid request body: one action expected")
    action, spec = next(iter(body.items()))
    cinder = state()
    with cinder.lock:
        volume = find_volume(volume_id)
        if action == "os-set_bootable":
            flag = (spec or {}).get("bootable")
            if flag is None:
                raise bad_request("Must specify bootable in request.")
            volume["bootable"] = to_bool("bootable", flag)
            return json_response(None, 200)
        if action not in _ACTIONS:
            raise bad_request(f"There is no such action: {action}")
        handler, status = _ACTIONS[action]
        handler(cinder, volume, spec if isinstance(spec, dict) else {})
    return json_response(None, status)
