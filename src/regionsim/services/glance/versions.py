"""Glance's version documents and the JSON schemas clients may fetch."""

from __future__ import annotations

from flask import request

from regionsim import web
from regionsim.services.glance import schema
from regionsim.services.glance.common import bp

CURRENT = 16  # v2.16, Glance 2024.1


def _versions():
    href = request.host_url.rstrip("/") + "/image/v2/"
    return {"versions": [
        {"id": f"v2.{minor}", "status": "CURRENT" if minor == CURRENT else "SUPPORTED",
         "links": [{"rel": "self", "href": href}]}
        for minor in range(CURRENT, -1, -1)]}


@bp.get("/")
@bp.get("")
def versions_root():
    # Glance answers its root with 300 Multiple Choices and the version list.
    return web.json_response(_versions(), 300)


@bp.get("/versions")
def versions_list():
    return web.json_response(_versions())


def _image_schema() -> dict:
    nullable_str = {"type": ["null", "string"]}
    props = {
        "id": {"type": "string", "pattern": "^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-"
                                            "([0-9a-fA-F]){4}-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$"},
        "name": {"type": ["null", "string"], "maxLength": 255},
        "status": {"type": "string", "readOnly": True,
                   "enum": ["queued", "saving", "active", "killed", "deleted", "uploading",
                            "importing", "pending_delete", "deactivated"]},
        "visibility": {"type": "string", "enum": list(schema.VISIBILITIES)},
        "protected": {"type": "boolean"}, "os_hidden": {"type": "boolean"},
        "checksum": dict(nullable_str, readOnly=True), "os_hash_algo": dict(nullable_str,
                                                                            readOnly=True),
        "os_hash_value": dict(nullable_str, readOnly=True), "owner": nullable_str,
        "size": {"type": ["null", "integer"], "readOnly": True},
        "virtual_size": {"type": ["null", "integer"], "readOnly": True},
        "container_format": {"type": ["null", "string"],
                             "enum": [None, *schema.CONTAINER_FORMATS]},
        "disk_format": {"type": ["null", "string"], "enum": [None, *schema.DISK_FORMATS]},
        "created_at": {"type": "string", "readOnly": True},
        "updated_at": {"type": "string", "readOnly": True},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 255}},
        "min_ram": {"type": "integer"}, "min_disk": {"type": "integer"},
        "self": {"type": "string", "readOnly": True}, "file": {"type": "string", "readOnly": True},
        "schema": {"type": "string", "readOnly": True},
    }
    return {"name": "image", "properties": props, "additionalProperties": {"type": "string"},
            "links": [{"rel": "self", "href": "{self}"}, {"rel": "enclosure", "href": "{file}"},
                      {"rel": "describedby", "href": "{schema}"}]}


def _member_schema() -> dict:
    return {"name": "member", "properties": {
        "image_id": {"type": "string"}, "member_id": {"type": "string"},
        "status": {"type": "string", "enum": ["pending", "accepted", "rejected"]},
        "created_at": {"type": "string"}, "updated_at": {"type": "string"},
        "schema": {"type": "string", "readOnly": True}}}


@bp.get("/v2/schemas/image")
def image_schema():
    return web.json_response(_image_schema())


@bp.get("/v2/schemas/images")
def images_schema():
    return web.json_response({"name": "images", "properties": {
        "images": {"type": "array", "items": _image_schema()},
        "schema": {"type": "string"}, "first": {"type": "string"}, "next": {"type": "string"}},
        "links": [{"rel": "first", "href": "{first}"}, {"rel": "next", "href": "{next}"},
                  {"rel": "describedby", "href": "{schema}"}]})


@bp.get("/v2/schemas/member")
def member_schema():
    return web.json_response(_member_schema())


@bp.get("/v2/schemas/members")
def members_schema():
    return web.json_response({"name": "members", "properties": {
        "members": {"type": "array", "items": _member_schema()}, "schema": {"type": "string"}}})
