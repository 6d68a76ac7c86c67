"""The public root of the API: the versions document and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, request
from sqlalchemy import text

from kingbird.api import openapi
from kingbird.api.responses import json_response

bp = Blueprint("versions", __name__)

VERSIONS = (("v1.0", "SUPPORTED", "/v1.0/"), ("v1.1", "CURRENT", "/v1.1/"))

_VERSIONS_SCHEMA = {
    "type": "object", "required": ["versions"],
    "properties": {"versions": {"type": "array", "items": {
        "type": "object", "required": ["id", "status", "links"],
        "properties": {"id": {"type": "string"}, "status": {"type": "string"},
                       "links": {"type": "array"}}}}},
}


@bp.get("/")
def versions():
    base = request.host_url.rstrip("/")
    return json_response({"versions": [
        {"id": vid, "status": status, "updated": "2026-11-25T00:00:00Z",
         "links": [{"rel": "self", "href": base + path}]}
        for vid, status, path in VERSIONS]})


@bp.get("/healthcheck")
def healthcheck():
    """Alive, and the database answers: what a load balancer needs to know."""
    try:
        with current_app.extensions["kingbird"].db() as session:
            session.execute(text("SELECT 1"))
    except Exception:  # any failure of the database means not healthy
        return json_response({"status": "unavailable", "database": "unreachable"}, 503)
    return json_response({"status": "ok"})


@bp.get("/openapi.json")
def openapi_document():
    return json_response(openapi.document(current_app.extensions["kingbird"].version))


openapi.describe("GET", "/", "List API versions", "versions", public=True,
                 responses={200: _VERSIONS_SCHEMA})
openapi.describe("GET", "/healthcheck", "Health of the API and its database", "versions",
                 public=True, responses={200: {"type": "object"}, 503: {"type": "object"}})
openapi.describe("GET", "/openapi.json", "This document", "versions", public=True,
                 responses={200: {"type": "object"}})
