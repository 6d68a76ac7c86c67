"""JSON Schemas of the Fernet key and multisite identity routes: the request bodies
the handlers check (``kingbird.api.validation.checked``) and ``/openapi.json``
publishes, and the answers."""

from __future__ import annotations

MAX_TEXT = 2000
MAX_VERSION = 2**31 - 1  # fernet_nodes.version is an INTEGER column


def _text(limit: int) -> dict:
    return {"type": "string", "maxLength": limit, "nullable": True}


ROTATE = {"type": "object", "maxProperties": 0,
          "x-message": "rotate takes no request body (or {})"}
IMPORT = {"type": "object", "required": ["key_repository"], "additionalProperties": False,
          "properties": {"key_repository": {"type": "object", "minProperties": 1,
                                            "additionalProperties": {"type": "string"}}},
          "x-message": 'request body must be {"key_repository": {"0": KEY, "1": KEY, ...}}'}
_PROBE = {"type": "object", "nullable": True, "required": ["ok"], "additionalProperties": False,
          "properties": {"ok": {"type": "boolean"},
                         "latency_ms": {"type": "number", "minimum": 0, "nullable": True},
                         "checked_at": _text(MAX_TEXT), "detail": _text(MAX_TEXT),
                         "keystone_url": _text(MAX_TEXT)}}
REPORT = {"type": "object", "required": ["node"], "additionalProperties": False,
          "properties": {"node": {
              "type": "object", "required": ["region"], "additionalProperties": False,
              "properties": {"region": {"type": "string", "minLength": 1, "maxLength": 255,
                                        "x-message": "'$field' must have 1-255 characters"},
                             "version": {"type": "integer", "minimum": 0,
                                         "maximum": MAX_VERSION, "nullable": True},
                             "keystone_url": _text(1024), "error": _text(MAX_TEXT),
                             "agent": _text(255), "probe": _PROBE}}},
          "x-message": 'request body must be {"node": {...}}'}

_NAME = "^[A-Za-z0-9_.:@-]+$"
REGISTRATION = {
    "type": "object", "required": ["node"], "additionalProperties": False,
    "properties": {"node": {
        "type": "object", "required": ["name", "region", "agent_user_id"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": _NAME,
                     "x-message": "'$field' must be 1-255 letters, digits or _.:@-"},
            "region": {"type": "string", "minLength": 1, "maxLength": 255,
                       "pattern": "^[^\\x00-\\x1f\\x7f]+$",
                       "x-message": "'$field' must have 1-255 characters, none a control "
                                    "character"},
            "agent_user_id": {"type": "string", "minLength": 1, "maxLength": 64,
                              "pattern": _NAME,
                              "x-message": "'$field' must be a Keystone user id (1-64 "
                                           "letters, digits or _.:@-)"}}}},
    "x-message": 'request body must be {"node": {"name": ..., "region": ..., '
                 '"agent_user_id": ...}}'}

# --- answers ------------------------------------------------------------------------

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
                        "agent_user_id": {"type": ["string", "null"], "nullable": True},
                        "version": {"type": ["integer", "null"]},
                        "healthy": {"type": "boolean"},
                        "problems": {"type": "array", "items": {"type": "string"}},
                        "last_contact": _TIME}}
ROTATION = {"type": "object", "required": ["id", "status", "waiting_for"], "properties": {
    "id": {"type": ["integer", "null"]},
    "status": {"type": "string", "enum": ["distributing", "promoted", "initialised"]},
    "waiting_for": {"type": "array", "items": {"type": "object"}}}}
STATUS = {"type": "object", "required": ["fernet_keys"], "properties": {"fernet_keys": {
    "type": "object", "required": ["version", "keys", "nodes", "rotation"],
    "properties": {"version": {"type": "integer"},
                   "keys": {"type": "array", "items": _KEY},
                   "nodes": {"type": "array", "items": _NODE},
                   "rotation": {"oneOf": [ROTATION, {"type": "null"}]}}}}}
SYNCED = {"type": "object", "required": ["key_set"], "properties": {
    "key_set": {"oneOf": [{"type": "null"}, {
        "type": "object", "required": ["version", "up_to_date"],
        "properties": {"version": {"type": "integer"}, "up_to_date": {"type": "boolean"},
                       "keys": {"type": "object",
                                "additionalProperties": {"type": "string"}}}}]},
    "node": _NODE}}
SITES = {"type": "object", "required": ["multisite_identity"]}
NODES = {"type": "object", "required": ["nodes"],
         "properties": {"nodes": {"type": "array", "items": _NODE}}}
REGISTERED = {"type": "object", "required": ["node"], "properties": {"node": _NODE}}
