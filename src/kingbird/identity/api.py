"""Fernet key management and the multisite identity status.

``os-fernet-keys``: the key set (never its material), rotation, import, and the
route by which each Keystone node's agent reports and fetches its keys (a POST:
no GET ever returns key material). ``os-multisite-identity``: per region,
replication lag of the identity database, key set versions of its nodes and
their validation probe.
"""

from __future__ import annotations

import re

from flask import Blueprint

from kingbird.api import validation
from kingbird.api.app_services import services
from kingbird.api.responses import json_response
from kingbird.api.routing import authorise, both_versions, check_tenant, describe_both
from kingbird.core import exceptions
from kingbird.identity import sites
from kingbird.identity.keymanager import KeyManager

bp = Blueprint("fernet_keys", __name__)

POLICY = "kingbird:fernet_keys"
_NODE_NAME = re.compile(r"^[A-Za-z0-9_.:@-]{1,255}$")
_MAX_TEXT = 2000


def manager() -> KeyManager:
    """:raises ServiceUnavailable: no ``[fernet] master_key``."""
    return KeyManager.from_conf(services().conf, services().db)


def _node_name(value: str) -> str:
    if not _NODE_NAME.match(value or ""):
        raise exceptions.BadRequest(
            f"node name {value[:60]!r} is invalid: use 1-255 letters, digits or _.:@-")
    return value


def _optional(body: dict, key: str, kinds: tuple[type, ...], what: str, limit: int = 0):
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) and bool not in kinds or not isinstance(value, kinds):
        raise exceptions.BadRequest(f"'node.{key}' must be {what}")
    if isinstance(value, str) and limit and len(value) > limit:
        raise exceptions.BadRequest(f"'node.{key}' is longer than {limit} characters")
    return value


def _probe(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise exceptions.BadRequest("'node.probe' must be an object")
    unknown = set(value) - {"ok", "latency_ms", "checked_at", "detail", "keystone_url"}
    if unknown:
        raise exceptions.BadRequest(f"unexpected keys in 'node.probe': {sorted(unknown)}")
    if not isinstance(value.get("ok"), bool):
        raise exceptions.BadRequest("'node.probe.ok' must be true or false")
    latency = value.get("latency_ms")
    if latency is not None and (isinstance(latency, bool)
                                or not isinstance(latency, int | float) or latency < 0):
        raise exceptions.BadRequest("'node.probe.latency_ms' must be a non-negative number")
    for key in ("checked_at", "detail", "keystone_url"):
        if value.get(key) is not None and (not isinstance(value[key], str)
                                           or len(value[key]) > _MAX_TEXT):
            raise exceptions.BadRequest(f"'node.probe.{key}' must be a string of at most "
                                        f"{_MAX_TEXT} characters")
    return dict(value)


def _report(body) -> dict:
    if not isinstance(body, dict) or set(body) != {"node"}:
        raise exceptions.BadRequest("request body must be {\"node\": {...}}")
    node = validation.member(body, "node", dict)
    unknown = set(node) - {"region", "version", "keystone_url", "error", "agent", "probe"}
    if unknown:
        raise exceptions.BadRequest(f"unexpected keys in 'node': {sorted(unknown)}")
    region = validation.member(node, "region", str, "node.region")
    if not 0 < len(region) <= 255:
        raise exceptions.BadRequest("'node.region' must have 1-255 characters")
    version = _optional(node, "version", (int,), "an integer or null")
    if version is not None and version < 0:
        raise exceptions.BadRequest("'node.version' must not be negative")
    return {"region": region, "version": version,
            "keystone_url": _optional(node, "keystone_url", (str,), "a string", 1024),
            "error": _optional(node, "error", (str,), "a string", _MAX_TEXT),
            "agent": _optional(node, "agent", (str,), "a string", 255),
            "probe": _probe(node.get("probe"))}


def show(tenant: str | None = None):
    check_tenant(tenant)
    authorise(f"{POLICY}:show", {})
    return json_response(manager().status())


def rotate(tenant: str | None = None):
    ctx = check_tenant(tenant)
    authorise(f"{POLICY}:rotate", {})
    body = validation.json_body(required=False)
    if body not in (None, {}):
        raise exceptions.BadRequest("rotate takes no request body (or {})")
    result = manager().rotate(requested_by=ctx.user_id or None,
                              request_id=ctx.request_id or None)
    return json_response({"rotation": result}, 202)


def import_repository(tenant: str | None = None):
    check_tenant(tenant)
    authorise(f"{POLICY}:import", {})
    body = validation.json_body()
    if not isinstance(body, dict) or set(body) != {"key_repository"}:
        raise exceptions.BadRequest("request body must be {\"key_repository\": "
                                    "{\"0\": KEY, \"1\": KEY, ...}}")
    files = validation.member(body, "key_repository", dict)
    return json_response({"fernet_keys": manager().import_repository(files)}, 201)


def sync_node(node: str, tenant: str | None = None):
    check_tenant(tenant)
    _node_name(node)
    authorise(f"{POLICY}:sync", {"node": node})
    report = _report(validation.json_body())
    return json_response(manager().node_sync(node, report))


def forget_node(node: str, tenant: str | None = None):
    check_tenant(tenant)
    _node_name(node)
    authorise(f"{POLICY}:forget_node", {"node": node})
    manager().forget_node(node)
    return json_response({"deleted": node})


def multisite_identity(tenant: str | None = None):
    check_tenant(tenant)
    authorise("kingbird:multisite_identity:show", {})
    return json_response({"multisite_identity": sites.snapshot(services().conf,
                                                               services().db)})


both_versions(bp, "/os-fernet-keys", show, ["GET"])
both_versions(bp, "/os-fernet-keys/rotate", rotate, ["POST"])
both_versions(bp, "/os-fernet-keys/import", import_repository, ["POST"])
both_versions(bp, "/os-fernet-keys/nodes/<node>/sync", sync_node, ["POST"])
both_versions(bp, "/os-fernet-keys/nodes/<node>", forget_node, ["DELETE"])
both_versions(bp, "/os-multisite-identity", multisite_identity, ["GET"])

# --- OpenAPI -------------------------------------------------------------------------

_TIME = {"type": ["string", "null"], "nullable": True}
_KEY = {"type": "object", "required": ["number", "state", "fingerprint"], "properties": {
    "number": {"type": ["integer", "null"]}, "state": {"type": "string",
                                                       "enum": ["staged", "primary",
                                                                "secondary"]},
    "files": {"type": "array", "items": {"type": "string"}},
    "fingerprint": {"type": "string"}, "created_at": _TIME, "promoted_at": _TIME,
    "demoted_at": _TIME, "retire_after": _TIME}, "additionalProperties": False}
_NODE = {"type": "object", "required": ["name", "region", "version", "healthy"],
         "properties": {"name": {"type": "string"}, "region": {"type": "string"},
                        "version": {"type": ["integer", "null"]},
                        "healthy": {"type": "boolean"},
                        "problems": {"type": "array", "items": {"type": "string"}},
                        "last_contact": _TIME}}
_ROTATION = {"type": "object", "required": ["id", "status", "waiting_for"], "properties": {
    "id": {"type": ["integer", "null"]},
    "status": {"type": "string", "enum": ["distributing", "promoted", "initialised"]},
    "waiting_for": {"type": "array", "items": {"type": "object"}}}}
_STATUS = {"type": "object", "required": ["fernet_keys"], "properties": {"fernet_keys": {
    "type": "object", "required": ["version", "keys", "nodes", "rotation"],
    "properties": {"version": {"type": "integer"},
                   "keys": {"type": "array", "items": _KEY},
                   "nodes": {"type": "array", "items": _NODE},
                   "rotation": {"oneOf": [_ROTATION, {"type": "null"}]}}}}}
_REPORT = {"type": "object", "required": ["node"], "additionalProperties": False,
           "properties": {"node": {
               "type": "object", "required": ["region"], "additionalProperties": False,
               "properties": {"region": {"type": "string"},
                              "version": {"type": ["integer", "null"], "minimum": 0},
                              "keystone_url": {"type": ["string", "null"]},
                              "error": {"type": ["string", "null"]},
                              "agent": {"type": ["string", "null"]},
                              "probe": {"type": ["object", "null"]}}}}}
_SYNCED = {"type": "object", "required": ["key_set"], "properties": {
    "key_set": {"oneOf": [{"type": "null"}, {
        "type": "object", "required": ["version", "up_to_date"],
        "properties": {"version": {"type": "integer"}, "up_to_date": {"type": "boolean"},
                       "keys": {"type": "object",
                                "additionalProperties": {"type": "string"}}}}]},
    "node": _NODE}}
_IMPORT = {"type": "object", "required": ["key_repository"], "additionalProperties": False,
           "properties": {"key_repository": {"type": "object", "minProperties": 1,
                                             "additionalProperties": {"type": "string"}}}}
_SITES = {"type": "object", "required": ["multisite_identity"]}
_UNAVAILABLE = {"type": "object"}

describe_both("GET", "/os-fernet-keys", "The Fernet key set (no material), nodes, rotation",
              "fernet_keys", responses={200: _STATUS, 503: _UNAVAILABLE})
describe_both("POST", "/os-fernet-keys/rotate",
              "Rotate: stage a key, promote it once every node confirmed it",
              "fernet_keys", request={"type": "object", "maxProperties": 0},
              request_required=False,
              responses={202: {"type": "object", "required": ["rotation"],
                               "properties": {"rotation": _ROTATION}},
                         409: {"type": "object"}, 503: _UNAVAILABLE})
describe_both("POST", "/os-fernet-keys/import",
              "Take over an existing key repository as the first key set", "fernet_keys",
              request=_IMPORT, responses={201: _STATUS, 409: {"type": "object"}})
describe_both("POST", "/os-fernet-keys/nodes/<node>/sync",
              "A node's agent reports what it holds and gets the key set if behind",
              "fernet_keys", request=_REPORT, responses={200: _SYNCED, 503: _UNAVAILABLE})
describe_both("DELETE", "/os-fernet-keys/nodes/<node>", "Forget a decommissioned node",
              "fernet_keys", responses={200: {"type": "object"}})
describe_both("GET", "/os-multisite-identity",
              "Per region: replication lag, key set versions, validation probe",
              "fernet_keys", responses={200: _SITES})
