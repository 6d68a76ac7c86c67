"""Volumes of the simulated Cinder: create (empty, from a snapshot, a volume or an
image), list, detail, show, update, delete, and their metadata."""

from __future__ import annotations

from flask import request

from regionsim.services.cinder.common import (
    bad_request,
    body_object,
    listed,
    not_found,
    now,
    parse_int,
    route,
    state,
    to_bool,
    visible,
)
from regionsim.services.cinder.views import volume_summary, volume_view
from regionsim.web import caller, json_body, json_response


def find_volume(volume_id: str) -> dict:
    return visible(state().volumes.get(volume_id), "Volume", volume_id)


def parse_metadata(value, name: str = "metadata") -> dict[str, str]:
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(
            isinstance(k, str) and 0 < len(k) <= 255 and isinstance(v, str) and len(v) <= 255
            for k, v in value.items()):
        raise bad_request(f"Invalid input for field/attribute {name}. Value: {value}.")
    return dict(value)


def parse_text(spec: dict, key: str) -> str | None:
    value = spec.get(key)
    if value is not None and (not isinstance(value, str) or len(value) > 255):
        raise bad_request(f"Invalid input for field/attribute {key}. Value: {value}.")
    return value


@route("/volumes", methods=("POST",))
def create_volume():
    spec = body_object("volume")
    who = caller()
    cinder = state()
    options = {"name": parse_text(spec, "name") or parse_text(spec, "display_name"),
               "description": parse_text(spec, "description"),
               "metadata": parse_metadata(spec.get("metadata")),
               "az": spec.get("availability_zone")}
    if spec.get("volume_type") is not None:
        options["type_name"] = spec["volume_type"]
    size = spec.get("size")
    size = None if size is None else parse_int("size", size, minimum=1)
    with cinder.lock:
        if spec.get("snapshot_id"):
            snapshot = visible(cinder.snapshots.get(spec["snapshot_id"]), "Snapshot",
                               spec["snapshot_id"])
            volume = cinder.volume_from_snapshot(who.project_id, who.user_id, snapshot, size,
                                                 options)
        elif spec.get("source_volid"):
            source = find_volume(spec["source_volid"])
            size = source["size"] if size is None else size
            if size < source["size"]:
                raise bad_request(f"Invalid input received: Clones currently must be >= "
                                  f"original volume size. (current: {size}, original: "
                                  f"{source['size']})")
            options.setdefault("type_name", source["type_name"])
            volume = cinder.create_volume(
                who.project_id, who.user_id, size, bootable=source["bootable"],
                content=(source["content_digest"], source["content_size"]),
                source={"source_volid": source["id"],
                        "volume_image_metadata": source["image_metadata"]}, **options)
        elif spec.get("imageRef"):
            if size is None:
                raise bad_request("Invalid input received: size must be specified")
            volume = cinder.volume_from_image(who.project_id, who.user_id,
                                              str(spec["imageRef"]), size, options,
                                              is_admin=who.is_admin)
        else:
            if size is None:
                raise bad_request("Invalid input for field/attribute size. Value: None. None "
                                  "is not of type 'integer', 'string'")
            volume = cinder.create_volume(who.project_id, who.user_id, size, **options)
        return json_response({"volume": volume_view(volume, extended=False)}, 202)


def _listed() -> list[dict]:
    cinder = state()
    bootable = request.args.get("bootable")
    # Parsed only for records that get this far: an empty listing ignores a bad value.
    return listed(cinder.volumes_by_project, cinder.volumes, "name", "status",
                  where=lambda v: bootable is None
                  or v["bootable"] == to_bool("bootable", bootable))


@route("/volumes")
def list_volumes():
    with state().lock:
        return json_response({"volumes": [volume_summary(v) for v in _listed()]})


@route("/volumes/detail")
def list_volumes_detail():
    with state().lock:
        return json_response({"volumes": [volume_view(v, extended=True) for v in _listed()]})


@route("/volumes/<volume_id>")
def show_volume(volume_id: str):
    with state().lock:
        return json_response({"volume": volume_view(find_volume(volume_id), extended=True)})


@route("/volumes/<volume_id>", methods=("PUT",))
def update_volume(volume_id: str):
    spec = body_object("volume")
    allowed = {"name", "description", "metadata", "display_name", "display_description"}
    if not spec or set(spec) - allowed:
        raise bad_request(f"Invalid input for field/attribute volume. Value: {spec}.")
    with state().lock:
        volume = find_volume(volume_id)
        if "name" in spec or "display_name" in spec:
            volume["name"] = parse_text(spec, "name" if "name" in spec else "display_name")
        if "description" in spec or "display_description" in spec:
            key = "description" if "description" in spec else "display_description"
            volume["description"] = parse_text(spec, key)
        if "metadata" in spec:
            volume["metadata"] = parse_metadata(spec["metadata"])
        volume["updated_at"] = now()
        return json_response({"volume": volume_view(volume, extended=False)})


@route("/volumes/<volume_id>", methods=("DELETE",))
def delete_volume(volume_id: str):
    cascade = to_bool("cascade", request.args.get("cascade"))
    cinder = state()
    with cinder.lock:
        cinder.delete_volume(find_volume(volume_id), cascade=cascade)
    return json_response(None, 202)


# -- metadata --

@route("/volumes/<volume_id>/metadata")
def show_volume_metadata(volume_id: str):
    with state().lock:
        return json_response({"metadata": dict(find_volume(volume_id)["metadata"])})


@route("/volumes/<volume_id>/metadata", methods=("POST", "PUT"))
def set_volume_metadata(volume_id: str):
    body = json_body() or {}
    metadata = parse_metadata(body.get("metadata"))
    with state().lock:
        volume = find_volume(volume_id)
        if request.method == "PUT":
            volume["metadata"] = metadata
        else:
            volume["metadata"].update(metadata)
        return json_response({"metadata": dict(volume["metadata"])})


@route("/volumes/<volume_id>/metadata/<key>")
def show_volume_metadata_item(volume_id: str, key: str):
    with state().lock:
        metadata = find_volume(volume_id)["metadata"]
        if key not in metadata:
            raise not_found(f"Volume {volume_id} has no metadata with key {key}.")
        return json_response({"meta": {key: metadata[key]}})


@route("/volumes/<volume_id>/metadata/<key>", methods=("DELETE",))
def delete_volume_metadata_item(volume_id: str, key: str):
    with state().lock:
        metadata = find_volume(volume_id)["metadata"]
        if metadata.pop(key, None) is None:
            raise not_found(f"Volume {volume_id} has no metadata with key {key}.")
    return json_response(None, 200)
