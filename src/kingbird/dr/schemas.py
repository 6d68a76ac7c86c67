"""JSON Schemas of the ``os-dr`` routes: the request bodies that
``kingbird.dr.validation`` checks and ``/openapi.json`` publishes, and the answers."""

from __future__ import annotations

from kingbird.api import pagination
from kingbird.dr.models import (
    DR_METHODS,
    OPERATION_KINDS,
    OPERATION_STATUSES,
    PLAN_STATUSES,
    RESTORE_POINT_STATUSES,
)

MAX_SERVERS = 50
MIN_INTERVAL = 60
MAX_INTERVAL = 366 * 86400
MAX_RETENTION = 100
DEFAULT_METHOD = "snapshot-backup"
DEFAULT_INTERVAL = 3600
DEFAULT_RETENTION = 3


def _text(limit: int, nullable: bool = False) -> dict:
    """A non-blank string of at most ``limit`` characters."""
    return {"type": "string", "minLength": 1, "maxLength": limit, "pattern": r"\S",
            **({"nullable": True} if nullable else {}),
            "x-message": f"'$field' must be a non-empty string of at most {limit} characters"}


_INTERVAL = {"type": "integer", "minimum": MIN_INTERVAL, "maximum": MAX_INTERVAL}
_RETENTION = {"type": "integer", "minimum": 1, "maximum": MAX_RETENTION}
_SHORT_TEXT = _text(255)
_DESCRIPTION = _text(1024, nullable=True)
_SERVERS = {"type": "array", "minItems": 1, "maxItems": MAX_SERVERS, "uniqueItems": True,
            "items": {"type": "string", "maxLength": 64, "pattern": r"\S",
                      "x-message": "'$parent' must hold server ids, got $value"},
            "x-message": {"type": "'$field' must be a non-empty list of server ids",
                          "minItems": "'$field' must be a non-empty list of server ids",
                          "maxItems": f"'$field' lists more than {MAX_SERVERS} servers",
                          "uniqueItems": "'$field' names server $duplicate twice"}}
CREATE_PLAN = {"type": "object", "required": ["plan"], "additionalProperties": False,
               "properties": {"plan": {
                   "type": "object",
                   "required": ["name", "servers", "source_region", "recovery_region"],
                   "additionalProperties": False,
                   "properties": {
                       "name": _SHORT_TEXT, "description": _DESCRIPTION, "servers": _SERVERS,
                       "source_region": _SHORT_TEXT, "recovery_region": _SHORT_TEXT,
                       "method": {"type": "string", "enum": list(DR_METHODS),
                                  "default": DEFAULT_METHOD},
                       "interval": {**_INTERVAL, "default": DEFAULT_INTERVAL},
                       "retention": {**_RETENTION, "default": DEFAULT_RETENTION}}}}}
UPDATE_KEYS = ("name", "description", "interval", "retention")
UPDATE_PLAN = {"type": "object", "required": ["plan"], "additionalProperties": False,
               "properties": {"plan": {
                   "type": "object", "minProperties": 1, "additionalProperties": False,
                   "properties": {"name": _SHORT_TEXT, "description": _DESCRIPTION,
                                  "interval": _INTERVAL, "retention": _RETENTION},
                   "x-message": {"minProperties": "'$field' must change at least one of "
                                                  + ", ".join(UPDATE_KEYS)}}}}
# Taking a restore point now takes no content: no body, or an empty object.
RESTORE_POINT_REQUEST = {"type": "object", "additionalProperties": False,
                         "description": "no body, or {}: a restore point takes no options"}


def _recovery_body(action: str, with_point: bool) -> dict:
    """``{action: {"restore_point"?: id, "dry_run"?: bool}}``."""
    properties: dict = {"dry_run": {"type": "boolean", "default": False}}
    if with_point:
        properties["restore_point"] = {
            "type": "string", "pattern": r"\S", "nullable": True,
            "description": "default: the newest available",
            "x-message": "'$field' must be a restore point id"}
    return {"type": "object", "required": [action], "additionalProperties": False,
            "properties": {action: {"type": "object", "additionalProperties": False,
                                    "properties": properties}}}


# (action, may it choose its restore point?): a failback restores what the failover left.
RECOVERY = {(action, with_point): _recovery_body(action, with_point)
            for action, with_point in (("failover", True), ("failback", False))}

# --- answers ------------------------------------------------------------------------

_TIME = {"type": "string", "format": "date-time", "nullable": True}
_TEXT = {"type": "string", "nullable": True}
_ERROR = {"type": "object"}

_PLAN = {"type": "object", "required": ["id", "name", "method", "source_region",
                                        "recovery_region", "current_region", "servers",
                                        "status"],
         "properties": {
             "id": {"type": "string"}, "name": {"type": "string"}, "description": _TEXT,
             "project_id": {"type": "string"},
             "method": {"type": "string", "enum": list(DR_METHODS)},
             "source_region": {"type": "string"}, "recovery_region": {"type": "string"},
             "current_region": {"type": "string"},
             "servers": {"type": "array", "items": {"type": "string"}},
             "interval": {"type": "integer"}, "retention": {"type": "integer"},
             "status": {"type": "string", "enum": list(PLAN_STATUSES)}, "error": _TEXT,
             "next_restore_point_at": _TIME, "created_at": _TIME, "updated_at": _TIME,
             "restore_points": {"type": "integer"},
             "latest_restore_point": {"type": "object", "nullable": True}}}
_ONE_PLAN = {"type": "object", "required": ["plan"], "properties": {"plan": _PLAN}}
_PLANS = {"type": "object", "required": ["plans"],
          "properties": {"plans": {"type": "array", "items": _PLAN}}}
_STEP = {"type": "object", "required": ["name", "description", "status"],
         "properties": {"name": {"type": "string"}, "description": {"type": "string"},
                        "status": {"type": "string", "enum": [
                            "PENDING", "RUNNING", "DONE", "FAILED", "SKIPPED"]},
                        "detail": _TEXT, "items": {"type": "array",
                                                   "items": {"type": "string"}},
                        "started_at": _TIME, "finished_at": _TIME}}
_POINT = {"type": "object", "required": ["id", "plan_id", "status", "taken_at", "size_gb"],
          "properties": {
              "id": {"type": "string"}, "plan_id": {"type": "string"},
              "sequence": {"type": "integer"},
              "status": {"type": "string", "enum": list(RESTORE_POINT_STATUSES)},
              "purpose": {"type": "string"}, "method": {"type": "string"},
              "region": {"type": "string"}, "target_region": {"type": "string"},
              "taken_at": _TIME, "completed_at": _TIME, "created_at": _TIME,
              "size_gb": {"type": "integer"}, "volumes": {"type": "integer"},
              "incremental": {"type": "boolean"}, "error": _TEXT,
              "steps": {"type": "array", "items": _STEP},
              "shape": {"type": "object", "nullable": True},
              "backups": {"type": "array", "items": {"type": "object"}}}}
_POINTS = {"type": "object", "required": ["restore_points"],
           "properties": {"restore_points": {"type": "array", "items": _POINT}}}
_OPERATION = {"type": "object", "required": ["id", "plan_id", "kind", "status", "steps"],
              "properties": {
                  "id": {"type": "string"}, "plan_id": {"type": "string"},
                  "project_id": {"type": "string"},
                  "kind": {"type": "string", "enum": list(OPERATION_KINDS)},
                  "status": {"type": "string", "enum": list(OPERATION_STATUSES)},
                  "restore_point_id": _TEXT, "from_region": {"type": "string"},
                  "to_region": {"type": "string"}, "requested_by": {"type": "string"},
                  "error": _TEXT, "created_at": _TIME, "started_at": _TIME,
                  "finished_at": _TIME, "progress": {"type": "string"},
                  "steps": {"type": "array", "items": _STEP}}}
_ONE_OPERATION = {"type": "object", "required": ["operation"],
                  "properties": {"operation": _OPERATION}}
_DRY_RUN = {"type": "object", "required": ["dry_run"], "properties": {"dry_run": {
    "type": "object", "required": ["kind", "from_region", "to_region", "steps"],
    "properties": {"plan_id": {"type": "string"}, "kind": {"type": "string"},
                   "from_region": {"type": "string"}, "to_region": {"type": "string"},
                   "restore_point": _TEXT, "restore_point_taken_at": _TIME,
                   "steps": {"type": "array", "items": _STEP}}}}}


_PLAN_RULE = "/os-dr/plans/<uuid:plan_id>"
_POINT_RULE = f"{_PLAN_RULE}/restore-points/<uuid:point_id>"

OPENAPI: dict[tuple[str, str], dict] = {
    ("POST", "/os-dr/plans"): {"request": CREATE_PLAN, "responses": {
        201: _ONE_PLAN, 409: _ERROR, 502: _ERROR, 503: _ERROR}},
    ("GET", "/os-dr/plans"): {"responses": {200: _PLANS}},
    ("GET", _PLAN_RULE): {"responses": {200: _ONE_PLAN}},
    ("PUT", _PLAN_RULE): {"request": UPDATE_PLAN, "responses": {200: _ONE_PLAN, 409: _ERROR}},
    ("DELETE", _PLAN_RULE): {"responses": {202: {"type": "object"}, 409: _ERROR}},
    ("POST", f"{_PLAN_RULE}/restore-points"): {
        "request": RESTORE_POINT_REQUEST, "request_required": False,
        "responses": {202: {"type": "object"}, 409: _ERROR}},
    ("GET", f"{_PLAN_RULE}/restore-points"): {"responses": {200: _POINTS}},
    ("GET", _POINT_RULE): {"responses": {200: {
        "type": "object", "required": ["restore_point"],
        "properties": {"restore_point": _POINT}}}},
    ("DELETE", _POINT_RULE): {"responses": {202: {"type": "object"}, 409: _ERROR}},
    ("POST", f"{_PLAN_RULE}/failover"): {
        "request": RECOVERY[("failover", True)], "request_required": False,
        "responses": {200: _DRY_RUN, 202: _ONE_OPERATION, 409: _ERROR}},
    ("POST", f"{_PLAN_RULE}/failback"): {
        "request": RECOVERY[("failback", False)], "request_required": False,
        "responses": {200: _DRY_RUN, 202: _ONE_OPERATION, 409: _ERROR}},
    ("GET", "/os-dr/operations"): {"responses": {200: {
        "type": "object", "required": ["operations"],
        "properties": {"operations": {"type": "array", "items": _OPERATION}}}}},
    ("GET", "/os-dr/operations/<uuid:operation_id>"): {"responses": {200: _ONE_OPERATION}},
}

# The list routes are paged (kingbird.api.pagination).
_ALL_PROJECTS = {"name": "all_projects", "schema": {"type": "string"},
                 "description": "1 or true: every project's plans (administrators)."}
_PLAN_ID = {"name": "plan_id", "schema": {"type": "string"},
            "description": "Only the operations of this plan."}
for _key, _collection, _filters in ((("GET", "/os-dr/plans"), "plans", [_ALL_PROJECTS]),
                                    (("GET", f"{_PLAN_RULE}/restore-points"), "restore_points",
                                     []),
                                    (("GET", "/os-dr/operations"), "operations", [_PLAN_ID])):
    OPENAPI[_key] = {**OPENAPI[_key], "query": [*_filters, *pagination.QUERY], "responses": {
        **OPENAPI[_key]["responses"],
        200: pagination.with_links(OPENAPI[_key]["responses"][200], _collection)}}
