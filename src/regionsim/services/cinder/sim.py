"""Simulator-only routes of Cinder: a volume's content, a backup's bytes (admin only).

``PUT /volume/_sim/volumes/{id}/content`` with ``{"data": "<base64>"}`` sets
the bytes a volume holds; ``GET`` returns ``{"digest": sha256 hex, "size":
bytes}``. Snapshots, clones, backups and restores carry the content along, so
a test can prove a restored volume holds the data of its restore point.
``GET /volume/_sim/backups/{id}`` tells how many bytes a backup wrote to the
backup store (all of them for a full backup, the changed blocks for an
incremental one).
"""

from __future__ import annotations

import base64
import binascii

from regionsim.services.cinder.common import (
    CinderError,
    bad_request,
    bp,
    not_found,
    state,
)
from regionsim.web import caller, json_body, json_response


def _volume(volume_id: str) -> dict:
    if not caller().is_admin:
        raise CinderError(403, "the simulator's content API is for admins only")
    volume = state().volumes.get(volume_id)
    if volume is None:
        raise not_found(f"Volume {volume_id} could not be found.")
    return volume


@bp.get("/_sim/volumes/<volume_id>/content")
def show_content(volume_id: str):
    cinder = state()
    with cinder.lock:
        volume = _volume(volume_id)
        return json_response({"digest": volume["content_digest"],
                              "size": volume["content_size"]})


@bp.put("/_sim/volumes/<volume_id>/content")
def set_content(volume_id: str):
    body = json_body() or {}
    try:
        data = base64.b64decode(str(body.get("data", "")).encode(), validate=True)
    except (binascii.Error, ValueError):
        raise bad_request("data must be base64") from None
    cinder = state()
    with cinder.lock:
        volume = _volume(volume_id)
        cinder.set_content(volume, data)
        return json_response({"digest": volume["content_digest"],
                              "size": volume["content_size"]})


@bp.get("/_sim/backups/<backup_id>")
def show_backup_bytes(backup_id: str):
    if not caller().is_admin:
        raise CinderError(403, "the simulator's content API is for admins only")
    cinder = state()
    with cinder.lock:
        backup = cinder.backups.get(backup_id)
        if backup is None:
            raise not_found(f"Backup {backup_id} could not be found.")
        return json_response({"stored_bytes": backup["stored_bytes"],
                              "incremental": backup["parent_id"] is not None,
                              "digest": backup["content_digest"],
                              "size": backup["content_size"]})
