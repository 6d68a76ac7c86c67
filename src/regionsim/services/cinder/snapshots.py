"""Snapshots of the simulated Cinder: create (``force`` for in-use volumes before
3.66), list, detail, show, update, delete, metadata."""

from __future__ import annotations

from flask import request

from regionsim.services.cinder.common import (
    at_least,
    bad_request,
    body_object,
    listed,
    not_found,
    now,
    route,
    state,
    to_bool,
    visible,
)
from regionsim.services.cinder.views import snapshot_view
from regionsim.services.cinder.volumes import find_volume, parse_metadata, parse_text
from regionsim.web import caller, json_body, json_response


def find_snapshot(snapshot_id: str) -> dict:
    return visible(state().snapshots.get(snapshot_id), "Snapshot", snapshot_id)


@route("/snapshots", methods=("POST",))
def create_snapshot():
    spec = body_object("snapshot")
    volume_id = spec.get("volume_id")
    if not isinstance(volume_id, str):
        raise bad_request("Invalid input for field/attribute volume_id. Value: None.")
    if at_least(66):
        if "force" in spec and not to_bool("force", spec["force"]):
            raise bad_request(f"Invalid value '{spec['force']}' for force. Since 3.66 the "
                              "force flag is invalid for this request.")
        force = True
    else:
        force = to_bool("force", spec.get("force"), default=False)
    cinder = state()
    with cinder.lock:
        volume = find_volume(volume_id)
        snapshot = cinder.create_snapshot(
            volume, caller().user_id,
            name=parse_text(spec, "name") or parse_text(spec, "display_name"),
            description=parse_text(spec, "description"),
            metadata=parse_metadata(spec.get("metadata")), force=force)
        return json_response({"snapshot": snapshot_view(snapshot, extended=False)}, 202)


def _listed() -> list[dict]:
    cinder = state()
    return listed(cinder.snapshots_by_project, cinder.snapshots, "volume_id", "status")


@route("/snapshots")
def list_snapshots():
    with state().lock:
        return json_response({"snapshots": [snapshot_view(s, extended=False)
                                            for s in _listed()]})


@route("/snapshots/detail")
def list_snapshots_detail():
    with state().lock:
        return json_response({"snapshots": [snapshot_view(s, extended=True)
                                            for s in _listed()]})


@route("/snapshots/<snapshot_id>")
def show_snapshot(snapshot_id: str):
    with state().lock:
        return json_response({"snapshot": snapshot_view(find_snapshot(snapshot_id),
                                                        extended=True)})


@route("/snapshots/<snapshot_id>", methods=("PUT",))
def update_snapshot(snapshot_id: str):
    spec = body_object("snapshot")
    if not spec or set(spec) - {"name", "description", "display_name", "display_description"}:
        raise bad_request(f"Invalid input for field/attribute snapshot. Value: {spec}.")
    with state().lock:
        snapshot = find_snapshot(snapshot_id)
        for key in spec:
            field = "name" if key.endswith("name") else "description"
            snapshot[field] = parse_text(spec, key)
        snapshot["updated_at"] = now()
        return json_response({"snapshot": snapshot_view(snapshot, extended=False)})


@route("/snapshots/<snapshot_id>", methods=("DELETE",))
def delete_snapshot(snapshot_id: str):
    cinder = state()
    with cinder.lock:
        cinder.delete_snapshot(find_snapshot(snapshot_id))
    return json_response(None, 202)


@route("/snapshots/<snapshot_id>/metadata")
def show_snapshot_metadata(snapshot_id: str):
    with state().lock:
        return json_response({"metadata": dict(find_snapshot(snapshot_id)["metadata"])})


@route("/snapshots/<snapshot_id>/metadata", methods=("POST", "PUT"))
def set_snapshot_metadata(snapshot_id: str):
    metadata = parse_metadata((json_body() or {}).get("metadata"))
    with state().lock:
        snapshot = find_snapshot(snapshot_id)
        if request.method == "PUT":
            snapshot["metadata"] = metadata
        else:
            snapshot["metadata"].update(metadata)
        return json_response({"metadata": dict(snapshot["metadata"])})


@route("/snapshots/<snapshot_id>/metadata/<key>", methods=("DELETE",))
def delete_snapshot_metadata_item(snapshot_id: str, key: str):
    with state().lock:
        if find_snapshot(snapshot_id)["metadata"].pop(key, None) is None:
            raise not_found(f"Snapshot {snapshot_id} has no metadata with key {key}.")
    return json_response(None, 200)
