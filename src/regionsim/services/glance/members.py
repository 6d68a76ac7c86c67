"""Image members: sharing an image of visibility ``shared`` with other projects.

The owner adds and removes members; only the member itself accepts or rejects.
"""

from __future__ import annotations

from regionsim import web
from regionsim.services.glance.common import bp, locked, state, visible_image
from regionsim.services.glance.errors import bad_request, conflict, forbidden, not_found
from regionsim.services.glance.state import now

STATUSES = ("pending", "accepted", "rejected")


def _view(member: dict) -> dict:
    return dict(member, schema="/v2/schemas/member")


def _shared_image(st, image_id: str, caller) -> dict:
    image = visible_image(st, image_id, caller)
    if image["visibility"] != "shared":
        raise forbidden("Only shared images have members.")
    return image


def _is_owner(image: dict, caller) -> bool:
    return caller.is_admin or image["owner"] == caller.project_id


@bp.get("/v2/images/<image_id>/members")
@locked
def list_members(image_id):
    st, caller = state(), web.caller()
    image = _shared_image(st, image_id, caller)
    members = st.members.get(image_id, {})
    if _is_owner(image, caller):
        shown = list(members.values())
    else:
        shown = [m for m in members.values() if m["member_id"] == caller.project_id]
    return web.json_response({"members": [_view(m) for m in shown],
                              "schema": "/v2/schemas/members"})


@bp.post("/v2/images/<image_id>/members")
@locked
def add_member(image_id):
    st, caller = state(), web.caller()
    image = _shared_image(st, image_id, caller)
    if not _is_owner(image, caller):
        raise forbidden("You are not permitted to create image members for the image.")
    body = web.json_body()
    member_id = body.get("member") if body else None
    if not isinstance(member_id, str) or not member_id:
        raise bad_request("Member to be added not specified")
    members = st.members.setdefault(image_id, {})
    if member_id in members:
        raise conflict(f"The target member {member_id} is already associated with image "
                       f"{image_id}.")
    stamp = now()
    members[member_id] = {"image_id": image_id, "member_id": member_id, "status": "pending",
                          "created_at": stamp, "updated_at": stamp}
    return web.json_response(_view(members[member_id]))


def _member(st, image, member_id: str, caller) -> dict:
    member = st.members.get(image["id"], {}).get(member_id)
    if member is None or not (_is_owner(image, caller) or member_id == caller.project_id):
        raise not_found(f"{member_id} is not a member of image {image['id']}")
    return member


@bp.get("/v2/images/<image_id>/members/<member_id>")
@locked
def show_member(image_id, member_id):
    st, caller = state(), web.caller()
    image = _shared_image(st, image_id, caller)
    return web.json_response(_view(_member(st, image, member_id, caller)))


@bp.put("/v2/images/<image_id>/members/<member_id>")
@locked
def update_member(image_id, member_id):
    st, caller = state(), web.caller()
    image = _shared_image(st, image_id, caller)
    member = _member(st, image, member_id, caller)
    if member_id != caller.project_id:
        raise forbidden("You are not permitted to modify 'status' on this image member.")
    body = web.json_body()
    status = body.get("status") if body else None
    if status not in STATUSES:
        raise bad_request(f"Provided object does not match schema 'member': {status!r} is not "
                          f"one of {list(STATUSES)}")
    member.update(status=status, updated_at=now())
    return web.json_response(_view(member))


@bp.delete("/v2/images/<image_id>/members/<member_id>")
@locked
def delete_member(image_id, member_id):
    st, caller = state(), web.caller()
    image = _shared_image(st, image_id, caller)
    _member(st, image, member_id, caller)
    if not _is_owner(image, caller):
        raise forbidden("You are not permitted to delete image members for the image.")
    del st.members[image_id][member_id]
    return web.json_response(None, 204)
