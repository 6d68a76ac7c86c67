"""Image metadata routes: create, list, show, JSON-patch update, delete, (de)activate, tags."""

from __future__ import annotations

import json
import uuid

from flask import request

from regionsim import web
from regionsim.services.glance import patch, schema
from regionsim.services.glance.common import bp, locked, owned_image, state, visible_image
from regionsim.services.glance.errors import bad_request, conflict, forbidden, not_found
from regionsim.services.glance.state import new_record, now, view


def _check_policy(caller, doc: dict, image: dict | None) -> None:
    if doc["visibility"] == "public" and (image is None or image["visibility"] != "public") \
            and not caller.is_admin:
        raise forbidden("You are not authorized to complete publicize_image action.")
    if doc.get("owner") != (image["owner"] if image else caller.project_id) \
            and not caller.is_admin:
        raise forbidden("You are not permitted to modify 'owner' on this image.")
    if image is not None and image["status"] != "queued":
        for key in ("disk_format", "container_format"):
            if doc[key] != image[key]:
                raise forbidden(f"Attribute {key} can be only replaced for a queued image.")


def _doc(image: dict) -> dict:
    doc = {key: image[key] for key in schema.WRITABLE}
    doc["tags"] = list(image["tags"])
    doc["properties"] = dict(image["properties"])
    return doc


@bp.post("/v2/images")
@locked
def create_image():
    st, caller = state(), web.caller()
    body = web.json_body()
    if body is None:
        raise bad_request("Body expected in request.")
    for key in body:
        if key != "id":
            schema.check_key(key)
    image_id = body.get("id") or st.region.new_id()
    try:
        uuid.UUID(str(image_id))
    except ValueError:
        raise bad_request(f"Provided object does not match schema 'image': {image_id!r} is "
                          "not a 'uuid'") from None
    if image_id in st.images:
        raise conflict(f"Image with identifier {image_id} already exists!")
    image = new_record(str(image_id), caller.project_id)
    doc = _doc(image)
    for key, value in body.items():
        if key in schema.WRITABLE:
            doc[key] = value
        elif key != "id":
            doc["properties"][key] = value
    if doc["tags"] is not None and isinstance(doc["tags"], list):
        doc["tags"] = list(dict.fromkeys(doc["tags"]))
    schema.validate(doc)
    _check_policy(caller, doc, None)
    image.update(doc)
    st.images[image["id"]] = image
    return web.json_response(view(image), 201, {"Location": request.host_url.rstrip("/")
                                                + f"/image/v2/images/{image['id']}"})


@bp.get("/v2/images/<image_id>")
@locked
def show_image(image_id):
    return web.json_response(view(visible_image(state(), image_id, web.caller())))


@bp.patch("/v2/images/<image_id>")
@locked
def update_image(image_id):
    st, caller = state(), web.caller()
    version = patch.MEDIA_TYPES.get(request.mimetype)
    if version is None:
        return web.json_response(
            {"message": f"Unsupported Content-Type {request.mimetype}", "code":
             "415 Unsupported Media Type", "title": "Unsupported Media Type"}, 415,
            {"Accept-Patch": ", ".join(patch.MEDIA_TYPES)})
    image = owned_image(st, image_id, caller, "modify_image")
    try:
        body = json.loads(request.get_data() or b"null")
    except ValueError:
        raise bad_request("Malformed JSON in request body.") from None
    changes = patch.parse(body, version)
    doc = patch.apply(_doc(image), changes, version)
    _check_policy(caller, doc, image)
    doc["tags"] = list(dict.fromkeys(doc["tags"]))
    image.update(doc)
    image["updated_at"] = now()
    return web.json_response(view(image))


@bp.delete("/v2/images/<image_id>")
@locked
def delete_image(image_id):
    st, caller = state(), web.caller()
    image = owned_image(st, image_id, caller, "delete_image")
    if image["protected"]:
        raise forbidden(f"Image {image_id} is protected and cannot be deleted.")
    st.delete_image(image_id)
    return web.json_response(None, 204)


def _switch_activation(image_id: str, action: str, status: str):
    """``deactivate`` or ``reactivate``: allowed between active and deactivated only."""
    image = owned_image(state(), image_id, web.caller(), action)
    if image["status"] not in ("active", "deactivated"):
        raise forbidden(f"Not allowed to {action} image in status '{image['status']}'")
    image.update(status=status, updated_at=now())
    return web.json_response(None, 204)


@bp.post("/v2/images/<image_id>/actions/deactivate")
@locked
def deactivate_image(image_id):
    return _switch_activation(image_id, "deactivate", "deactivated")


@bp.post("/v2/images/<image_id>/actions/reactivate")
@locked
def reactivate_image(image_id):
    return _switch_activation(image_id, "reactivate", "active")


@bp.put("/v2/images/<image_id>/tags/<tag>")
@locked
def add_tag(image_id, tag):
    image = owned_image(state(), image_id, web.caller(), "modify_image")
    if tag not in image["tags"]:
        image["tags"].append(tag)
        image["updated_at"] = now()
    return web.json_response(None, 204)


@bp.delete("/v2/images/<image_id>/tags/<tag>")
@locked
def delete_tag(image_id, tag):
    image = owned_image(state(), image_id, web.caller(), "modify_image")
    if tag not in image["tags"]:
        raise not_found(f"Tag {tag} not found")
    image["tags"].remove(tag)
    image["updated_at"] = now()
    return web.json_response(None, 204)
